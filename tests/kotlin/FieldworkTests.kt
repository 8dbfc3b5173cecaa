package app.fieldwork.test

import app.fieldwork.ClockKind
import app.fieldwork.ComplaintCategory
import app.fieldwork.ConsentInput
import app.fieldwork.ConsentKind
import app.fieldwork.DiagnosisInput
import app.fieldwork.FaultKind
import app.fieldwork.FeeKind
import app.fieldwork.Fieldwork
import app.fieldwork.FieldworkException
import app.fieldwork.FieldworkSync
import app.fieldwork.Location
import app.fieldwork.OrderFilter
import app.fieldwork.OrderSort
import app.fieldwork.PhotoKind
import app.fieldwork.QcItem
import app.fieldwork.Rating
import app.fieldwork.SignatureState
import app.fieldwork.Status
import app.fieldwork.Stroke
import app.fieldwork.StrokePoint
import app.fieldwork.SyncEvent
import app.fieldwork.SyncListener
import app.fieldwork.SyncSession
import app.fieldwork.SyncStatus
import app.fieldwork.enrol
import app.fieldwork.openOrders
import app.fieldwork.panicProbe
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.cancelAndJoin
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import app.fieldwork.DeviceKeyException
import app.fieldwork.DeviceSigner
import app.fieldwork.JcaDeviceSigner
import app.fieldwork.WrappedStoreKey
import app.fieldwork.encryptStore
import java.io.File
import java.security.KeyPairGenerator
import java.security.spec.ECGenParameterSpec
import javax.crypto.KeyGenerator
import java.util.Collections
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.CountDownLatch
import java.util.concurrent.TimeUnit
import kotlin.system.exitProcess
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

/*
 * The engineer's app, played through the generated Kotlin bindings on the JVM
 * against a real `fieldwork serve` on loopback. Run by scripts/kotlin-test;
 * `-Dfieldwork.exe` names the server binary, `-Djna.library.path` the library.
 */

private val exe: String = System.getProperty("fieldwork.exe") ?: error("-Dfieldwork.exe=… is required")

/** A phone: its store, enrolled with the server for `engineer`. */
private class Phone(server: Server, name: String, engineer: String) {
    val fw: Fieldwork = Fieldwork.open(server.phoneStore(name), engineer)
    val token: String = enrol(fw, server.url, server.desk.enrolmentCode(engineer)).token
}

private fun strokes(n: Int): List<Stroke> =
    (0 until n).map { s ->
        Stroke((0 until 20).map { i -> StrokePoint(i * 7.5, s * 30.0 + i % 4, i * 16L) })
    }

private fun qc(pass: Boolean) =
    listOf("appearance", "function", "performance").map { QcItem(it, pass || it != "function", null) }

private fun diagnosis() = DiagnosisInput("E21", FaultKind.HARDWARE, "relay contacts burnt", listOf("RLY"), 0L, false)

