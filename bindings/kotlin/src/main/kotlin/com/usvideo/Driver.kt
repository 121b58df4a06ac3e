package com.usvideo

import com.usvideo.core.ErrorInfo
import com.usvideo.core.Event
import com.usvideo.core.HttpRequest
import com.usvideo.core.HttpResponse
import com.usvideo.core.Output
import com.usvideo.core.TransportKind
import com.usvideo.ffi.Machine
import com.usvideo.ffi.RateLimiter
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Deferred
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.async
import kotlinx.coroutines.currentCoroutineContext
import kotlinx.coroutines.ensureActive
import kotlinx.coroutines.channels.Channel
import kotlinx.coroutines.delay
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull

/**
 * The one driver loop: it runs any core machine to `Done`. It reads the clock, sleeps, takes a
 * rate-limiter slot and performs HTTP; every decision (retries, backoff, `Retry-After`, the poll
 * schedule, deadlines, reconciliation of a lost create) is the core's.
 *
 * Cancellation: when the calling coroutine is cancelled (or a callback throws), the request in
 * flight is abandoned and reported as `aborted`, the machine is told to cancel, and its clean-up
 * (the delete of a job that is still pending, refunding it) is driven to the end outside the
 * cancelled scope. The caller waits for it [cleanupTimeoutMs] at most, then the coroutine's own
 * exception is rethrown (a create's whose request went out, as a [CreateCancellationException]
 * carrying its key: [cancelledCreate]); a clean-up not done by then (its delete waiting for a slot of the key's
 * rate limit, or out a 429's pause) goes on in the background for [BACKGROUND_CLEANUP_MS] more,
 * rather than leave the job to be charged (helper-36 saw 20 of 40 cancelled jobs left pending).
 * A wait that times out with `cancelOnTimeout` and begins to delete its job is treated alike: its
 * caller waits for the delete [cleanupTimeoutMs] at most, then gets the wait's own error, saying
 * the delete goes on (the core gave it 10 s, then left the job to be charged).
 * A [drive] that throws closes its machine itself, once its clean-up ends. (A batch is driven by
 * [driveUntil], which sees its request in flight through instead: see there.)
 */
