import Foundation

/// The sync session as Swift apps like it: `events` is an `AsyncStream` of
/// everything the sync thread reports, `status` the latest status.
///
/// ```swift
/// let sync = try FieldworkSync(fieldwork: fw, serverUrl: url, token: token)
/// sync.start()
/// pathMonitor.pathUpdateHandler = { sync.setOnline($0.status == .satisfied) }
/// for await event in sync.events {
///     if case let .ordersChanged(ids) = event { await refresh(ids) }
///     if case let .upload(_, sent, total, waiting) = event { showUpload(sent, total, waiting) }
/// }
/// ```
///
/// Dropping it stops the sync thread; the store itself stays open.
public final class FieldworkSync: @unchecked Sendable {
    private let session: SyncSession
    private let relay: Relay

    /// Every event, as it happens. A slow reader loses the oldest, never blocks sync.
    public let events: AsyncStream<SyncEvent>

    /// Where the sync thread is now.
    public var status: SyncStatus { relay.status }

    public init(fieldwork: Fieldwork, serverUrl: String, token: String) throws {
        var continuation: AsyncStream<SyncEvent>.Continuation!
        events = AsyncStream(bufferingPolicy: .bufferingNewest(256)) { continuation = $0 }
        relay = Relay(continuation: continuation)
        session = try SyncSession(fieldwork: fieldwork, serverUrl: serverUrl, token: token, listener: relay)
    }

    deinit {
        session.stop()
        relay.continuation.finish()
    }

    /// Start the background sync thread.
    public func start() { session.start() }

    /// From the network path monitor; going online syncs at once.
    public func setOnline(_ online: Bool) { session.setOnline(online: online) }

    /// Sync soon: call after local changes.
    public func poke() { session.poke() }

    /// A photo's file on this phone, fetched from the server first if only its
    /// record is here. Call from a background thread, when the photo is shown.
    public func fetchPhoto(orderId: String, photoId: String) throws -> String {
        try session.fetchPhoto(orderId: orderId, photoId: photoId)
    }

    /// Push and pull now, on the calling (background) thread.
    @discardableResult
    public func syncNow() throws -> SyncSummary { try session.syncNow() }

    private final class Relay: SyncListener, @unchecked Sendable {
        let continuation: AsyncStream<SyncEvent>.Continuation
        private let lock = NSLock()
        private var latest: SyncStatus = .offline

        init(continuation: AsyncStream<SyncEvent>.Continuation) {
            self.continuation = continuation
        }

        var status: SyncStatus {
            lock.lock()
            defer { lock.unlock() }
            return latest
        }

        func onEvent(event: SyncEvent) {
            if case let .status(status) = event {
                lock.lock()
                latest = status
                lock.unlock()
            }
            continuation.yield(event)
        }
    }
}

public extension Fieldwork {
    /// Orders on this device, urgent first, with the SLA clock due soonest.
    func openOrders(limit: UInt32 = 50) throws -> [OrderRow] {
        try listOrders(filter: OrderFilter(openOnly: true, sort: .urgency, limit: limit))
    }
}