/** The whole day: enrol, prime with progress, a visit offline with every step, back online, and the desk sees it all. */
fun engineersWholeDay() {
    Server(exe).use { server ->
        val desk = server.desk
        desk.addPart("RLY", "Relay", 4_500)
        val ids = (1..30).map { desk.dispatch(it, "eng-a", urgent = it % 7 == 0) }
        val phone = Phone(server, "phone-a", "eng-a")
        val fw = phone.fw
        assertEquals("eng-a", fw.user())

        FieldworkSync(fw, server.url, phone.token).use { sync ->
            val events = CopyOnWriteArrayList<SyncEvent>()
            runBlocking {
                val collector = launch(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) { sync.events.collect { events.add(it) } }

                // Morning: prime the phone with the day's orders, on this thread.
                sync.setOnline(true)
                val primed = sync.syncNow()
                assertEquals(30uL, primed.pulledDocs, "the 30 orders came down whole: $primed")
                assertTrue(eventually { events.any { it is SyncEvent.Status && it.status == SyncStatus.Idle } }, "idle after priming: $events")
                val progress = events.filterIsInstance<SyncEvent.Progress>()
                assertTrue(progress.isNotEmpty(), "progress events while priming: $events")
                assertEquals(progress.last().done, progress.last().total, "priming progress ends complete")
                assertEquals(SyncStatus.Idle, sync.status.value)
                val changed = events.filterIsInstance<SyncEvent.OrdersChanged>().flatMap { it.ids }.toSet()
                assertTrue(changed.containsAll(ids), "every primed order was announced as changed")
                collector.cancelAndJoin()
            }

            val open = fw.openOrders()
            assertEquals(30, open.size)
            assertTrue(open.first().urgent, "urgent orders first")
            assertEquals(ids.toSet(), open.map { it.id }.toSet())
            assertEquals(listOf("RLY"), fw.catalog().map { it.sku }, "the catalog came down")
            assertTrue(fw.vanStock().isEmpty(), "the van stock came down, empty")

            // In the van, out of signal. From here the background thread
            // syncs whenever the phone is online.
            sync.setOnline(false)
            assertEquals(SyncStatus.Offline, sync.status.value)
            sync.start()
            fw.receiveStock("RLY", 2)
            val id = ids.first()
            fw.accept(id)
            fw.enRoute(id)
            fw.arrive(id, Location(31.23, 121.47, 8.0))
            fw.diagnose(id, diagnosis())
            val warranty = fw.decideWarranty(id, true, false)
            assertTrue(warranty.inWarranty, "bought in October: in warranty")
            val consentId =
                fw.recordConsent(
                    id,
                    ConsentInput(ConsentKind.EXTRA_WORK, true, "客户", "clean the condenser", listOf(), strokes(1)),
                )
            fw.startWork(id)
            fw.usePart(id, "RLY", 1L, true)
            fw.addFee(id, FeeKind.LABOUR, "relay swap", 9_000L)
            fw.addNote(id, "replaced relay, tested three cycles")
            fw.markRepaired(id)
            assertTrue(fw.recordQc(id, qc(true)), "QC passed")
            val report = fw.serviceReport(id)
            assertTrue(report.contains("E21") && report.contains("Relay"), "the report lists the fault and the part")
            // The customer reads and signs the report in Chinese.
            val chinese = fw.serviceReportIn(id, "zh-CN")
            assertTrue(chinese.startsWith("服务报告 "), chinese)
            assertFailsWith<FieldworkException.InvalidInput> { fw.serviceReportIn(id, "fr") }
            fw.captureSignatureIn(id, "客户", strokes(3), "zh-CN")
            assertEquals(chinese, fw.serviceReport(id), "the report as signed")
            assertEquals("UTC", fw.timeZone())
            fw.rate(id, Rating.SATISFIED, 5L, "很好")

            val local = fw.order(id)
            assertEquals(Status.SIGNED_OFF, local.status)
            assertEquals(SignatureState.VALID, local.signature)
            assertEquals(0L, local.fees.customerPayableMinor, "in warranty: nothing to pay")
            assertTrue(local.clocks.any { it.kind == ClockKind.REPAIR }, "the repair clock is shown")
            assertEquals(1L, fw.vanStock().single().onHand, "one relay left in the van")
            assertTrue(fw.pendingChanges() > 0, "the visit waits in the outbox")
            val offline = assertFailsWith<FieldworkException.Network> { sync.syncNow() }
            assertEquals("offline", offline.detail)
            assertEquals("offline", offline.code)

            // Back in signal.
            sync.setOnline(true)
            assertTrue(eventually { fw.pendingChanges() == 0L }, "the outbox drained")

            val v = desk.order(id)
            assertEquals("signed_off", v["status"])
            assertEquals("valid", v["signature"])
            val order = v["order"]
            assertEquals("eng-a", order["assignee"])
            val timeline = order["events"].list()
            assertEquals(
                listOf("dispatched", "accepted", "en_route", "on_site", "in_progress", "repaired", "qc_passed", "signed_off"),
                timeline.map { it["to"] },
            )
            val arrival = timeline.first { it["to"] == "on_site" }
            assertEquals(31.23, arrival["location"]["lat"])
            assertEquals(fw.deviceId(), arrival["device"], "the timeline names the phone")
            assertEquals("E21", order["diagnosis"]["fault_code"])
            assertEquals(true, order["warranty"]["in_warranty"])
            assertEquals(consentId, order["consents"][0]["id"])
            assertEquals(1, order["consents"][0]["strokes"].list().size)
            assertEquals("RLY", order["parts"][0]["sku"])
            assertEquals(9_000.0, order["fees"][0]["amount_minor"])
            assertEquals(1, order["repair_notes"].list().size)
            assertEquals(true, order["qc"][0]["passed"])
            assertEquals("客户", order["sign_off"]["signer_name"])
            assertEquals(3, order["sign_off"]["strokes"].list().size)
            assertEquals("satisfied", order["satisfaction"]["rating"])
            assertEquals("很好", order["satisfaction"]["comment"])
            assertTrue(v["conflicts"].list().isEmpty())
        }
    }
}

