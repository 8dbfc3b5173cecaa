import FieldworkKit
import Foundation
import XCTest

// The engineer's app through the Swift bindings, mirroring tests/kotlin on a
// Mac: `FIELDWORK_EXE` names a host-built `fieldwork` server binary
// (`cargo build -p fieldwork-server --bin fieldwork`), which each test runs
// on a free loopback port with its own data directory.

enum SetupError: Error, CustomStringConvertible {
    case noServer
    var description: String {
        "set FIELDWORK_EXE to a host-built fieldwork binary (cargo build -p fieldwork-server --bin fieldwork)"
    }
}

/// A real `fieldwork serve`, provisioned with `fieldwork admin`.
final class Server {
    let dir: URL
    let url: String
    let desk: Desk
    private let process: Process
    private let exe: String

    init() throws {
        // Not skipped when missing: a test that did not run must not pass.
        guard let exe = ProcessInfo.processInfo.environment["FIELDWORK_EXE"] else {
            throw SetupError.noServer
        }
        self.exe = exe
        dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let data = dir.appendingPathComponent("server").path
        _ = try Server.run(exe, ["admin", "--data", data, "tenant", "acme", "ACME Service"])
        _ = try Server.run(exe, ["admin", "--data", data, "engineer", "acme", "eng-a", "Zhang Wei"])
        let token = try Server.run(exe, ["admin", "--data", data, "dispatcher", "acme", "desk", "Desk"])
        process = Process()
        process.executableURL = URL(fileURLWithPath: exe)
        process.arguments = ["serve", "--listen", "127.0.0.1:0", "--data", data]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let first = String(decoding: line, as: UTF8.self)
        url = first.replacingOccurrences(of: "fieldwork: serving on ", with: "")
            .trimmingCharacters(in: .whitespacesAndNewlines)
        desk = Desk(url: url, token: token)
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: dir)
    }

    static func run(_ exe: String, _ args: [String]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        p.waitUntilExit()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func phoneStore(_ name: String) -> String {
        dir.appendingPathComponent("\(name).db").path
    }
}

/// The dispatcher's JSON API.
struct Desk {
    let url: String
    let token: String

    @discardableResult
    func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) throws -> [String: Any] {
        var req = URLRequest(url: URL(string: url + path)!)
        req.httpMethod = method
        req.setValue("Bearer \(token)", forHTTPHeaderField: "authorization")
        req.setValue("application/json", forHTTPHeaderField: "content-type")
        if let body { req.httpBody = try JSONSerialization.data(withJSONObject: body) }
        let done = DispatchSemaphore(value: 0)
        var result: Data?
        URLSession.shared.dataTask(with: req) { data, _, _ in
            result = data
            done.signal()
        }.resume()
        done.wait()
        return (try JSONSerialization.jsonObject(with: result ?? Data("{}".utf8))) as? [String: Any] ?? [:]
    }

    func dispatch(_ n: Int, to engineer: String) throws -> String {
        let intake: [String: Any] = [
            "channel": "phone",
            "customer": ["name": "客户 \(n) Customer", "phone": "+86 21 5555 \(1000 + n)", "address": "上海市 \(n) 号", "member": false],
            "product": ["model": "AC-900", "serial": "SN-\(n)", "purchase_date": "2026-10-01", "proof_of_purchase": "INV-\(n)"],
            "fault": ["symptoms": "no cooling after start"],
            "category": "product_quality", "priority": n % 7 == 0 ? "urgent" : "normal", "site_zone": "urban",
        ]
        let id = try call("POST", "/api/orders", intake)["id"] as! String
        try call("POST", "/api/orders/\(id)/assign", ["engineer": engineer])
        return id
    }

    /// A GET's status and body bytes (a photo, a PDF).
    func bytes(_ path: String) throws -> (Int, Data) {
        var req = URLRequest(url: URL(string: url + path)!)
        req.setValue("Bearer \(token)", forHTTPHeaderField: "authorization")
        let done = DispatchSemaphore(value: 0)
        var result: (Int, Data) = (0, Data())
        URLSession.shared.dataTask(with: req) { data, response, _ in
            result = ((response as? HTTPURLResponse)?.statusCode ?? 0, data ?? Data())
            done.signal()
        }.resume()
        done.wait()
        return result
    }

    func enrolmentCode(_ engineer: String) throws -> String {
        try call("POST", "/api/engineers/\(engineer)/enrolment-codes")["code"] as! String
    }
}

