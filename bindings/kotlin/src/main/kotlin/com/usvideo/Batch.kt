package com.usvideo

import com.usvideo.core.BatchOptions
import com.usvideo.core.BatchProgress
import com.usvideo.core.Event
import com.usvideo.core.ItemResult
import com.usvideo.core.VideoJob
import com.usvideo.core.Limits
import com.usvideo.ffi.Machine
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.ensureActive
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.FlowCollector
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.isActive
import kotlinx.coroutines.sync.Mutex
import kotlinx.coroutines.sync.withLock
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull

/**
 * How a batch runs. The defaults are the core's (`BatchOptions::default`), with the client's
 * request budget and retry policy.
 */
data class BatchConfig @JvmOverloads constructor(
    /** Jobs in flight at once (being created, pending or processing): the plan's limit (standard 10). */
    val concurrentJobs: Int = 10,
    /** The batch's request budget per minute (`null`: the client's `requestsPerMinute`). */
    val requestsPerMinute: Int? = null,
    /** Submit the longest expected jobs first (shortens the tail; results still come as jobs finish). */
    val longestFirst: Boolean = false,
    /** Observe running jobs with one list request instead of one get each. */
    val pollByList: Boolean = true,
    /** Gap between polls while a completion is likely, in ms. */
    val pollIntervalMs: Long = 3_000,
    /** From which fraction of its expected time a job is likely to be finishing. */
    val likelyFrom: Double = 0.65,
    /** Read the account first and refuse to start beyond its balance. */
    val checkBalance: Boolean = true,
    /** Multiplies the model's expected times until finished jobs teach the batch its own. */
    val expectedScale: Double = 1.0,
    /** Retries of each request (`null`: the client's `maxRetries`). */
    val maxRetries: Int? = null,
    /** When the collecting coroutine is cancelled: how long the clean-up (deletes of pending jobs) may take, in ms. */
    val cancelTimeoutMs: Long = 5_000,
) {
    // For Java (`new BatchConfig().withConcurrentJobs(5)`): a copy with one option changed.
    /** A copy with [concurrentJobs]. */
    fun withConcurrentJobs(concurrentJobs: Int): BatchConfig = copy(concurrentJobs = concurrentJobs)
    /** A copy with [requestsPerMinute]. */
    fun withRequestsPerMinute(requestsPerMinute: Int): BatchConfig = copy(requestsPerMinute = requestsPerMinute)
    /** A copy with [longestFirst]. */
    fun withLongestFirst(longestFirst: Boolean): BatchConfig = copy(longestFirst = longestFirst)
    /** A copy with [pollByList]. */
    fun withPollByList(pollByList: Boolean): BatchConfig = copy(pollByList = pollByList)
    /** A copy with [pollIntervalMs]. */
    fun withPollIntervalMs(pollIntervalMs: Long): BatchConfig = copy(pollIntervalMs = pollIntervalMs)
    /** A copy with [likelyFrom]. */
    fun withLikelyFrom(likelyFrom: Double): BatchConfig = copy(likelyFrom = likelyFrom)
    /** A copy with [checkBalance]. */
    fun withCheckBalance(checkBalance: Boolean): BatchConfig = copy(checkBalance = checkBalance)
    /** A copy with [expectedScale]. */
    fun withExpectedScale(expectedScale: Double): BatchConfig = copy(expectedScale = expectedScale)
    /** A copy with [maxRetries]. */
    fun withMaxRetries(maxRetries: Int): BatchConfig = copy(maxRetries = maxRetries)
    /** A copy with [cancelTimeoutMs]. */
    fun withCancelTimeoutMs(cancelTimeoutMs: Long): BatchConfig = copy(cancelTimeoutMs = cancelTimeoutMs)

    internal fun toCore(client: USVideo, maxSpendCents: Long?): BatchOptions {
        val d = ffi { com.usvideo.ffi.defaultBatchOptions() }
        val retry = client.core.retryPolicy().let { p -> maxRetries?.let { p.copy(maxRetries = unsigned("maxRetries", it.toLong()).toUInt()) } ?: p }
        unsigned("cancelTimeoutMs", cancelTimeoutMs)
        return d.copy(
            maxSpendCents = maxSpendCents?.let { unsigned("maxSpendCents", it) },
            limits = Limits(
                requestsPerMinute?.let { unsigned("requestsPerMinute", it.toLong()).toUInt() } ?: client.requestsPerMinute,
                unsigned("concurrentJobs", concurrentJobs.toLong(), min = 1).toUInt(),
            ),
            longestFirst = longestFirst,
            pollByList = pollByList,
            pollIntervalMs = unsigned("pollIntervalMs", pollIntervalMs),
            likelyFrom = likelyFrom,
            checkBalance = checkBalance,
            expectedScale = expectedScale,
            retry = retry,
        )
    }
}