/** Each FieldworkError variant arrives as its FieldworkException subclass, with a readable message, and changes nothing. */
fun everyErrorIsAKotlinException() {
    Server(exe).use { server ->
        server.desk.addPart("RLY", "Relay", 4_500)
        val id = server.desk.dispatch(1, "eng-a")
        val phone = Phone(server, "phone-a", "eng-a")
        val fw = phone.fw
        SyncSession(fw, server.url, phone.token, Quiet).use { s ->
            s.setOnline(true)
            s.syncNow()
        }
        val before = fw.order(id)

        val invalid = assertFailsWith<FieldworkException.InvalidInput> { fw.addFee(id, FeeKind.LABOUR, "", 100L) }
        assertTrue(invalid.detail.contains("description"), "names the field: ${invalid.detail}")
        val score = assertFailsWith<FieldworkException.InvalidInput> { fw.rate(id, Rating.SATISFIED, 9L, null) }
        assertTrue(score.detail.contains("between 1 and 5"), score.detail)
        // A stable code and its arguments, for the app's own messages.
        assertEquals("invalid", score.code)
        assertEquals("score", score.args["field"])
        assertEquals("score_range", score.args["reason_code"])

        val missing = assertFailsWith<FieldworkException.NotFound> { fw.order("wo-does-not-exist") }
        assertTrue(missing.detail.contains("not found"), missing.detail)

        val early = assertFailsWith<FieldworkException.NotAllowed> { fw.markRepaired(id) }
        assertTrue(early.detail.contains("dispatched"), "says why: ${early.detail}")
        assertEquals("illegal_transition", early.code)
        assertEquals("dispatched", early.args["from"])

        fw.accept(id)
        fw.enRoute(id)
        fw.arrive(id, null)
        fw.diagnose(id, diagnosis())
        fw.decideWarranty(id, true, false)
        fw.startWork(id)
        val out = assertFailsWith<FieldworkException.OutOfStock> { fw.usePart(id, "RLY", 3L, false) }
        assertTrue(out.detail.contains("0 on hand, 3 wanted"), out.detail)
        assertEquals(mapOf("sku" to "RLY", "on_hand" to "0", "wanted" to "3"), out.args)

        val refused = assertFailsWith<FieldworkException.Unauthorized> { enrol(fw, server.url, "not-a-code") }
        assertTrue(refused.detail.startsWith("enrolment refused"), refused.detail)
        SyncSession(fw, server.url, "not-a-token", Quiet).use { s ->
            s.setOnline(true)
            val e = assertFailsWith<FieldworkException.Unauthorized> { s.syncNow() }
            assertTrue(e.detail.contains("token"), e.detail)
        }

        SyncSession(fw, "http://127.0.0.1:9", phone.token, Quiet).use { s ->
            s.setOnline(true)
            val e = assertFailsWith<FieldworkException.Network> { s.syncNow() }
            assertTrue(e.detail.contains("could not be reached"), e.detail)
        }

        val file = File(server.dir, "plain-file").apply { writeText("not a directory") }
        val storage = assertFailsWith<FieldworkException.Storage> { Fieldwork.open(File(file, "phone.db").path, "eng-a") }
        assertTrue(storage.detail.isNotBlank())
        val blankUser = assertFailsWith<FieldworkException.InvalidInput> { Fieldwork.open(server.phoneStore("other"), "") }
        assertTrue(blankUser.detail.contains("user"), blankUser.detail)

        // A panic in the core arrives as an exception, and the store carries on.
        val panic = assertFailsWith<FieldworkException.Internal> { panicProbe() }
        assertTrue(panic.detail.contains("internal error in Fieldwork: panic probe"), panic.detail)

        // Nothing the refused calls tried is on the order.
        val after = fw.order(id)
        assertEquals(before.order.fees, after.order.fees)
        assertEquals(null, after.order.satisfaction)
        assertTrue(after.order.parts.isEmpty())
        assertEquals(Status.IN_PROGRESS, after.status)
    }
}

