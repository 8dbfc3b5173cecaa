package app.fieldwork.test

import java.io.File
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.time.Duration

/**
 * A real `fieldwork serve` on a free loopback port with its own data
 * directory, provisioned with the `fieldwork admin` command as an operator
 * would: tenant `acme`, engineers `eng-a` and `eng-b`, dispatcher `desk`.
 */
class Server(private val exe: String) : AutoCloseable {
    val dir: File = Files.createTempDirectory("fieldwork-kotlin").toFile()
    private val data = File(dir, "server")
    private val process: Process
    val url: String
    val desk: Desk

    init {
        admin("tenant", "acme", "ACME Service")
        admin("engineer", "acme", "eng-a", "Zhang Wei")
        admin("engineer", "acme", "eng-b", "Li Na")
        val token = admin("dispatcher", "acme", "desk", "Desk")
        process =
            ProcessBuilder(exe, "serve", "--listen", "127.0.0.1:0", "--data", data.path)
                .redirectError(ProcessBuilder.Redirect.INHERIT)
                .start()
        val out = process.inputStream.bufferedReader()
        val first = out.readLine() ?: error("fieldwork serve exited before saying where it listens")
        url = first.removePrefix("fieldwork: serving on ").trim()
        check(url.startsWith("http://127.0.0.1:")) { "unexpected first line: $first" }
        Thread { out.forEachLine { } }.apply { isDaemon = true }.start()
        desk = Desk(url, token)
    }

    fun admin(vararg args: String): String {
        val p =
            ProcessBuilder(listOf(exe, "admin", "--data", data.path) + args)
                .redirectErrorStream(true)
                .start()
        val text = p.inputStream.bufferedReader().readText().trim()
        check(p.waitFor() == 0) { "fieldwork admin ${args.toList()}: $text" }
        return text
    }

    /** A fresh store path for a phone. */
    fun phoneStore(name: String): String = File(dir, "$name.db").path

    override fun close() {
        process.destroyForcibly().waitFor()
        dir.deleteRecursively()
    }
}

/** The dispatcher's side: the JSON API with the desk's token. */
class Desk(private val url: String, private val token: String) {
    private val http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()

    fun call(method: String, path: String, body: String? = null): Pair<Int, Any?> {
        val req =
            HttpRequest.newBuilder(URI.create(url + path))
                .timeout(Duration.ofSeconds(30))
                .header("authorization", "Bearer $token")
                .header("content-type", "application/json")
                .method(method, body?.let { HttpRequest.BodyPublishers.ofString(it) } ?: HttpRequest.BodyPublishers.noBody())
                .build()
        val resp = http.send(req, HttpResponse.BodyHandlers.ofString())
        return resp.statusCode() to (if (resp.body().isBlank()) null else Json.parse(resp.body()))
    }

    /** GET `path`'s raw bytes. */
    fun bytes(path: String): Pair<Int, ByteArray> {
        val req =
            HttpRequest.newBuilder(URI.create(url + path))
                .timeout(Duration.ofSeconds(30))
                .header("authorization", "Bearer $token")
                .GET()
                .build()
        val resp = http.send(req, HttpResponse.BodyHandlers.ofByteArray())
        return resp.statusCode() to resp.body()
    }

    fun ok(method: String, path: String, body: String? = null): Any? {
        val (status, json) = call(method, path, body)
        check(status in 200..299) { "$method $path: $status $json" }
        return json
    }

    fun addPart(sku: String, name: String, priceMinor: Long) {
        ok(
            "POST",
            "/api/catalog",
            """{"sku":${Json.quote(sku)},"name":${Json.quote(name)},"unit_price_minor":$priceMinor,"low_stock_threshold":2}""",
        )
    }

    /** Take an order at intake and dispatch it to `engineer`; returns its id. */
    fun dispatch(n: Int, engineer: String, urgent: Boolean = false): String {
        val intake =
            """
            {"channel":"phone",
             "customer":{"name":${Json.quote("客户 $n Customer")},"phone":"+86 21 5555 ${1000 + n}","email":null,"address":"上海市 $n 号","member":false},
             "product":{"model":"AC-900","serial":"SN-$n","purchase_date":"2026-10-01","proof_of_purchase":"INV-$n"},
             "fault":{"symptoms":"no cooling after start","frequency":null,"since":null,"environment":null,"already_tried":null},
             "category":"product_quality","priority":"${if (urgent) "urgent" else "normal"}",
             "promised_by_ms":null,"site_zone":"urban"}
            """.trimIndent()
        val id = ok("POST", "/api/orders", intake)["id"] as String
        ok("POST", "/api/orders/$id/assign", """{"engineer":${Json.quote(engineer)}}""")
        return id
    }

    fun enrolmentCode(engineer: String): String = ok("POST", "/api/engineers/$engineer/enrolment-codes")["code"] as String

    fun order(id: String): Any? = ok("GET", "/api/orders/$id")
}

/** Wait up to `seconds` for `cond`; false if it never held. */
fun eventually(seconds: Long = 15, cond: () -> Boolean): Boolean {
    val deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos()
    while (System.nanoTime() < deadline) {
        if (cond()) return true
        Thread.sleep(20)
    }
    return cond()
}