final class Recorder: SyncListener, @unchecked Sendable {
    private let lock = NSLock()
    private var all: [SyncEvent] = []
    var events: [SyncEvent] { lock.lock(); defer { lock.unlock() }; return all }
    func onEvent(event: SyncEvent) { lock.lock(); all.append(event); lock.unlock() }
}

func eventually(_ seconds: Double = 15, _ cond: () throws -> Bool) rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try cond() { return true }
        Thread.sleep(forTimeInterval: 0.02)
    }
    return try cond()
}

func strokes(_ n: Int) -> [Stroke] {
    (0..<n).map { s in
        Stroke(points: (0..<20).map { i in StrokePoint(x: Double(i) * 7.5, y: Double(s) * 30 + Double(i % 4), tMs: Int64(i) * 16) })
    }
}

let diagnosis = DiagnosisInput(faultCode: "E21", kind: .hardware, findings: "relay contacts burnt", plannedParts: ["RLY"], estimateMinor: 0, misuse: false)

final class FieldworkKitTests: XCTestCase {
    func testTheEngineersWholeDay() throws {
        let server = try Server()
        try server.desk.call("POST", "/api/catalog", ["sku": "RLY", "name": "Relay", "unit_price_minor": 4500, "low_stock_threshold": 2])
        let ids = try (1...30).map { try server.desk.dispatch($0, to: "eng-a") }
        let fw = try Fieldwork.open(path: server.phoneStore("phone-a"), user: "eng-a")
        let token = try enrol(fieldwork: fw, serverUrl: server.url, code: server.desk.enrolmentCode("eng-a")).token
        let recorder = Recorder()
        let sync = try SyncSession(fieldwork: fw, serverUrl: server.url, token: token, listener: recorder)

        sync.setOnline(online: true)
        let primed = try sync.syncNow()
        XCTAssertEqual(primed.pulledDocs, 30)
        XCTAssertTrue(recorder.events.contains { if case .progress = $0 { return true } else { return false } })
        XCTAssertEqual(Set(try fw.openOrders().map(\.id)), Set(ids))
        sync.setOnline(online: false)
        sync.start()
        try fw.receiveStock(sku: "RLY", qty: 2)
        let id = ids[0]
        try fw.accept(id: id)
        try fw.enRoute(id: id)
        try fw.arrive(id: id, location: Location(lat: 31.23, lon: 121.47, accuracyM: 8))
        try fw.diagnose(id: id, diagnosis: diagnosis)
        XCTAssertTrue(try fw.decideWarranty(id: id, proofChecked: true, misuse: false).inWarranty)
        _ = try fw.recordConsent(id: id, consent: ConsentInput(kind: .extraWork, accepted: true, signerName: "客户", scope: "clean the condenser", parts: [], strokes: strokes(1)))
        try fw.startWork(id: id)
        _ = try fw.usePart(id: id, sku: "RLY", qty: 1, qualityFault: true)
        _ = try fw.addFee(id: id, kind: .labour, description: "relay swap", amountMinor: 9000)
        try fw.markRepaired(id: id)
        XCTAssertTrue(try fw.recordQc(id: id, items: ["appearance", "function", "performance"].map { QcItem(name: $0, passed: true, note: nil) }))
        try fw.captureSignatureIn(id: id, signerName: "客户", strokes: strokes(3), language: "zh-CN")
        XCTAssertTrue(try fw.serviceReport(id: id).hasPrefix("服务报告 "))
        try fw.rate(id: id, rating: .satisfied, score: 5, comment: "很好")
        XCTAssertEqual(try fw.order(id: id).signature, .valid)
        XCTAssertThrowsError(try sync.syncNow()) { error in
            guard case FieldworkError.Network = error else { return XCTFail("expected Network, got \(error)") }
        }

        sync.setOnline(online: true)
        XCTAssertTrue(try eventually { try fw.pendingChanges() == 0 })
        let v = try server.desk.call("GET", "/api/orders/\(id)")
        XCTAssertEqual(v["status"] as? String, "signed_off")
        XCTAssertEqual(v["signature"] as? String, "valid")
        let order = v["order"] as! [String: Any]
        XCTAssertEqual((order["parts"] as! [Any]).count, 1)
        XCTAssertEqual((order["consents"] as! [Any]).count, 1)
        XCTAssertEqual((order["satisfaction"] as! [String: Any])["comment"] as? String, "很好")
        sync.stop()
    }