/** One store, eight Kotlin threads writing and reading at once: every write lands, nothing throws. */
fun manyThreadsAtOnce() {
    Server(exe).use { server ->
        val ids = (1..4).map { server.desk.dispatch(it, "eng-a") }
        val phone = Phone(server, "phone-a", "eng-a")
        val fw = phone.fw
        SyncSession(fw, server.url, phone.token, Quiet).use { s ->
            s.setOnline(true)
            s.syncNow()
        }
        val failures = Collections.synchronizedList(mutableListOf<Throwable>())
        val start = CountDownLatch(1)
        val threads =
            (0 until 8).map { t ->
                Thread {
                    start.await()
                    try {
                        repeat(25) { i ->
                            fw.addNote(ids[t % ids.size], "thread $t note $i")
                            assertEquals(4, fw.listOrders(OrderFilter(sort = OrderSort.NEWEST)).size)
                            fw.order(ids[(t + i) % ids.size])
                        }
                    } catch (e: Throwable) {
                        failures.add(e)
                    }
                }.apply { start() }
            }
        start.countDown()
        threads.forEach { it.join(60_000) }
        assertTrue(failures.isEmpty(), "no call failed: $failures")
        assertEquals(200, ids.sumOf { fw.order(it).order.repairNotes.size }, "every note from every thread is there")
        SyncSession(fw, server.url, phone.token, Quiet).use { s ->
            s.setOnline(true)
            s.syncNow()
        }
        assertEquals(200, ids.sumOf { server.desk.order(it)["order"]["repair_notes"].list().size }, "and on the server")
    }
}

/** The app's own SyncListener hears the background thread: status, and the orders the desk changed. */
fun listenerReceivesEvents() {
    Server(exe).use { server ->
        val phone = Phone(server, "phone-a", "eng-a")
        val listener = Heard()
        val heard = listener.events
        SyncSession(phone.fw, server.url, phone.token, listener).use { s ->
            s.start()
            s.setOnline(true)
            assertTrue(eventually { heard.contains(SyncEvent.Status(SyncStatus.Idle)) }, "first sync done: $heard")
            val id = server.desk.dispatch(7, "eng-a")
            s.poke()
            assertTrue(
                eventually { heard.any { it is SyncEvent.OrdersChanged && id in it.ids } },
                "the new order was announced: $heard",
            )
            assertEquals(Status.DISPATCHED, phone.fw.order(id).status)
            assertTrue(heard.contains(SyncEvent.Status(SyncStatus.Syncing)))
            // Let that sync finish, so that going offline is the last word.
            assertTrue(eventually { heard.last() == SyncEvent.Status(SyncStatus.Idle) })
            s.setOnline(false)
            assertTrue(eventually { heard.last() == SyncEvent.Status(SyncStatus.Offline) })
            s.stop()
        }
        // A listener that throws does not take the sync down.
        val throwing =
            object : SyncListener {
                override fun onEvent(event: SyncEvent): Unit = throw IllegalStateException("app bug")
            }
        SyncSession(phone.fw, server.url, phone.token, throwing).use { s ->
            s.setOnline(true)
            val id = server.desk.dispatch(8, "eng-a")
            s.syncNow()
            assertEquals(Status.DISPATCHED, phone.fw.order(id).status)
        }
    }
}