internal class Driver(
    private val transport: HttpTransport,
    private val limiter: RateLimiter,
    /** The most one request may take, whatever the transport (a shorter deadline of the core wins). */
    private val requestTimeoutMs: Long? = null,
    private val cleanupTimeoutMs: Long = 10_000,
) {
    /** Where a batch's requests run: outside the caller's scope, so a cancelled caller can still see one through. */
    private val detached = CoroutineScope(SupervisorJob() + Dispatchers.IO)

    /** Monotonic ms since the process's first client: the core's clock, one for every client (see [EPOCH]). */
    fun now(): ULong = ((System.nanoTime() - EPOCH) / 1_000_000).toULong()

    /** Sleeps until [t], or until [wake] is told (then true). */
    private suspend fun sleepUntil(t: ULong, wake: Channel<Unit>? = null): Boolean {
        val ms = t.toLong() - now().toLong()
        if (ms <= 0) return false
        if (wake == null) {
            delay(ms)
            return false
        }
        return withTimeoutOrNull(ms) { wake.receive() } != null
    }

    /**
     * A slot of the client's limiter (one per client, so per key), by [until] at most when it is
     * given (the request's own time runs while it waits, so a wait's deadline holds when the rate
     * limit is spent): false when none came in time, and the request must not be sent. Also
     * false once [wake] is told (a batch's cancel: helper-65 saw a create that waited for a slot
     * sent after the cancel, and charged).
     */
    private suspend fun acquireSlotBy(until: ULong?, wake: Channel<Unit>? = null): Boolean {
        // Its place in the limiter's line (first come first served, woken about once, at its
        // turn), given up if it returns without a slot or is cancelled.
        var ticket: ULong? = null
        try {
            while (true) {
                val t = now()
                val turn = ffi { limiter.acquireInLine(ticket, t) }
                ticket = turn.ticket
                val next = turn.waitUntil ?: return true
                if (until != null && t >= until) return false
                if (sleepUntil(if (until == null) next else minOf(next, until), wake)) return false
            }
        } finally {
            ticket?.let { limiter.leave(it) }
        }
    }

    /** The timeout of one attempt: the core's (a deadline) and the client's, the shorter. */
    private fun timeoutOf(coreMs: ULong?): Long? = listOfNotNull(coreMs?.toLong(), requestTimeoutMs).minOrNull()?.coerceAtLeast(1)

    /** One HTTP exchange, its failure classified for the core. Cancellable (the transport disconnects). */
    private suspend fun exchange(request: HttpRequest, coreTimeoutMs: ULong?): Outcome {
        val timeout = timeoutOf(coreTimeoutMs)
        return try {
            // The transport enforces the timeout itself (and classifies a connect timeout as
            // such); the coroutine timeout, a little later, bounds a transport that does not.
            // (`withTimeoutOrNull`: null is this timeout; a caller's own timeout still throws.)
            val response = if (timeout == null) transport.send(request, null)
            else withTimeoutOrNull(timeout + TIMEOUT_GRACE_MS) { transport.send(request, timeout) }
            response?.let { Outcome.Answer(it) } ?: Outcome.Failure(TransportKind.TIMEOUT, "no answer within $timeout ms")
        } catch (c: CancellationException) {
            throw c
        } catch (e: TransportException) {
            Outcome.Failure(e.kind, e.message ?: "")
        } catch (e: Exception) {
            Outcome.Failure(TransportKind.OTHER, "${e::class.java.simpleName}: ${e.message ?: ""}")
        }
    }

    private fun report(m: Machine, id: ULong, outcome: Outcome, counted: Boolean = true) {
        val t = now()
        when (outcome) {
            is Outcome.Answer -> {
                if (counted) ffi { limiter.observe(outcome.response, t) }
                ffi { m.handleResponse(id, outcome.response, t) }
            }
            is Outcome.Failure -> ffi { m.handleTransportError(id, outcome.kind, outcome.message, t) }
        }
    }

    /**
     * Drives [m] to its end. [createKey]: [m] is a create (or create-and-wait) under that
     * idempotency key, whose cancellation after its request went out throws a
     * [CreateCancellationException] carrying it (see [cancelledCreate]).
     */
    suspend fun drive(m: Machine, handOff: Boolean = false, createKey: String? = null, onEvent: (Event) -> Unit) {
        val flight = Flight()
        val cleaning = try {
            loop(m, onEvent, flight, handOff)
        } catch (stop: Throwable) {
            // A cancel, or a callback that threw: either way the caller is done with the wait.
            // The clean-up owns the machine from here: it is closed once that ends, not when the
            // caller, gone after [cleanupTimeoutMs], is (a closed machine would end it at once).
            val cleanUp = detached.async {
                withTimeoutOrNull(cleanupTimeoutMs + BACKGROUND_CLEANUP_MS) {
                    flight.sent?.let { ffi { m.handleTransportError(it, TransportKind.ABORTED, "cancelled", now()) } }
                    // Nothing reached the service: a create then made no job to look for.
                    flight.unsent?.let { ffi { m.handleTransportError(it, TransportKind.CONNECT, "not sent: cancelled", now()) } }
                    flight.sent = null
                    flight.unsent = null
                    ffi { m.cancel(now()) }
                    loop(m, {}, flight)
                }
                Unit
            }
            try {
                val ended = withContext(NonCancellable) { withTimeoutOrNull(cleanupTimeoutMs) { cleanUp.join() } } != null
                throw if (stop is CancellationException && createKey != null) cancelledCreate(m, createKey, ended, flight, stop) else stop
            } finally {
                cleanUp.invokeOnCompletion { m.close() }
            }
        } ?: return
        // A timed-out wait's delete (the core's `cleaning_up`): driven outside the caller's scope;
        // if it is not done within [cleanupTimeoutMs], it goes on in the background (closing the
        // machine when it ends) and the caller gets the wait's error, saying so.
        val cleanUp = detached.async { withTimeoutOrNull(cleanupTimeoutMs + BACKGROUND_CLEANUP_MS) { loop(m, {}, flight) }; Unit }
        // (`runCatching`: a clean-up that failed (a bug) is this call's error, not a UsageError
        // for a result that never came.)
        val finished = withContext(NonCancellable) { withTimeoutOrNull(cleanupTimeoutMs) { runCatching { cleanUp.await() } } }
        if (finished == null) {
            cleanUp.invokeOnCompletion { m.close() }
        } else {
            finished.onFailure { m.close() }.getOrThrow()
            if (ffi { m.isDone() }) return // its outcome is `runJob`'s to take
            m.close()
        }
        // A caller cancelled meanwhile gets its cancellation, not the wait's error.
        currentCoroutineContext().ensureActive()
        throw USVideoError.from(cleaning) // the core's words: the delete goes on
    }

    /**
     * What a cancelled create under [key] throws: the core's clean-up decides, from what it ended
     * with ([ended]): a job it found ([CreateCancellationException.made]), or an error carrying the
     * create's key (its outcome unknown: [CreateCancellationException.unknown]); any other end (a
     * create cancelled before it was sent, made nothing; a create-and-wait's job deleted) is
     * [stop] itself. A clean-up still going (the caller stopped waiting for it) has decided
     * nothing yet: a create that went out with no job named is in doubt, and its key goes with
     * the cancellation ([CreateCancellationException.stillLooking]).
     */
    private fun cancelledCreate(m: Machine, key: String, ended: Boolean, flight: Flight, stop: CancellationException): CancellationException {
        if (!ended) return if (flight.createSent && ffi { m.jobId() } == null) CreateCancellationException.stillLooking(key, stop) else stop
        return runCatching { ffi { m.takeJob() } }.fold(
            onSuccess = { CreateCancellationException.made(it, key, stop) },
            onFailure = { e ->
                val err = e as? USVideoError
                val unknownKey = err?.idempotencyKey
                when {
                    err == null -> stop
                    unknownKey != null -> CreateCancellationException.unknown(err, unknownKey, stop)
                    // A job the clean-up found but left (processing, its delete failed): named, as
                    // the events that would have named it went to nobody (helper-78).
                    err.jobId != null && !CreateCancellationException.gone(err.message) -> CreateCancellationException.left(err, key, stop)
                    else -> stop
                }
            },
        )
    }

    /**
     * Drives [m] to `Done`; with [handOff], only until a wait's clean-up begins (the core's
     * `cleaning_up`): then it returns the error to throw if [drive] hands the rest off (saying the
     * delete goes on). Null when done.
     */
    private suspend fun loop(m: Machine, onEvent: (Event) -> Unit, flight: Flight, handOff: Boolean = false): ErrorInfo? {
        while (true) {
            if (handOff) ffi { m.cleaningUp() }?.let { return it.error }
            when (val out = ffi { m.poll(now()) }) {
                is Output.Send -> {
                    val until = out.timeoutMs?.let { now() + it }
                    // Only the key's requests wait for (and teach) the key's limiter: not pricing.
                    val counted = com.usvideo.ffi.countsAgainstKey(out.endpoint)
                    flight.unsent = out.id
                    // A slot later than `sendBy` (a clean-up's delete whose job's sighting goes
                    // stale then) is not waited for: the core looks at the job again first.
                    val slotBy = listOfNotNull(until, out.sendBy).minOrNull()
                    if (counted && !acquireSlotBy(slotBy)) {
                        // Nothing reached the service (a create past its deadline made no job).
                        flight.unsent = null
                        ffi { m.handleNotSent(out.id, now()) }
                        continue
                    }
                    // A caller cancelled by now sends nothing (helper-44: a create called in a
                    // cancelled coroutine still went out, and its job was charged).
                    currentCoroutineContext().ensureActive()
                    flight.unsent = null
                    flight.sent = out.id
                    flight.createSent = flight.createSent || out.endpoint == com.usvideo.core.Endpoint.CREATE_VIDEO
                    // What is left of the request's time after the slot wait.
                    val outcome = exchange(out.request, until?.let { maxOf(1uL, it - minOf(it, now())) })
                    flight.sent = null
                    report(m, out.id, outcome, counted)
                }
                is Output.Event -> onEvent(out.v1)
                is Output.WaitUntil -> {
                    sleepUntil(out.v1)
                    ffi { m.handleTimeout(now()) }
                }
                // This driver awaits every request inline, so nothing can be in flight here; a
                // machine that says otherwise would wait for ever: stop it instead.
                Output.Pending -> {
                    ffi { m.cancel(now()) }
                    return null
                }
                Output.Done -> return null
            }
        }
    }

    /**
     * Drives [m] (a batch) until it is `Done` (returns true) or [onEvent] returns true (returns
     * false: drive again later to go on from there). [wake] cuts a sleep short (a cancel asked
     * from elsewhere).
     *
     * Cancellation differs from [drive]: a batch's own requests (the list, a delete) cannot be
     * reported `aborted` without failing the whole batch, and a create in flight may have made
     * a job. So the request in flight is **seen through** (it runs outside the caller's scope),
     * then the batch is cancelled and its clean-up driven — the deletes of pending jobs — all
     * within [cleanupTimeoutMs]; past that, the request is abandoned (best effort), and the
     * coroutine's own `CancellationException` is rethrown. [onCancel] is called as the batch is
     * cancelled, before the clean-up's events reach [onEvent] (a batch then keeps a callback's
     * error for later rather than let it stop the clean-up).
     */
    suspend fun driveUntil(m: Machine, cleanupTimeoutMs: Long, wake: Channel<Unit>? = null, onCancel: () -> Unit = {}, onEvent: (Event) -> Boolean): Boolean {
        val inFlight = arrayOfNulls<Pair<ULong, Deferred<Outcome>>>(1)
        // A request handed out and not yet sent (waiting for a slot): reported not sent when the
        // collector is cancelled meanwhile, or the core would wait for its answer for ever.
        val unsent = arrayOfNulls<ULong>(1)
        fun reportUnsent() {
            unsent[0]?.let { ffi { m.handleNotSent(it, now()) } }
            unsent[0] = null
        }
        try {
            return detachedLoop(m, wake, onEvent, inFlight, unsent)
        } catch (c: CancellationException) {
            withContext(NonCancellable) {
                reportUnsent()
                val finished = withTimeoutOrNull(cleanupTimeoutMs) {
                    inFlight[0]?.let { (id, d) ->
                        val outcome = d.await()
                        inFlight[0] = null
                        report(m, id, outcome)
                    }
                    onCancel()
                    ffi { m.cancel(now()) }
                    detachedLoop(m, null, { e -> onEvent(e); false }, inFlight, unsent)
                }
                if (finished == null) {
                    reportUnsent()
                    inFlight[0]?.let { (id, d) ->
                        d.cancel()
                        ffi { m.handleTransportError(id, TransportKind.ABORTED, "cancelled", now()) }
                    }
                }
            }
            throw c
        }
    }

    private suspend fun detachedLoop(m: Machine, wake: Channel<Unit>?, onEvent: (Event) -> Boolean, inFlight: Array<Pair<ULong, Deferred<Outcome>>?>, unsent: Array<ULong?>): Boolean {
        while (true) {
            when (val out = ffi { m.poll(now()) }) {
                is Output.Send -> {
                    // A delete carries `sendBy` (its job's pending sighting goes stale then): a
                    // slot later than that is not waited for, and the core looks first (helper-55).
                    // A cancel (`wake`) ends the wait too: the request is not sent, and a create
                    // then ends cancelled with no job.
                    unsent[0] = out.id
                    // (Only a create's wait: a read cut short would count as a failed one.)
                    if (!acquireSlotBy(out.sendBy, wake.takeIf { out.request.method == com.usvideo.core.Method.POST })) {
                        unsent[0] = null
                        ffi { m.handleNotSent(out.id, now()) }
                        continue
                    }
                    // A collector cancelled by now sends nothing (as `loop`'s).
                    currentCoroutineContext().ensureActive()
                    unsent[0] = null
                    val d = detached.async { exchange(out.request, out.timeoutMs) }
                    inFlight[0] = out.id to d
                    val outcome = d.await()
                    inFlight[0] = null
                    report(m, out.id, outcome)
                }
                is Output.Event -> if (onEvent(out.v1)) return false
                is Output.WaitUntil -> {
                    sleepUntil(out.v1, wake)
                    ffi { m.handleTimeout(now()) }
                }
                // Every request is awaited inline: nothing can be in flight here. Stop rather
                // than wait for ever.
                Output.Pending -> {
                    ffi { m.cancel(now()) }
                    return ffi { m.isDone() }
                }
                Output.Done -> return true
            }
        }
    }

    /** What [drive]'s loop has under way, for the clean-up after a cancel. */
    private class Flight {
        /** The request in flight. */
        var sent: ULong? = null
        /** One the core asked for that has not gone out yet (it waits for a slot). */
        var unsent: ULong? = null
        /** A create went out: it may have made a job, whatever became of its answer. */
        var createSent = false
    }

    /** What one exchange gave: an HTTP answer, or no answer. */
    sealed class Outcome {
        class Answer(val response: HttpResponse) : Outcome()
        class Failure(val kind: TransportKind, val message: String) : Outcome()
    }

    private companion object {
        /** How much later than the transport's own timeout the coroutine timeout fires. */
        const val TIMEOUT_GRACE_MS = 250L

        /**
         * How long a clean-up the caller stopped waiting for goes on in the background: a 429's
         * longest pause (60 s) and a full window of the rate limit (61 s), and some.
         */
        const val BACKGROUND_CLEANUP_MS = 130_000L

        /**
         * The instant the process's clients count from. One for the process, not one a client: the
         * clients of a key share its rate limiter, whose times must all be read on one clock (with
         * an epoch per client, a client made an hour after another read the other's sends as an
         * hour newer, and waited an hour more for their slots).
         */
        val EPOCH = System.nanoTime()
    }
}
