package com.usvideo

import com.usvideo.core.Event
import com.usvideo.core.Output
import com.usvideo.core.TransportKind
import com.usvideo.ffi.Machine
import com.usvideo.ffi.RateLimiter
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.NonCancellable
import kotlinx.coroutines.delay
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull

/**
 * The one driver loop: it runs any core machine to `Done`. It reads the clock, sleeps, takes a
 * rate-limiter slot and performs HTTP; every decision (retries, backoff, `Retry-After`, the poll
 * schedule, deadlines, reconciliation of a lost create) is the core's.
 *
 * Cancellation: when the calling coroutine is cancelled, the request in flight is abandoned and
 * reported as `aborted`, the machine is told to cancel, and its clean-up (the delete of a job
 * that is still pending, refunding it) is driven to the end outside the cancelled scope, within
 * [cleanupTimeoutMs]; then the coroutine's own `CancellationException` is rethrown.
 */
internal class Driver(
    private val transport: HttpTransport,
    private val limiter: RateLimiter,
    private val cleanupTimeoutMs: Long = 10_000,
) {
    private val epoch = System.nanoTime()

    /** Monotonic ms since this client was made: the core's clock. */
    fun now(): ULong = ((System.nanoTime() - epoch) / 1_000_000).toULong()

    private suspend fun sleepUntil(t: ULong) {
        val ms = t.toLong() - now().toLong()
        if (ms > 0) delay(ms)
    }

    suspend fun drive(m: Machine, onEvent: (Event) -> Unit) {
        val inFlight = arrayOfNulls<ULong>(1)
        try {
            loop(m, onEvent, inFlight)
        } catch (c: CancellationException) {
            withContext(NonCancellable) {
                withTimeoutOrNull(cleanupTimeoutMs) {
                    inFlight[0]?.let { ffi { m.handleTransportError(it, TransportKind.ABORTED, "cancelled", now()) } }
                    inFlight[0] = null
                    ffi { m.cancel(now()) }
                    loop(m, {}, inFlight)
                }
            }
            throw c
        }
    }

    private suspend fun loop(m: Machine, onEvent: (Event) -> Unit, inFlight: Array<ULong?>) {
        while (true) {
            when (val out = ffi { m.poll(now()) }) {
                is Output.Send -> {
                    while (true) sleepUntil(ffi { limiter.tryAcquire(now()) } ?: break)
                    inFlight[0] = out.id
                    val response = try {
                        transport.send(out.request, out.timeoutMs?.toLong())
                    } catch (c: CancellationException) {
                        throw c
                    } catch (e: TransportException) {
                        inFlight[0] = null
                        ffi { m.handleTransportError(out.id, e.kind, e.message ?: "", now()) }
                        continue
                    } catch (e: Exception) {
                        inFlight[0] = null
                        ffi { m.handleTransportError(out.id, TransportKind.OTHER, "${e::class.java.simpleName}: ${e.message ?: ""}", now()) }
                        continue
                    }
                    inFlight[0] = null
                    val t = now()
                    ffi { limiter.observe(response, t) }
                    ffi { m.handleResponse(out.id, response, t) }
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
                    return
                }
                Output.Done -> return
            }
        }
    }
}