fun refusedWorkIsKeptInTheQuarantine() {
    Server(exe).use { server ->
        val desk = server.desk
        val mine = desk.dispatch(1, "eng-a")
        val other = desk.dispatch(2, "eng-a")
        val phone = Phone(server, "phone-q", "eng-a")
        val fw = phone.fw
        FieldworkSync(fw, server.url, phone.token).use { sync ->
            sync.setOnline(true)
            sync.syncNow()
            // Registering a complaint is the desk's: the server refuses it.
            fw.registerComplaint(mine, "the customer is unhappy", ComplaintCategory.SERVICE_ATTITUDE, false)
            fw.addNote(other, "fan cleaned")
            val summary = sync.syncNow()
            assertEquals(1uL, summary.refusedDocs, "$summary")
            assertEquals(0L, fw.pendingChanges(), "the outbox keeps flowing")
            assertEquals(1, desk.order(other)["order"]["repair_notes"].list().size, "the other order's note arrived")

            val q = fw.quarantined()
            assertEquals(1, q.size, "$q")
            assertEquals(mine, q[0].docId)
            assertEquals("complaint", q[0].intent)
            assertTrue(q[0].reason.contains("complaints are handled by the desk"), q[0].reason)
            assertTrue(q[0].touched.contains("complaints"), "${q[0].touched}")
            assertTrue(fw.exportQuarantine().contains(q[0].hash), "the export names the change")

            fw.discardQuarantined(q[0].id)
            assertTrue(fw.quarantined().isEmpty())
            assertFailsWith<FieldworkException.NotFound> { fw.discardQuarantined(q[0].id) }
        }
    }
}

fun photosTakenOfflineReachTheServer() {
    Server(exe).use { server ->
        val id = server.desk.dispatch(4, "eng-a")
        val phone = Phone(server, "phone-p", "eng-a")
        val listener = Heard()
        val heard = listener.events
        SyncSession(phone.fw, server.url, phone.token, listener).use { s ->
            s.setOnline(true)
            s.syncNow()
            s.setOnline(false)
            // In the basement: a photo of the fault, 1.2 MB.
            val bytes = ByteArray(1_200_000) { (it * 31 + 7).toByte() }
            bytes[0] = 0xFF.toByte(); bytes[1] = 0xD8.toByte(); bytes[2] = 0xFF.toByte(); bytes[3] = 0xE0.toByte()
            val file = File.createTempFile("fault", ".jpg").apply { writeBytes(bytes) }
            val photo = phone.fw.attachPhoto(id, file.path, PhotoKind.FAULT, "burnt relay")
            file.delete()
            val sha = java.security.MessageDigest.getInstance("SHA-256").digest(bytes).joinToString("") { "%02x".format(it) }
            assertEquals(sha, photo.hash)
            assertEquals(1uL, phone.fw.blobsWaiting().count, "one photo waiting")
            assertTrue(phone.fw.photoFile(id, photo.id) != null, "kept in the store")
            assertFailsWith<FieldworkException.Network> { s.syncNow() }

            s.setOnline(true)
            val summary = s.syncNow()
            assertEquals(1uL, summary.blobsUploaded, "$summary")
            assertEquals(0uL, phone.fw.blobsWaiting().count)
            val last = heard.filterIsInstance<SyncEvent.Upload>().last()
            assertEquals(last.total, last.sent, "progress reached the end: $heard")
            val (status, served) = server.desk.bytes("/api/orders/$id/photos/${photo.id}")
            assertEquals(200, status)
            assertTrue(served.contentEquals(bytes), "the server has exactly the photo")

            // The engineer's second phone has the record, and the bytes when it asks.
            val second = Phone(server, "phone-p2", "eng-a")
            FieldworkSync(second.fw, server.url, second.token).use { sync2 ->
                sync2.setOnline(true)
                sync2.syncNow()
                assertEquals(null, second.fw.photoFile(id, photo.id), "not fetched until asked")
                val path = sync2.fetchPhoto(id, photo.id)
                assertTrue(File(path).readBytes().contentEquals(bytes), "fetched whole")
            }

            val text = File.createTempFile("notes", ".jpg").apply { writeText("not a photo") }
            val e = assertFailsWith<FieldworkException.InvalidInput> { phone.fw.attachPhoto(id, text.path, PhotoKind.OTHER, null) }
            assertEquals("not_a_photo", e.args["reason_code"], "${e.args}")
            text.delete()
        }
    }
}

