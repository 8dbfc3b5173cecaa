package app.fieldwork

import kotlinx.coroutines.channels.BufferOverflow
import kotlinx.coroutines.flow.MutableSharedFlow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.SharedFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asSharedFlow
import kotlinx.coroutines.flow.asStateFlow

/**
 * The sync session as Kotlin apps like it: [status] is a [StateFlow] for the
 * toolbar, [events] a [SharedFlow] of everything the sync thread reports
 * (progress, refusals, changed orders) for whoever collects it.
 *
 * ```
 * val sync = FieldworkSync(fieldwork, serverUrl, token)
 * sync.start()
 * connectivity.onChange { sync.setOnline(it) }
 * lifecycleScope.launch { sync.events.filterIsInstance<SyncEvent.OrdersChanged>().collect { refresh(it.ids) } }
 * // Photos: attach on the store, then poke; uploads show as SyncEvent.Upload.
 * fieldwork.attachPhoto(orderId, cameraFile.path, PhotoKind.FAULT, null); sync.poke()
 * ```
 *
 * Closing it stops the sync thread; the store itself stays open.
 */
class FieldworkSync(
    fieldwork: Fieldwork,
    serverUrl: String,
    token: String,
) : AutoCloseable {
    private val _status = MutableStateFlow<SyncStatus>(SyncStatus.Offline)
    private val _events =
        MutableSharedFlow<SyncEvent>(extraBufferCapacity = 256, onBufferOverflow = BufferOverflow.DROP_OLDEST)

    /** Where the sync thread is now. */
    val status: StateFlow<SyncStatus> = _status.asStateFlow()

    /** Every event, as it happens. Slow collectors lose the oldest events, never block sync. */
    val events: SharedFlow<SyncEvent> = _events.asSharedFlow()

    private val session: SyncSession =
        SyncSession(
            fieldwork,
            serverUrl,
            token,
            object : SyncListener {
                override fun onEvent(event: SyncEvent) {
                    if (event is SyncEvent.Status) _status.value = event.status
                    _events.tryEmit(event)
                }
            },
        )

    /** Start the background sync thread. */
    fun start() = session.start()

    /** From the platform's connectivity callback; going online syncs at once. */
    fun setOnline(online: Boolean) = session.setOnline(online)

    /** Sync soon: call after local changes. */
    fun poke() = session.poke()

    /**
     * A photo's file on this phone, fetched from the server first if only its
     * record is here. Call from a background thread, when the photo is shown.
     */
    @Throws(FieldworkException::class)
    fun fetchPhoto(orderId: String, photoId: String): String = session.fetchPhoto(orderId, photoId)

    /** Push and pull now, on the calling (background) thread. */
    @Throws(FieldworkException::class)
    fun syncNow(): SyncSummary = session.syncNow()

    override fun close() {
        session.stop()
        session.close()
    }
}

/** Orders on this device, urgent first, with the SLA clock due soonest. */
@Throws(FieldworkException::class)
fun Fieldwork.openOrders(limit: Int = 50): List<OrderRow> =
    listOrders(OrderFilter(openOnly = true, sort = OrderSort.URGENCY, limit = limit.toUInt()))