/**
 * One item of a batch, as it finished: a completed [job], or the [error] that ended it (the job
 * failed, the service refused the create, the batch was cancelled) with the job as last seen.
 */
data class BatchItem(
    /** The item's position in the requests. */
    val index: Int,
    /** The completed job; for an error, the job as last seen (if one was created). */
    val job: VideoJob?,
    /** Why the item did not complete (`null`: it did). */
    val error: USVideoError?,
) {
    /** Whether the job completed. */
    val isCompleted: Boolean get() = error == null

    internal companion object {
        fun from(r: ItemResult) = BatchItem(r.index.toInt(), r.job, r.error?.let { USVideoError.from(it) })
    }
}

/** The outcome of a whole batch. */
data class BatchReport(
    /** Every item, in input order. */
    val items: List<BatchItem>,
    /** The final counts. */
    val progress: BatchProgress,
    /**
     * Cents the batch's jobs cost the account: completed jobs' costs, and the estimates of jobs
     * that go on after the batch ended with them (a cancel that found them processing), charged
     * unless they fail later. Failed jobs and deleted pending ones (refunded) cost nothing. (It
     * said "charged for completed jobs": helper-44 read 186 where the ledger had 54 charged and
     * 132 held for processing jobs.) A cancelled item counts as `cancelled` in [progress] (it counted as `failed` before session 25).
     */
    val spentCents: Long,
)

/**
 * A running batch (the core's `Batch` scheduler, driven here): a [Flow] of [BatchItem]s in
 * completion order. Made by `client.videos.batch(…)` or `client.videos.resumeBatch(snapshot)`;
 * nothing is sent until it is collected.
 *
 * - The flow can be collected once at a time; stopping early (`take(n)`, `first()`) pauses the
 *   batch, and collecting again goes on from there (each item is yielded once).
 * - If the whole batch fails (the balance is short, the key is refused), the flow throws that
 *   error after the items that finished before it.
 * - [snapshot] at any time: JSON to continue from with `client.videos.resumeBatch`.
 * - Cancelling the collecting coroutine cancels the batch, best effort within
 *   [BatchConfig.cancelTimeoutMs]: the request in flight is seen through, queued items end
 *   cancelled, pending jobs are deleted (refunded); processing jobs go on.
 * - [cancel] asks the same from anywhere (a callback, another coroutine) while collection
 *   continues and yields the cancelled items; [cancelAndJoin] sees it through and returns the report.
 * - A callback ([onProgress], [onEvent]) that throws before a cancel ends the collection with its
 *   error and leaves the batch paused; one that throws during a cancel's clean-up does not stop
 *   it: the clean-up goes to its end (deleting pending jobs), then the first such error is thrown
 *   to whoever drove it (the collector, or [cancelAndJoin]).
 * - From inside a callback, call [cancel], never [cancelAndJoin] or a collection: the batch's
 *   driver is waiting for that callback to return (they throw [IllegalStateException] there).
 */