/** The customer's PDF, made on the phone offline through the bindings, is the desk's PDF byte for byte. */
fun theCustomersPdfIsMadeOnThePhone() {
    val font = File(System.getProperty("fieldwork.font") ?: error("-Dfieldwork.font=… is required"))
    Server(exe).use { server ->
        server.desk.addPart("RLY", "Relay", 4_500)
        val id = server.desk.dispatch(5, "eng-a")
        val phone = Phone(server, "phone-pdf", "eng-a")
        val fw = phone.fw
        SyncSession(fw, server.url, phone.token, Quiet).use { s ->
            s.setOnline(true)
            s.syncNow()
            s.setOnline(false)
            // Before the font is given: a typed error, nothing else.
            val missing = assertFailsWith<FieldworkException.InvalidInput> { fw.serviceReportPdf(id) }
            assertEquals("report_font", missing.code, "${missing.args}")
            // The module's way in: the asset copied into the app's folder once.
            val dir = java.nio.file.Files.createTempDirectory("fonts").toFile()
            val installed = app.fieldwork.ReportFonts.install(fw, dir) { font.inputStream() }
            assertEquals(font.length(), installed.length())
            fw.receiveStock("RLY", 1)
            fw.accept(id)
            fw.enRoute(id)
            fw.arrive(id, null)
            fw.diagnose(id, diagnosis())
            fw.decideWarranty(id, true, false)
            fw.startWork(id)
            fw.usePart(id, "RLY", 1L, true)
            fw.markRepaired(id)
            fw.recordQc(id, qc(true))
            fw.captureSignatureIn(id, "王小明", strokes(3), "zh-CN")
            val pdf = fw.serviceReportPdf(id)
            assertTrue(String(pdf, 0, 5, Charsets.US_ASCII) == "%PDF-", "a PDF")
            assertTrue(pdf.size < 150_000, "only the glyphs used are embedded: ${pdf.size} bytes")
            s.setOnline(true)
            s.syncNow()
            val (status, atDesk) = server.desk.bytes("/api/orders/$id/report.pdf")
            assertEquals(200, status)
            assertTrue(atDesk.contentEquals(pdf), "the desk's PDF is the phone's")
        }
    }
}


/**
 * The phone's store encrypted under a key kept wrapped by a platform key (a
 * JVM AES key standing in for the Keystore's), and its records attested by
 * a Kotlin [DeviceSigner] (a JVM P-256 key standing in for the Keystore's):
 * the server pins the key at enrolment, verifies the signature, consent and
 * QC, and the desk sees which device signed.
 */