    func testEveryErrorIsASwiftError() throws {
        let server = try Server()
        let id = try server.desk.dispatch(1, to: "eng-a")
        let fw = try Fieldwork.open(path: server.phoneStore("phone-a"), user: "eng-a")
        let token = try enrol(fieldwork: fw, serverUrl: server.url, code: server.desk.enrolmentCode("eng-a")).token
        let sync = try SyncSession(fieldwork: fw, serverUrl: server.url, token: token, listener: Recorder())
        sync.setOnline(online: true)
        try sync.syncNow()

        func expect(_ body: @autoclosure () throws -> Void, _ check: (FieldworkError) -> Bool) {
            XCTAssertThrowsError(try body()) { error in
                guard let e = error as? FieldworkError, check(e) else { return XCTFail("unexpected \(error)") }
                XCTAssertFalse(e.localizedDescription.isEmpty)
            }
        }
        // A stable code and its arguments, for the app's own messages.
        expect(try fw.rate(id: id, rating: .satisfied, score: 9, comment: nil)) {
            if case let .InvalidInput(code, args, _) = $0 { return code == "invalid" && args["reason_code"] == "score_range" }
            return false
        }
        expect(try fw.order(id: "wo-missing")) { if case .NotFound = $0 { return true }; return false }
        expect(try fw.markRepaired(id: id)) { if case .NotAllowed = $0 { return true }; return false }
        expect(try enrol(fieldwork: fw, serverUrl: server.url, code: "not-a-code")) { if case .Unauthorized = $0 { return true }; return false }
        let away = try SyncSession(fieldwork: fw, serverUrl: "http://127.0.0.1:9", token: token, listener: Recorder())
        away.setOnline(online: true)
        expect(try away.syncNow()) { if case .Network = $0 { return true }; return false }
        XCTAssertEqual(try fw.order(id: id).status, .dispatched)
    }

    func testManyThreadsAtOnce() throws {
        let server = try Server()
        let id = try server.desk.dispatch(1, to: "eng-a")
        let fw = try Fieldwork.open(path: server.phoneStore("phone-a"), user: "eng-a")
        let token = try enrol(fieldwork: fw, serverUrl: server.url, code: server.desk.enrolmentCode("eng-a")).token
        let sync = try SyncSession(fieldwork: fw, serverUrl: server.url, token: token, listener: Recorder())
        sync.setOnline(online: true)
        try sync.syncNow()
        DispatchQueue.concurrentPerform(iterations: 8) { t in
            for i in 0..<25 {
                XCTAssertNoThrow(try fw.addNote(id: id, text: "thread \(t) note \(i)"))
                XCTAssertNoThrow(try fw.openOrders())
            }
        }
        XCTAssertEqual(try fw.order(id: id).order.repairNotes.count, 200)
    }

    func testTheListenerReceivesEvents() throws {
        let server = try Server()
        let fw = try Fieldwork.open(path: server.phoneStore("phone-a"), user: "eng-a")
        let token = try enrol(fieldwork: fw, serverUrl: server.url, code: server.desk.enrolmentCode("eng-a")).token
        let sync = try FieldworkSync(fieldwork: fw, serverUrl: server.url, token: token)
        sync.start()
        sync.setOnline(true)
        XCTAssertTrue(eventually { sync.status == .idle })
        let id = try server.desk.dispatch(7, to: "eng-a")
        sync.poke()
        let announced = expectation(description: "the new order is announced")
        Task {
            for await event in sync.events {
                if case let .ordersChanged(ids) = event, ids.contains(id) {
                    announced.fulfill()
                    return
                }
            }
        }
        wait(for: [announced], timeout: 15)
    }