class Batch internal constructor(
    private val client: USVideo,
    private val machine: Machine,
    private val cancelTimeoutMs: Long,
    private val onProgress: ((BatchProgress) -> Unit)?,
    private val onEvent: ((Event) -> Unit)?,
) : Flow<BatchItem> {
    /** Only one loop drives the machine at a time (a collector, or [cancelAndJoin]). */
    private val driving = Mutex()
    /** Items finished but not yet yielded (guarded by [driving]). */
    private val ready = ArrayDeque<BatchItem>()
    /** Cuts the driver's sleep short after [cancel]. */
    private val wake = Channel<Unit>(Channel.CONFLATED)

    @Volatile private var finished = false
    @Volatile private var cleanedUp = false

    /**
     * The machine has been told to cancel ([cancel], a cancelled collector): from then on a
     * callback's error is kept for later, not thrown through the clean-up (which would stop it,
     * its pending jobs left to be charged).
     */
    @Volatile private var cancelling = false

    /** The first error a callback threw during the clean-up, thrown once that has ended (guarded by [driving]). */
    private var callbackError: Throwable? = null

    /**
     * Set on the thread running one of this batch's callbacks, while it runs: what that thread
     * does meanwhile (a `runBlocking { cancelAndJoin() }`) is inside the callback, and would wait
     * for [driving], held by the driver that called it, for ever. Per thread (the callback runs on
     * whichever thread the driver is on): a caller on another thread is not inside the
     * callback, and simply waits its turn.
     */
    private val inCallback = ThreadLocal<Boolean>()

    /** Every item in input order, once the batch has ended (`null` before, or if it failed as a whole). */
    @Volatile var report: BatchReport? = null
        private set

    /** The error that ended the whole batch, if one did. */
    @Volatile var failure: USVideoError? = null
        private set

    /** The estimated cost of the items not yet done, in cents (known before anything is sent). */
    val estimatedCents: Long get() = ffi { machine.batchEstimatedCents() }.toLong()

    /** The counts now. */
    fun progress(): BatchProgress = ffi { machine.batchProgress() }

    /**
     * Where the batch stands, as JSON: save it, and pass it to `client.videos.resumeBatch` (in
     * any process) to go on without submitting anything twice. It holds the requests and their
     * idempotency keys, never the API key.
     */
    fun snapshot(): String = ffi { machine.batchSnapshot() }

    /**
     * Asks the batch to stop: queued items end cancelled, pending jobs are deleted (refunded),
     * processing jobs go on. Returns at once; keep collecting to see the cancelled items (or use
     * [cancelAndJoin]).
     */
    fun cancel() {
        // Once: a second wake token, left unconsumed, would cut a later wait of the clean-up's.
        if (cancelling) return
        cancelling = true
        ffi { machine.cancel(client.driver.now()) }
        wake.trySend(Unit)
    }

    /**
     * [cancel], then drives the batch to its end (items go to the flow's next collection) and
     * returns the report.
     *
     * @throws IllegalStateException from inside one of this batch's callbacks (a `runBlocking`
     *   there), after cancelling: call [cancel] there instead.
     * @throws Throwable the first error a callback threw during the clean-up, once it has ended.
     */
    suspend fun cancelAndJoin(): BatchReport? {
        cancel()
        refuseInsideCallback("cancelAndJoin()")
        driving.withLock { if (!finished) driveOn(stopAtItem = false) }
        return report
    }

    private val items: Flow<BatchItem> = flow {
        refuseInsideCallback("collecting it")
        try {
            while (true) emit(next() ?: break)
        } catch (c: CancellationException) {
            // The collecting coroutine was cancelled (not a `take(n)`, which leaves it active).
            if (!currentCoroutineContext().isActive) abandon(c)
            throw c
        }
        failure?.let { throw it }
    }

    /** Fails fast where waiting for [driving] would wait for ever (see [inCallback]). */
    private fun refuseInsideCallback(what: String) = check(inCallback.get() != true) {
        "$what inside the batch's own onProgress/onEvent callback would deadlock (its driver waits for the " +
            "callback to return): call batch.cancel() there, and let the collection go on (or cancel its coroutine)"
    }

    override suspend fun collect(collector: FlowCollector<BatchItem>) = items.collect(collector)

    private suspend fun next(): BatchItem? = driving.withLock {
        if (ready.isEmpty() && !finished) driveOn(stopAtItem = true)
        // Taken only for a collector still active: `emit` checks that first, and an item taken for
        // one cancelled meanwhile (by a callback, while the driver did not suspend) was lost: in
        // the report, never yielded (helper-73). Left in `ready`, the next collection yields it.
        currentCoroutineContext().ensureActive()
        ready.removeFirstOrNull()
    }

    /**
     * Drives until an item is ready ([stopAtItem]) or the end. Call with [driving] held. A
     * callback's error kept during a cancel's clean-up is thrown once that has ended ([cause],
     * the caller's cancellation, suppressed in it).
     */
    private suspend fun driveOn(stopAtItem: Boolean, cause: CancellationException? = null) {
        val done = try {
            client.driver.driveUntil(machine, cancelTimeoutMs, wake, onCancel = { cancelling = true }) { e -> tell(e, stopAtItem) }
        } catch (c: CancellationException) {
            // The driver has already cancelled the batch and driven its clean-up (or given up
            // at the deadline): nothing more to do on the way out.
            cleanedUp = true
            if (ffi { machine.isDone() }) finish()
            throwCallbackError(c)
            throw c
        }
        if (done) finish()
        throwCallbackError(cause)
    }

    /** Handles one event; true: stop driving (an item is ready, and [stopAtItem]). */
    private fun tell(e: Event, stopAtItem: Boolean): Boolean {
        if (e is Event.ItemDone) {
            ready.addLast(BatchItem.from(e.item))
        } else {
            inCallback.set(true)
            try {
                if (e is Event.BatchProgress) onProgress?.invoke(e.counts)
                onEvent?.invoke(e)
            } catch (x: Throwable) {
                // Before a cancel the error ends the collection and the batch stays paused (as
                // Python's); during a cancel's clean-up it would stop the deletes: kept instead.
                if (!cancelling) throw x
                if (callbackError == null) callbackError = x
            } finally {
                inCallback.remove()
            }
        }
        // Once a callback has failed, on to the end without stopping at items: the error is
        // thrown then, and the collector may not come back for more.
        return stopAtItem && e is Event.ItemDone && callbackError == null
    }

    /** Throws the kept callback error, once; [cause] (a cancellation it replaces) suppressed in it, as `onCompletion` does. */
    private fun throwCallbackError(cause: Throwable?) {
        val x = callbackError ?: return
        callbackError = null
        if (cause != null && cause !== x) x.addSuppressed(cause)
        throw x
    }

    private fun finish() {
        if (finished) return
        finished = true
        try {
            val s = ffi { machine.takeBatchSummary() }
            report = BatchReport(s.results.map { BatchItem.from(it) }, s.progress, s.spentCents.toLong())
        } catch (e: USVideoError) {
            failure = e
        }
    }

    /**
     * The collector was cancelled between items ([c]): cancel and clean up, best effort, within
     * the deadline. Throws a callback's error kept meanwhile.
     */
    private suspend fun abandon(c: CancellationException) = withContext(NonCancellable) {
        if (finished || cleanedUp) return@withContext
        withTimeoutOrNull(cancelTimeoutMs) {
            driving.withLock {
                if (!finished) {
                    cancelling = true
                    ffi { machine.cancel(client.driver.now()) }
                    driveOn(stopAtItem = false, cause = c)
                }
            }
        }
    }

    override fun toString(): String = "Batch(progress=${runCatching { progress() }.getOrNull()})"
}