fun encryptedStoreAndKotlinDeviceKey() {
    Server(exe).use { server ->
        val desk = server.desk
        desk.addPart("RLY", "Relay", 4_500)
        val id = desk.dispatch(1, "eng-a")
        val wrapping = KeyGenerator.getInstance("AES").apply { init(256) }.generateKey()
        val keyFile = File(server.dir, "store.key.wrapped")
        val storeKey = WrappedStoreKey(keyFile, wrapping).get()
        assertTrue(WrappedStoreKey(keyFile, wrapping).get().contentEquals(storeKey), "the same key unwrapped again")
        assertTrue(!keyFile.readBytes().toList().windowed(32).any { it.toByteArray().contentEquals(storeKey) }, "kept wrapped")

        val path = server.phoneStore("phone-enc")
        val fw = Fieldwork.openEncrypted(path, "eng-a", storeKey)
        val pair = KeyPairGenerator.getInstance("EC").apply { initialize(ECGenParameterSpec("secp256r1")) }.generateKeyPair()
        fw.useDeviceSigner(JcaDeviceSigner(pair, hardwareBacked = false))
        val token = enrol(fw, server.url, desk.enrolmentCode("eng-a")).token
        FieldworkSync(fw, server.url, token).use { sync ->
            sync.setOnline(true)
            sync.syncNow()
            fw.receiveStock("RLY", 1)
            fw.accept(id)
            fw.enRoute(id)
            fw.arrive(id, null)
            fw.diagnose(id, diagnosis())
            fw.decideWarranty(id, true, false)
            fw.recordConsent(id, ConsentInput(ConsentKind.FEE_LIST, true, "Zhao Lei", "fee list", emptyList(), strokes(1)))
            fw.startWork(id)
            fw.usePart(id, "RLY", 1L, true)
            fw.markRepaired(id)
            fw.recordQc(id, qc(true))
            fw.captureSignature(id, "Zhao Lei", strokes(2))
            val summary = sync.syncNow()
            assertEquals(0uL, summary.refusedDocs, "$summary")
        }
        val order = desk.order(id)["order"]
        val attestation = order["sign_off"]["attestation"]
        assertEquals(fw.deviceId(), attestation["device"], "attested by this phone: $order")
        assertEquals("software", attestation["backing"])
        assertEquals(fw.deviceId(), order["consents"][0]["attestation"]["device"])
        assertEquals(fw.deviceId(), order["qc"][0]["attestation"]["device"])
        assertTrue(!File(path).readBytes().toList().windowed(8).any { String(it.toByteArray(), Charsets.UTF_8) == "Zhao Lei" }, "no name in the file")
        fw.destroy()

        // The wrong key, or none: Locked, and the store still opens with its own.
        val wrong = ByteArray(32) { 7 }
        val locked = assertFailsWith<FieldworkException.Locked> { Fieldwork.openEncrypted(path, "eng-a", wrong) }
        assertEquals("wrong_key", locked.args["reason_code"])
        val none = assertFailsWith<FieldworkException.Locked> { Fieldwork.open(path, "eng-a") }
        assertEquals("key_needed", none.args["reason_code"])
        assertFailsWith<FieldworkException.InvalidInput> { Fieldwork.openEncrypted(path, "eng-a", ByteArray(16)) }
        val again = Fieldwork.openEncrypted(path, "eng-a", storeKey)
        assertEquals(Status.SIGNED_OFF, again.order(id).status)

        // A key store that refuses to sign: nothing is recorded.
        again.useDeviceSigner(
            object : DeviceSigner {
                override fun publicKey(): ByteArray = pair.public.encoded
                override fun sign(payload: ByteArray): ByteArray = throw DeviceKeyException.Failed("user not authenticated")
                override fun hardwareBacked(): Boolean = true
            },
        )
        val other = desk.dispatch(2, "eng-a")
        val refused = assertFailsWith<FieldworkException.Signer> {
            again.recordConsent(id, ConsentInput(ConsentKind.EXTRA_WORK, true, "Zhao Lei", "more", emptyList(), strokes(1)))
        }
        assertEquals("user not authenticated", refused.args["reason"])
        assertEquals(1, again.order(id).order.consents.size, "nothing recorded")
        assertTrue(other.isNotEmpty())

        // A plain store moved to an encrypted one, then rekeyed.
        val plainPath = server.phoneStore("phone-plain")
        val plain = Fieldwork.open(plainPath, "eng-a")
        val deviceId = plain.deviceId()
        plain.destroy()
        encryptStore(plainPath, storeKey)
        assertFailsWith<FieldworkException.Locked> { Fieldwork.open(plainPath, "eng-a") }
        val moved = Fieldwork.openEncrypted(plainPath, "eng-a", storeKey)
        assertEquals(deviceId, moved.deviceId(), "the same store, encrypted")
        val next = ByteArray(32) { (it * 3).toByte() }
        moved.rekey(next)
        moved.destroy()
        assertFailsWith<FieldworkException.Locked> { Fieldwork.openEncrypted(plainPath, "eng-a", storeKey) }
        Fieldwork.openEncrypted(plainPath, "eng-a", next).destroy()
    }
}

/** Keeps every event the sync session reports. */
private class Heard : SyncListener {
    val events = CopyOnWriteArrayList<SyncEvent>()

    override fun onEvent(event: SyncEvent) {
        events.add(event)
    }
}

private object Quiet : SyncListener {
    override fun onEvent(event: SyncEvent) {}
}

fun main() {
    val tests =
        listOf(
            "the engineer's whole day" to ::engineersWholeDay,
            "every error is a Kotlin exception" to ::everyErrorIsAKotlinException,
            "many threads at once" to ::manyThreadsAtOnce,
            "the listener receives events" to ::listenerReceivesEvents,
            "refused work is kept in the quarantine" to ::refusedWorkIsKeptInTheQuarantine,
            "photos taken offline reach the server" to ::photosTakenOfflineReachTheServer,
            "the customer's PDF is made on the phone" to ::theCustomersPdfIsMadeOnThePhone,
            "an encrypted store and a Kotlin device key" to ::encryptedStoreAndKotlinDeviceKey,
        )
    var failed = 0
    for ((name, test) in tests) {
        val started = System.nanoTime()
        try {
            test()
            println("ok   kotlin: $name (${TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started)} ms)")
        } catch (e: Throwable) {
            failed++
            println("FAIL kotlin: $name")
            e.printStackTrace(System.out)
        }
    }
    println("kotlin: ${tests.size - failed} passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}