    func testRefusedWorkIsKeptInTheQuarantine() throws {
        let server = try Server()
        let mine = try server.desk.dispatch(1, to: "eng-a")
        let other = try server.desk.dispatch(2, to: "eng-a")
        let fw = try Fieldwork.open(path: server.phoneStore("phone-q"), user: "eng-a")
        let token = try enrol(fieldwork: fw, serverUrl: server.url, code: server.desk.enrolmentCode("eng-a")).token
        let sync = try FieldworkSync(fieldwork: fw, serverUrl: server.url, token: token)
        sync.setOnline(true)
        _ = try sync.syncNow()
        // Registering a complaint is the desk's: the server refuses it.
        _ = try fw.registerComplaint(id: mine, what: "the customer is unhappy", category: .serviceAttitude, major: false)
        try fw.addNote(id: other, text: "fan cleaned")
        let summary = try sync.syncNow()
        XCTAssertEqual(summary.refusedDocs, 1)
        XCTAssertEqual(try fw.pendingChanges(), 0)
        let quarantined = try fw.quarantined()
        XCTAssertEqual(quarantined.count, 1)
        XCTAssertEqual(quarantined[0].docId, mine)
        XCTAssertEqual(quarantined[0].intent, "complaint")
        XCTAssertTrue(quarantined[0].reason.contains("complaints are handled by the desk"))
        XCTAssertTrue(quarantined[0].touched.contains("complaints"))
        XCTAssertTrue(try fw.exportQuarantine().contains(quarantined[0].hash))
        try fw.discardQuarantined(id: quarantined[0].id)
        XCTAssertTrue(try fw.quarantined().isEmpty)
        XCTAssertThrowsError(try fw.discardQuarantined(id: quarantined[0].id))
    }
    func testPhotosTakenOfflineReachTheServer() throws {
        let server = try Server()
        let id = try server.desk.dispatch(4, to: "eng-a")
        let fw = try Fieldwork.open(path: server.phoneStore("phone-p"), user: "eng-a")
        let token = try enrol(fieldwork: fw, serverUrl: server.url, code: server.desk.enrolmentCode("eng-a")).token
        let recorder = Recorder()
        let sync = try SyncSession(fieldwork: fw, serverUrl: server.url, token: token, listener: recorder)
        sync.setOnline(online: true)
        _ = try sync.syncNow()
        sync.setOnline(online: false)
        var bytes = [UInt8](repeating: 0x5A, count: 1_200_000)
        bytes.replaceSubrange(0..<4, with: [0xFF, 0xD8, 0xFF, 0xE0])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("fault.jpg")
        try Data(bytes).write(to: file)
        let photo = try fw.attachPhoto(id: id, path: file.path, kind: .fault, caption: "burnt relay")
        XCTAssertEqual(try fw.blobsWaiting().count, 1)
        XCTAssertNotNil(try fw.photoFile(id: id, photoId: photo.id))

        sync.setOnline(online: true)
        let summary = try sync.syncNow()
        XCTAssertEqual(summary.blobsUploaded, 1)
        XCTAssertEqual(try fw.blobsWaiting().count, 0)
        XCTAssertTrue(recorder.events.contains { if case let .upload(_, sent, total, _) = $0 { return sent == total } else { return false } })
        let order = try server.desk.call("GET", "/api/orders/\(id)")["order"] as! [String: Any]
        XCTAssertEqual(((order["photos"] as! [[String: Any]])[0])["hash"] as? String, photo.hash)
    }
    func testTheCustomersPdfIsMadeOnThePhone() throws {
        let server = try Server()
        try server.desk.call("POST", "/api/catalog", ["sku": "RLY", "name": "Relay", "unit_price_minor": 4500, "low_stock_threshold": 2])
        let id = try server.desk.dispatch(5, to: "eng-a")
        let fw = try Fieldwork.open(path: server.phoneStore("phone-pdf"), user: "eng-a")
        let token = try enrol(fieldwork: fw, serverUrl: server.url, code: server.desk.enrolmentCode("eng-a")).token
        let sync = try SyncSession(fieldwork: fw, serverUrl: server.url, token: token, listener: Recorder())
        sync.setOnline(online: true)
        _ = try sync.syncNow()
        sync.setOnline(online: false)
        XCTAssertThrowsError(try fw.serviceReportPdf(id: id)) { error in
            guard case let .InvalidInput(code, _, _)? = error as? FieldworkError else { return XCTFail("\(error)") }
            XCTAssertEqual(code, "report_font")
        }
        try fw.useBundledReportFont()
        try fw.receiveStock(sku: "RLY", qty: 1)
        try fw.accept(id: id)
        try fw.enRoute(id: id)
        try fw.arrive(id: id, location: nil)
        try fw.diagnose(id: id, diagnosis: diagnosis)
        _ = try fw.decideWarranty(id: id, proofChecked: true, misuse: false)
        try fw.startWork(id: id)
        _ = try fw.usePart(id: id, sku: "RLY", qty: 1, qualityFault: false)
        try fw.markRepaired(id: id)
        _ = try fw.recordQc(id: id, items: ["appearance", "function", "performance"].map { QcItem(name: $0, passed: true, note: nil) })
        try fw.captureSignatureIn(id: id, signerName: "王小明", strokes: strokes(3), language: "zh-CN")
        let pdf = try fw.serviceReportPdf(id: id)
        XCTAssertEqual(String(decoding: Data(pdf).prefix(5), as: UTF8.self), "%PDF-")
        XCTAssertLessThan(pdf.count, 150_000)
        sync.setOnline(online: true)
        _ = try sync.syncNow()
        let (status, atDesk) = try server.desk.bytes("/api/orders/\(id)/report.pdf")
        XCTAssertEqual(status, 200)
        XCTAssertEqual(atDesk, Data(pdf), "the desk's PDF is the phone's")
    }
}
