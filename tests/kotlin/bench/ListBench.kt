package app.fieldwork.bench

import app.fieldwork.Fieldwork
import app.fieldwork.OrderFilter
import app.fieldwork.OrderSort
import kotlin.system.exitProcess

/**
 * `ffi.list50_kotlin_vs_rust`, the Kotlin half: the 50 most urgent open
 * orders of the store given as the first argument, listed through the
 * generated bindings; prints the median of 200 calls in milliseconds after
 * 100 calls to warm the JIT. scripts/bench runs it; fieldwork-bench times the
 * same call in Rust on the same store.
 */
fun main(args: Array<String>) {
    val fw = Fieldwork.open(args[0], "eng-bench")
    val filter = OrderFilter(openOnly = true, sort = OrderSort.URGENCY, limit = 50u)
    repeat(100) { check(fw.listOrders(filter).size == 50) { "expected 50 orders" } }
    val samples =
        LongArray(200) {
            val t = System.nanoTime()
            val rows = fw.listOrders(filter)
            val elapsed = System.nanoTime() - t
            check(rows.size == 50 && rows[0].urgent) { "the urgent list is not what the benchmark expects" }
            elapsed
        }
    samples.sort()
    println(samples[samples.size / 2] / 1e6)
    fw.close()
    exitProcess(0)
}
