package com.usvideo.test

import com.usvideo.*
import com.usvideo.core.CreateVideoRequest
import com.usvideo.core.Event
import com.usvideo.core.JobProgress
import com.usvideo.core.JobStatus
import com.usvideo.core.Mode
import com.usvideo.core.Resolution
import kotlinx.coroutines.async
import kotlinx.coroutines.cancel
import kotlinx.coroutines.launch
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.withTimeout
import kotlinx.coroutines.TimeoutCancellationException
import java.math.BigDecimal

/** Fast polls against an emulator running 50× real time. */
val fast = WaitConfig(timeoutMs = 60_000, expectedScale = 1.0 / 50, firstPollMs = 100, minPollIntervalMs = 100)

fun text(prompt: String = "a lake at dawn") = CreateVideoRequest(prompt, Mode.TEXT_TO_VIDEO)

/**
 * Drives a create-and-wait on [c] with a rate limiter of its own, and cancels it once [seen] picks
 * a value out of one of its events: the limiter is paused [pauseMs] first, and [meanwhile] runs
 * just before the cancel. Returns that value once the caller is back (its driver waits
 * [cleanupTimeoutMs] for the clean-up at most).
 */
suspend fun <T : Any> cancelledInAPause(c: USVideo, cleanupTimeoutMs: Long, pauseMs: ULong, seen: (Event) -> T?, meanwhile: () -> Unit = {}): T {
    val limiter = com.usvideo.ffi.RateLimiter(0u)
    val driver = Driver(HttpUrlConnectionTransport(), limiter, 60_000, cleanupTimeoutMs = cleanupTimeoutMs)
    val m = ffi { c.core.createAndWait(text(), fast.toCore(), entropy(), seed(), driver.now()) }
    val first = kotlinx.coroutines.CompletableDeferred<T>()
    return coroutineScope {
        val wait = async { driver.drive(m) { e -> seen(e)?.let { first.complete(it) } } }
        val value = first.await()
        limiter.onRetryAfter(driver.now(), pauseMs)
        meanwhile()
        wait.cancel()
        runCatching { wait.await() }
        value
    }
}

/**
 * A transport whose first create is sent (the service makes the job) and never answered: it
 * hangs until cancelled. [sent] completes once the service has that create. With [promptless],
 * the jobs it reads carry no `prompt`, as the reference's job shape shows none: the job list
 * cannot tell the create's own job from another process's.
 */
class AnswerLost(private val promptless: Boolean = false, private val inner: HttpTransport = HttpUrlConnectionTransport()) : HttpTransport {
    val sent = kotlinx.coroutines.CompletableDeferred<Unit>()
    private val lost = java.util.concurrent.atomic.AtomicBoolean(false)

    override suspend fun send(request: com.usvideo.core.HttpRequest, timeoutMs: Long?): com.usvideo.core.HttpResponse {
        val r = inner.send(request, timeoutMs)
        if (request.method == com.usvideo.core.Method.POST && !lost.getAndSet(true)) {
            sent.complete(Unit)
            kotlinx.coroutines.awaitCancellation()
        }
        return if (promptless && request.method == com.usvideo.core.Method.GET && r.status.toInt() == 200) r.copy(body = withoutPrompts(r.body)) else r
    }

    private fun withoutPrompts(body: ByteArray): ByteArray {
        val v = Json.parse(body.decodeToString()).obj()
        val stripped = if ("data" in v) v + ("data" to v["data"].arr().map { it.obj() - "prompt" }) else v - "prompt"
        return Json.write(stripped).toByteArray()
    }
}

/** What [call] throws inside its own coroutine, cancelled once [cancelWhen] returns. */
suspend fun thrownOnCancel(cancelWhen: suspend () -> Unit, call: suspend () -> Unit): Throwable = coroutineScope {
    val thrown = kotlinx.coroutines.CompletableDeferred<Throwable>()
    val running = launch { try { call() } catch (e: Throwable) { thrown.complete(e); throw e } }
    cancelWhen()
    running.cancel()
    running.join()
    check(thrown.isCompleted) { "the call returned instead of throwing" }
    thrown.getCompleted()
}

fun client(e: Emulator, key: String?, maxRetries: Int? = null, transport: HttpTransport = HttpUrlConnectionTransport()) =
    USVideo(apiKey = key, baseUrl = e.base, maxRetries = maxRetries, transport = transport)

fun registerEmulatorTests() {
    test("emulator/account_and_pricing") {
        val (key, _, email) = emu.account(12_345)
        client(emu, key).use { c ->
            val a = c.account.retrieve()
            eq(email, a.email); eq(12_345uL, a.balanceCents)
            val table = c.pricing.retrieve()
            eq(120L, c.pricing.estimate(table, Resolution.P1080, 5))
        }
        // Pricing needs no key.
        client(emu, null).use { c -> eq(3, c.pricing.retrieve().prices.size) }
        // A keyless client (behind a proxy that adds the key) sends none: the 401 says so.
        client(emu, null).use { c ->
            val e = assertThrowsS<AuthenticationError> { c.account.retrieve() }
            check("no API key was sent: this client has none" in (e.message ?: "")) { e.message ?: "" }
        }
        // To the service itself, a keyless call that needs a key is refused before it is sent.
        USVideo(apiKey = null, baseUrl = "https://usvideoapi.com/v1").use { c ->
            eq("api_key", assertThrowsS<ValidationError> { c.videos.retrieve("job_1") }.field)
        }
    }
    test("emulator/create_retrieve_list_delete") {
        val (key, _, email) = frozen.account(10_000)
        client(frozen, key).use { c ->
            val job = c.videos.create(text().copy(resolution = Resolution.P1080, duration = 5u))
            eq(JobStatus.Pending, job.status); eq(120uL, job.estimatedCostCents)
            eq(job.id, c.videos.retrieve(job.id).id)
            check(c.videos.list(limit = 10).data.any { it.id == job.id })
            val d = c.videos.delete(job.id)
            check(d.deleted); eq(120uL, d.refundedCents)
            val nf = assertThrowsS<NotFoundError> { c.videos.retrieve(job.id) }
            eq(404, nf.status)
            eq(BigDecimal.ZERO.compareTo(frozen.ledger(email)["held_cents"] as BigDecimal), 0, "nothing held")
        }
    }
    test("emulator/create_and_wait_with_progress") {
        val (key, _, _) = emu.account()
        client(emu, key).use { c ->
            val progress = mutableListOf<JobProgress>()
            val events = mutableListOf<Event>()
            val job = c.videos.createAndWait(text(), fast, onProgress = { progress.add(it) }, onEvent = { events.add(it) })
            eq(JobStatus.Completed, job.status)
            check(job.videoUrl != null) { "video_url" }
            eq(30uL, job.costCents)
            check(progress.isNotEmpty()) { "no progress" }
            check(events.any { it is Event.Created }) { "no created event" }
        }
    }
    test("emulator/a_finished_job_teaches_the_clients_later_waits") {
        val (key, _, _) = emu.account()
        client(emu, key).use { c ->
            // The expected time a create-and-wait's first progress report says, its scale left at 1.
            suspend fun firstExpected(): ULong {
                val progress = mutableListOf<JobProgress>()
                c.videos.createAndWait(text().copy(resolution = Resolution.P1080, duration = 5u), fast.copy(expectedScale = 1.0), onProgress = { progress.add(it) })
                return progress.first().expectedMs
            }
            // 1080p, 5 s: the model's 78 s, done in ~1.6 s at × 50; one lesson moves the scale to ~0.7.
            eq(78_000uL, firstExpected())
            val second = firstExpected()
            check(second in 54_600uL until 58_000uL) { "scale ~0.7 after one lesson: $second" }
        }
    }
    test("emulator/pricing_is_not_held_by_the_keys_spent_rate_limit") {
        // Pricing needs no key: the key's limiter neither holds nor counts it (helper-36: it
        // waited out the key's pause).
        val (key, _, _) = frozen.account()
        USVideo(apiKey = key, baseUrl = frozen.base, requestsPerMinute = 1).use { c ->
            c.account.retrieve() // the key's one slot of the minute
            val started = System.nanoTime()
            c.pricing.retrieve()
            val ms = (System.nanoTime() - started) / 1_000_000
            check(ms < 20_000) { "pricing took $ms ms" }
        }
    }
    test("emulator/a_call_that_gives_up_its_slot_wait_leaves_the_line") {
        val (key, _, _) = frozen.account()
        USVideo(apiKey = key, baseUrl = frozen.base, requestsPerMinute = 1).use { c ->
            c.account.retrieve() // the one slot
            // Its first poll finds no slot before the wait's deadline: it gives up, and leaves the line.
            assertThrowsS<WaitTimeoutError> { c.videos.wait("job_1", WaitConfig(timeoutMs = 50)) }
            val line = com.usvideo.ffi.RateLimiter.shared(frozen.base, key, 1u)
            val now = c.driver.now()
            val turn = line.acquireInLine(null, now)
            // First in line: its turn is when the one slot frees, not a window after the one who left.
            check(turn.waitUntil!! <= now + 61_000uL) { "$turn at $now" }
            turn.ticket?.let { line.leave(it) }
            // A client of the same base URL written with a trailing slash shares that limiter (it
            // had one of its own: its poll went out, and the job's 404 came back).
            USVideo(apiKey = key, baseUrl = frozen.base + "/", requestsPerMinute = 1).use { slash ->
                assertThrowsS<WaitTimeoutError> { slash.videos.wait("job_1", WaitConfig(timeoutMs = 50)) }
            }
        }
    }
    test("emulator/a_callback_that_throws_ends_the_wait_and_deletes_its_pending_job") {
        // The job stays pending on the frozen clock: the wait the callback ended is cleaned up as
        // a cancelled one is (it was left running, and charged: helper-36).
        val (key, _, email) = frozen.account(10_000)
        client(frozen, key).use { c ->
            val e = assertThrowsS<IllegalStateException> {
                c.videos.createAndWait(text(), fast, onEvent = { if (it is Event.Created) error("boom in a callback") })
            }
            eq("boom in a callback", e.message)
            check(c.videos.list().data.isEmpty()) { "the pending job was deleted" }
            eq(BigDecimal.ZERO.compareTo(frozen.ledger(email)["held_cents"] as BigDecimal), 0, "nothing held")
        }
    }
    test("emulator/a_cancelled_waits_delete_goes_on_after_the_caller_stops_waiting") {
        // The delete must wait out a pause (1.5 s) on the limiter; the caller waits 200 ms for it
        // here (10 s in a client), then the clean-up goes on in the background and refunds the
        // job (it was given up, leaving the job to be charged: helper-36).
        val (key, _, email) = frozen.account(10_000)
        client(frozen, key).use { c ->
            cancelledInAPause(c, cleanupTimeoutMs = 200, pauseMs = 1_500uL, seen = { if (it is Event.Created) Unit else null })
            // The caller is back (after its 200 ms) while the pause lasts: nothing deleted yet.
            check((frozen.ledger(email)["held_cents"] as BigDecimal).signum() > 0) { "held while the pause lasts" }
            delay(2_500)
            eq(BigDecimal.ZERO.compareTo(frozen.ledger(email)["held_cents"] as BigDecimal), 0, "refunded after the pause")
        }
    }
    test("emulator/a_delete_held_by_the_slot_wait_past_its_sighting_looks_first_and_leaves_a_finished_job") {
        // helper-44: deletes held a minute by a spent budget went out on a stale sighting and
        // removed finished videos. Here the key's limiter pauses 4 s as the wait is cancelled, and
        // the job completes meanwhile: the delete is not sent past its sighting's freshness (1 s at most),
        // the job is looked at after the pause, and left alone.
        val (key, _, _) = frozen.account(10_000)
        client(frozen, key).use { c ->
            // The caller waits for the clean-up (10 s at most here).
            val id = cancelledInAPause(c, cleanupTimeoutMs = 10_000, pauseMs = 4_000uL, seen = { (it as? Event.Progress)?.progress?.jobId }) {
                frozen.control("POST", "/_emulator/clock", mapOf("advance_ms" to 600_000))
            }
            eq(JobStatus.Completed, c.videos.retrieve(id).status, "the finished video is kept")
        }
    }
    test("emulator/a_timed_out_waits_delete_goes_on_after_the_caller_stops_waiting") {
        // A wait with cancelOnTimeout times out on a pending job; its delete must wait out a pause
        // (1.5 s) on the limiter. The caller waits 200 ms for it here (10 s in a client), then gets
        // the wait's timeout saying the delete goes on, and the job is refunded after the pause
        // (the core gave a timed-out wait's delete 10 s, then left the job to be charged).
        val (key, _, email) = frozen.account(10_000)
        client(frozen, key).use { c ->
            val limiter = com.usvideo.ffi.RateLimiter(0u)
            val driver = Driver(HttpUrlConnectionTransport(), limiter, 60_000, cleanupTimeoutMs = 200)
            val job = c.videos.create(text())
            val m = ffi { c.core.wait(job.id, fast.copy(timeoutMs = 400, cancelOnTimeout = true).toCore(), seed(), driver.now()) }
            // The key is paused once the wait has seen its job pending (no more polls go out).
            var paused = false
            val pause: (Event) -> Unit = { if (it is Event.Progress && !paused) { paused = true; limiter.onRetryAfter(driver.now(), 1_500uL) } }
            val started = System.nanoTime()
            val e = assertThrowsS<WaitTimeoutError> { driver.drive(m, handOff = true, onEvent = pause) }
            check(e.message!!.contains("goes on in the background") && e.jobId == job.id) { e.message!! }
            check((System.nanoTime() - started) / 1_000_000 < 1_500) { "the caller waited out the pause" }
            check((frozen.ledger(email)["held_cents"] as BigDecimal).signum() > 0) { "held while the pause lasts" }
            delay(3_000)
            eq(BigDecimal.ZERO.compareTo(frozen.ledger(email)["held_cents"] as BigDecimal), 0, "refunded after the pause")
        }
    }
    test("emulator/wait_events_flow") {
        val (key, _, _) = emu.account()
        client(emu, key).use { c ->
            val job = c.videos.create(text())
            val events = c.videos.waitEvents(job.id, fast).toList()
            check(events.any { it is Event.StatusChanged && it.job.status == JobStatus.Completed }) { "$events" }
        }
    }
    test("emulator/list_all_pages") {
        val (key, _, _) = frozen.account(100_000)
        client(frozen, key).use { c ->
            val ids = (1..5).map { c.videos.create(text("clip $it")).id }
            val all = c.videos.listAll(pageSize = 2).toList().map { it.id }
            eq(ids.reversed(), all, "most recent first, every page")
        }
    }
    test("emulator/list_all_bare_array_pages") {
        // A bare array as long as the asked limit may have more after it; the short one is the last.
        fun page(from: Int, n: Int) = "[" + (from until from + n).joinToString(",") {
            """{"id":"job_$it","status":"completed","mode":"text_to_video","resolution":"720p","duration":5,"estimated_cost_cents":30,"created_at":"2026-04-21T15:30:00Z","video_url":"https://cdn.example/$it.mp4"}"""
        } + "]"
        val (key, _, _) = frozen.account(100_000)
        client(frozen, key).use { c ->
            try {
                for (body in listOf(page(0, 100), page(100, 7)))
                    frozen.fault("method" to "GET", "path" to "/v1/videos", "status" to 200, "body" to body, "content_type" to "application/json")
                val ids = c.videos.listAll().toList().map { it.id }
                eq(107, ids.size); eq("job_106", ids.last())
                frozen.fault("method" to "GET", "path" to "/v1/videos", "status" to 200, "body" to page(0, 3), "content_type" to "application/json")
                val p = c.videos.list(limit = 3, offset = 30)
                eq(Triple(3u, 30uL, true), Triple(p.limit, p.offset, p.hasMore))
                // A server that ignores `offset` answers every page alike: the walk ends at the repeat.
                frozen.fault("method" to "GET", "path" to "/v1/videos", "status" to 200, "body" to page(0, 100), "content_type" to "application/json", "times" to 10)
                eq(100, c.videos.listAll().toList().size)
            } finally {
                frozen.clearFaults()
            }
        }
    }
    test("emulator/api_keys_with_jwt") {
        val (key, jwt, email) = emu.account()
        client(emu, null).use { c ->
            val k = c.apiKeys.create(jwt, name = "ci")
            check(k.key.startsWith("sd_")); eq("ci", k.name)
            client(emu, k.key).use { eq(email, it.account.retrieve().email) }
            // An API key where a JWT belongs is refused before sending; a foreign JWT by the server.
            eq("jwt", assertThrowsS<ValidationError> { c.apiKeys.create(key) }.field)
            eq(401, assertThrowsS<AuthenticationError> { c.apiKeys.create("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln") }.status)
        }
    }
    test("emulator/error_401_authentication") {
        client(emu, "sd_unknown_key_0000000000").use { c ->
            val e = assertThrowsS<AuthenticationError> { c.account.retrieve() }
            eq(401, e.status)
        }
    }
    test("emulator/error_402_insufficient_balance_nothing_charged") {
        val (key, _, email) = emu.account(10)
        client(emu, key).use { c ->
            val e = assertThrowsS<InsufficientBalanceError> { c.videos.create(text()) }
            eq(402, e.status)
            eq(0, (emu.ledger(email)["jobs_created"] as BigDecimal).toInt())
        }
    }
    test("emulator/error_409_delete_processing") {
        val (key, _, _) = frozen.account()
        client(frozen, key).use { c ->
            val job = c.videos.create(text())
            frozen.control("POST", "/_emulator/clock", mapOf("advance_ms" to 4_000))
            var seen = c.videos.retrieve(job.id)
            var advanced = 0
            while (seen.status == JobStatus.Pending && advanced < 20) {
                frozen.control("POST", "/_emulator/clock", mapOf("advance_ms" to 1_000)); advanced++
                seen = c.videos.retrieve(job.id)
            }
            eq(JobStatus.Processing, seen.status)
            val e = assertThrowsS<ConflictError> { c.videos.delete(job.id) }
            eq(409, e.status)
        }
    }
    test("emulator/error_classes_by_status") {
        val (key, _, _) = emu.account()
        client(emu, key, maxRetries = 0).use { c ->
            val cases = listOf<Triple<Int, String, (USVideoError) -> Boolean>>(
                Triple(400, "bad_thing", { it is BadRequestError && it.field == "limit" }),
                Triple(409, "conflict", { it is ConflictError }),
                Triple(500, "boom", { it is InternalServerError }),
                Triple(502, "upstream", { it is UpstreamError }),
                Triple(503, "unavailable", { it is APIStatusError }),
                Triple(418, "teapot", { it is APIStatusError }),
            )
            for ((status, code, isRight) in cases) {
                emu.fault("method" to "GET", "path" to "/v1/account", "status" to status,
                    "body" to mapOf("error" to mapOf("code" to code, "message" to "injected", "field" to "limit")))
                val e = assertThrowsS<USVideoError> { c.account.retrieve() }
                check(isRight(e)) { "$status gave $e" }
                eq(status, e.status, "status"); eq(code, e.code, "code")
            }
            emu.fault("method" to "GET", "path" to "/v1/account", "status" to 502, "body" to "<html>bad gateway</html>", "content_type" to "text/html")
            eq(502, assertThrowsS<UpstreamError> { c.account.retrieve() }.status)
        }
    }
    test("emulator/error_malformed_body_is_api_response_error") {
        val (key, _, _) = emu.account()
        client(emu, key, maxRetries = 0).use { c ->
            emu.fault("method" to "GET", "path" to "/v1/account", "malformed" to true)
            assertThrowsS<APIResponseError> { c.account.retrieve() }
        }
    }
    test("emulator/error_connection_refused") {
        USVideo(apiKey = "sd_test_key_0001", baseUrl = "http://127.0.0.1:9/v1", maxRetries = 0).use { c ->
            assertThrowsS<APIConnectionError> { c.account.retrieve() }
        }
    }
    test("emulator/error_timeout") {
        val (key, _, _) = emu.account()
        client(emu, key, maxRetries = 0, transport = HttpUrlConnectionTransport(requestTimeoutMs = 300)).use { c ->
            emu.fault("method" to "GET", "path" to "/v1/account", "delay_ms" to 3_000)
            assertThrowsS<APITimeoutError> { c.account.retrieve() }
        }
    }
    test("emulator/job_failed") {
        val (key, _, _) = emu.account()
        client(emu, key).use { c ->
            emu.fault("fail_job" to true, "message" to "the model refused")
            val e = assertThrowsS<JobFailedError> { c.videos.createAndWait(text(), fast) }
            check(e.jobId != null); eq("failed", e.jobStatus)
        }
    }
    test("emulator/wait_timeout_job_goes_on") {
        val (key, _, _) = frozen.account()
        client(frozen, key).use { c ->
            val job = c.videos.create(text())
            val e = assertThrowsS<WaitTimeoutError> { c.videos.wait(job.id, fast.copy(timeoutMs = 400)) }
            eq(job.id, e.jobId); eq("pending", e.jobStatus)
            eq(JobStatus.Pending, c.videos.retrieve(job.id).status)
        }
    }
    test("emulator/wait_deadline_holds_while_the_rate_limit_is_spent") {
        val (key, _, _) = frozen.account()
        USVideo(apiKey = key, baseUrl = frozen.base, requestsPerMinute = 2).use { c ->
            val job = c.videos.create(text())
            c.account.retrieve() // the minute's budget is spent
            val started = System.nanoTime()
            val e = assertThrowsS<WaitTimeoutError> { c.videos.wait(job.id, fast.copy(timeoutMs = 300)) }
            eq(job.id, e.jobId)
            val ms = (System.nanoTime() - started) / 1_000_000
            check(ms < 5_000) { "the wait took $ms ms" }
            // The poll was never sent, and the error says why (the core's words, `handleNotSent`).
            check("not sent: no slot of the client's rate limit" in (e.message ?: "")) { e.message ?: "" }
        }
    }
    test("emulator/clients_of_one_key_share_its_rate_limit") {
        // The service counts a key's requests, not a client's: a second client on the key sees
        // the first one's and waits for the key's next slot.
        val (key, _, _) = emu.account()
        USVideo(apiKey = key, baseUrl = emu.base, requestsPerMinute = 1).use { a ->
            USVideo(apiKey = key, baseUrl = emu.base, requestsPerMinute = 1).use { b ->
                a.account.retrieve()
                eq(null, kotlinx.coroutines.withTimeoutOrNull(300) { b.account.retrieve() })
            }
        }
    }
    test("emulator/rate_limit_429_retry_after_honoured") {
        val (key, _, _) = emu.account()
        client(emu, key).use { c ->
            emu.fault("method" to "GET", "path" to "/v1/account", "status" to 429, "retry_after" to 1,
                "body" to mapOf("error" to mapOf("code" to "rate_limited", "message" to "slow down")))
            val start = System.nanoTime()
            c.account.retrieve()
            val ms = (System.nanoTime() - start) / 1_000_000
            check(ms >= 950) { "retried after $ms ms, before Retry-After" }
        }
        client(emu, key, maxRetries = 0).use { c ->
            emu.fault("method" to "GET", "path" to "/v1/account", "status" to 429, "retry_after" to 2,
                "body" to mapOf("error" to mapOf("code" to "rate_limited", "message" to "slow down")))
            val e = assertThrowsS<RateLimitError> { c.account.retrieve() }
            eq(2_000L, e.retryAfter?.inWholeMilliseconds); eq("rate_limited", e.code); eq(429, e.status)
        }
    }
    test("emulator/an_unknown_create_outcome_names_its_key_and_creating_again_under_it_charges_once") {
        val (key, _, email) = frozen.account(10_000)
        client(frozen, key, maxRetries = 1).use { c ->
            // Stored, its answer lost; and the list that would tell fails for good.
            frozen.fault("method" to "POST", "path" to "/v1/videos", "drop" to "after")
            frozen.fault("method" to "GET", "path" to "/v1/videos", "status" to 503, "times" to 10)
            val e = assertThrowsS<USVideoError> { c.videos.create(text()) }
            eq("outcome_unknown", e.code)
            check(e.idempotencyKey?.startsWith("usv-") == true && !e.isRetryable) { "$e ${e.idempotencyKey}" }
            frozen.clearFaults()
            val job = c.videos.create(text(), idempotencyKey = e.idempotencyKey)
            eq(listOf(job.id), c.videos.list().data.map { it.id })
            eq(1, (frozen.ledger(email)["jobs_created"] as BigDecimal).toInt(), "the same job, charged once")
        }
        val (poor, _, _) = frozen.account(1)
        client(frozen, poor).use { c -> eq(null, assertThrowsS<InsufficientBalanceError> { c.videos.create(text()) }.idempotencyKey) }
    }
    test("emulator/create_dropped_after_store_one_job_one_charge") {
        val (key, _, email) = frozen.account(10_000)
        client(frozen, key).use { c ->
            frozen.fault("method" to "POST", "path" to "/v1/videos", "drop" to "after")
            val job = c.videos.create(text().copy(resolution = Resolution.P1080))
            eq(JobStatus.Pending, job.status)
            val page = c.videos.list()
            eq(1, page.data.size, "jobs on the account")
            eq(job.id, page.data[0].id)
            val l = frozen.ledger(email)
            eq(1, (l["jobs_created"] as BigDecimal).toInt(), "jobs created")
            eq(120, (l["held_cents"] as BigDecimal).toInt(), "one charge held")
            eq(10_000 - 120, (l["balance_cents"] as BigDecimal).toInt(), "balance")
        }
    }
    test("emulator/identical_creates_with_lost_answers_get_their_own_jobs") {
        val (key, _, email) = frozen.account(10_000)
        USVideo(apiKey = key, baseUrl = frozen.base, requestsPerMinute = 0).use { c ->
            val earlier = c.videos.create(text())
            frozen.fault("method" to "POST", "path" to "/v1/videos", "drop" to "after", "times" to 3)
            val jobs = coroutineScope { (1..6).map { async { c.videos.create(text()) } }.map { it.await() } }
            eq(7, (jobs.map { it.id } + earlier.id).toSet().size, "7 creates, 7 jobs")
            eq(7, (frozen.ledger(email)["jobs_created"] as BigDecimal).toInt(), "jobs created")
        }
    }
    test("emulator/identical_creates_of_clients_of_one_key_with_lost_answers_get_their_own_jobs") {
        // A client per request: the key's clients share its claims.
        val (key, _, email) = frozen.account(10_000)
        val earlier = USVideo(apiKey = key, baseUrl = frozen.base, requestsPerMinute = 0).use { it.videos.create(text()) }
        frozen.fault("method" to "POST", "path" to "/v1/videos", "drop" to "after", "times" to 3)
        val jobs = coroutineScope {
            (1..6).map { async { USVideo(apiKey = key, baseUrl = frozen.base, requestsPerMinute = 0).use { c -> c.videos.create(text()) } } }.map { it.await() }
        }
        eq(7, (jobs.map { it.id } + earlier.id).toSet().size, "7 creates, 7 jobs")
        eq(7, (frozen.ledger(email)["jobs_created"] as BigDecimal).toInt(), "jobs created")
    }
    test("emulator/create_dropped_before_sent_again") {
        val (key, _, email) = frozen.account(10_000)
        client(frozen, key).use { c ->
            frozen.fault("method" to "POST", "path" to "/v1/videos", "drop" to "before")
            c.videos.create(text())
            eq(1, (frozen.ledger(email)["jobs_created"] as BigDecimal).toInt(), "jobs created")
        }
    }
    test("emulator/cancel_wait_leaves_the_job_it_only_watches") {
        // helper-37: an aborted watcher deleted the job another one waited for (job rule 6).
        val (key, _, _) = frozen.account(10_000)
        client(frozen, key).use { c ->
            val job = c.videos.create(text())
            val r = runCatching { withTimeout(500) { c.videos.wait(job.id, fast) } }
            check(r.exceptionOrNull() is TimeoutCancellationException) { "got $r" }
            eq(JobStatus.Pending, c.videos.retrieve(job.id).status, "still there for its other watchers")
        }
    }
    test("emulator/cancel_wait_deletes_pending_job_promptly") {
        val (key, _, email) = frozen.account(10_000)
        client(frozen, key).use { c ->
            val job = c.videos.create(text())
            val started = System.nanoTime()
            // Told to delete on giving up: a cancel does too.
            val r = runCatching { withTimeout(500) { c.videos.wait(job.id, fast.copy(cancelOnTimeout = true)) } }
            val ms = (System.nanoTime() - started) / 1_000_000
            check(r.exceptionOrNull() is TimeoutCancellationException) { "got $r" }
            check(ms < 3_000) { "cancellation took $ms ms" }
            assertThrowsS<NotFoundError> { c.videos.retrieve(job.id) }
            val l = frozen.ledger(email)
            eq(30, (l["refunded_cents"] as BigDecimal).toInt(), "refunded")
        }
    }
    test("emulator/a_double_submits_cancel_leaves_the_job_to_its_twin_and_the_last_one_deletes_it") {
        // Two calls given one idempotency key wait for one job (the service's replay); cancelling
        // one used to delete it under the other (helper-40, in npm; core: JobRun rule 9).
        val (key, _, email) = frozen.account(10_000)
        client(frozen, key).use { c ->
            coroutineScope {
                val calls = (1..2).map { async { c.videos.createAndWait(text(), fast, idempotencyKey = "double-submit-1") } }
                while (c.videos.list().data.isEmpty()) delay(50)
                delay(300) // both have their job (the replay)
                calls[0].cancel()
                check(runCatching { calls[0].await() }.exceptionOrNull() is kotlinx.coroutines.CancellationException)
                eq(JobStatus.Pending, c.videos.list().data.single().status, "left to the other call")
                calls[1].cancel()
                check(runCatching { calls[1].await() }.exceptionOrNull() is kotlinx.coroutines.CancellationException)
            }
            eq(0, c.videos.list().data.size, "the last one deleted it")
            val l = frozen.ledger(email)
            eq(1, (l["jobs_created"] as BigDecimal).toInt(), "one job")
            eq(30, (l["refunded_cents"] as BigDecimal).toInt(), "refunded once")
        }
    }
    test("emulator/a_call_in_a_cancelled_coroutine_sends_nothing") {
        // helper-44: `create` called in a coroutine already cancelled still sent its POST, and the
        // job was charged with nobody to see it; `apiKeys.create` made a key nobody saw.
        val (key, jwt, email) = frozen.account(10_000)
        client(frozen, key).use { c ->
            coroutineScope {
                val calls = listOf(
                    launch { coroutineContext.cancel(); c.videos.create(text()) },
                    launch { coroutineContext.cancel(); c.videos.createAndWait(text(), fast) },
                    launch { coroutineContext.cancel(); c.apiKeys.create(jwt, "never") },
                )
                calls.forEach { it.join() }
            }
            eq(0, (frozen.ledger(email)["jobs_created"] as BigDecimal).toInt(), "no job made")
            eq(0, c.videos.list().data.size, "none listed")
        }
    }
    test("emulator/a_create_cancelled_after_its_request_went_out_names_its_job_and_key") {
        // README "Not finished", Kotlin (until session 30): a plain create cancelled after its
        // request went out threw a bare CancellationException, and the job it made (charged) had
        // no handle. The core's clean-up looks the job up (here the list shows its prompt): the
        // cancellation names it, and the key that gets it back.
        val (key, _, email) = frozen.account(10_000)
        val lost = AnswerLost()
        client(frozen, key, transport = lost).use { c ->
            val e = thrownOnCancel({ lost.sent.await() }) { c.videos.create(text("cancelled in flight")) }
            check(e is CreateCancellationException) { "got $e" }
            e as CreateCancellationException
            val job = c.videos.list().data.single()
            eq(job.id, e.jobId, "its job")
            check(e.idempotencyKey.startsWith("usv-") && "idempotencyKey = \"${e.idempotencyKey}\"" in e.message!!) { e.message!! }
            eq(JobStatus.Pending, job.status, "left to run (a plain create deletes nothing)")
            eq(job.id, c.videos.create(text("cancelled in flight"), idempotencyKey = e.idempotencyKey).id, "its job, under its key")
            eq(1, (frozen.ledger(email)["jobs_created"] as BigDecimal).toInt(), "one job")
        }
        // Cancelled before anything was sent (waiting for the minute's only slot): a plain
        // cancellation, and nothing made.
        val (other, _, otherEmail) = frozen.account(10_000)
        USVideo(apiKey = other, baseUrl = frozen.base, requestsPerMinute = 1).use { c ->
            c.account.retrieve()
            val e = thrownOnCancel({ delay(300) }) { c.videos.create(text()) }
            check(e is kotlinx.coroutines.CancellationException && e !is CreateCancellationException) { "got $e" }
            eq(0, (frozen.ledger(otherEmail)["jobs_created"] as BigDecimal).toInt(), "no job made")
        }
    }
    test("emulator/a_create_and_wait_cancelled_with_its_create_out_names_the_job_its_clean_up_left") {
        // helper-78: the clean-up found the job but could not delete it (here every DELETE meets a
        // 409): the core's error named it, its events went to nobody, and the caller got a bare
        // cancellation, the job charged and unnamed.
        val (key, _, email) = frozen.account(10_000)
        frozen.fault("method" to "DELETE", "path" to "/v1/videos/*", "status" to 409, "times" to 20)
        val lost = AnswerLost()
        client(frozen, key, transport = lost).use { c ->
            val e = thrownOnCancel({ lost.sent.await() }) { c.videos.createAndWait(text("left by its clean-up"), fast) }
            check(e is CreateCancellationException) { "got $e" }
            e as CreateCancellationException
            val job = c.videos.list().data.single()
            eq(job.id, e.jobId, "the job it left")
            check("was not deleted" in e.message!!) { e.message!! }
        }
        frozen.clearFaults()
        eq(1, (frozen.ledger(email)["jobs_created"] as BigDecimal).toInt(), "one job")
    }
    test("emulator/a_cancel_with_its_create_out_against_jobs_without_prompts_carries_the_key") {
        // README "Clean-ups and cancels": against a service whose jobs show no prompt, a create
        // (or create-and-wait) cancelled while its create's answer was out cannot tell its job
        // from the list; the job is left, charged (helper-61: 24¢), and Kotlin said nothing. The
        // core ends `outcome_unknown` with the create's key, which the cancellation now carries.
        val (key, _, email) = frozen.account(10_000)
        for (which in listOf("create", "createAndWait")) {
            val lost = AnswerLost(promptless = true)
            client(frozen, key, transport = lost).use { c ->
                val e = thrownOnCancel({ lost.sent.await() }) {
                    if (which == "create") c.videos.create(text()) else c.videos.createAndWait(text(), fast)
                }
                check(e is CreateCancellationException && e.jobId == null) { "$which: got $e" }
                e as CreateCancellationException
                check((frozen.ledger(email)["held_cents"] as BigDecimal).signum() > 0) { "$which: its job is left, charged" }
                // Its key gets that job (not a second), which can then be deleted (refunded).
                val job = c.videos.create(text(), idempotencyKey = e.idempotencyKey)
                eq(listOf(job.id), c.videos.list().data.map { it.id }, "$which: the one job")
                c.videos.delete(job.id)
            }
        }
        val l = frozen.ledger(email)
        eq(2, (l["jobs_created"] as BigDecimal).toInt(), "a job each")
        eq(BigDecimal.ZERO.compareTo(l["held_cents"] as BigDecimal), 0, "both refunded")
    }
    test("emulator/a_create_cancelled_while_its_look_up_waits_for_the_rate_limit_carries_its_key") {
        // The caller waits for the clean-up 200 ms here (10 s in a client); the list that looks
        // for the job waits out a 1.5 s pause of the key's limiter, so the caller is back before
        // the core has decided: the create went out and no job was named, so the key goes with
        // the cancellation, and gets the job the look-up goes on to find.
        val (key, _, email) = frozen.account(10_000)
        val lost = AnswerLost()
        client(frozen, key).use { c ->
            val limiter = com.usvideo.ffi.RateLimiter(0u)
            val driver = Driver(lost, limiter, 60_000, cleanupTimeoutMs = 200)
            val idem = "held-look-up-${System.nanoTime()}"
            val m = ffi { c.core.create(text(), entropy(), seed(), idem) }
            val started = System.nanoTime()
            val e = thrownOnCancel({ lost.sent.await(); limiter.onRetryAfter(driver.now(), 1_500uL) }) { driver.drive(m, handOff = true, createKey = idem) {} }
            check((System.nanoTime() - started) / 1_000_000 < 1_500) { "the caller waited out the pause" }
            check(e is CreateCancellationException && e.idempotencyKey == idem && e.jobId == null) { "got $e" }
            val job = c.videos.list().data.single()
            eq(job.id, c.videos.create(text(), idempotencyKey = idem).id, "its job, under its key")
            eq(1, (frozen.ledger(email)["jobs_created"] as BigDecimal).toInt(), "one job")
        }
    }
    test("emulator/cancel_create_and_wait_from_parent_scope") {
        val (key, _, _) = frozen.account(10_000)
        client(frozen, key).use { c ->
            coroutineScope {
                val d = async { c.videos.createAndWait(text(), fast) }
                delay(400)
                d.cancel()
                val r = runCatching { d.await() }
                check(r.exceptionOrNull() is kotlinx.coroutines.CancellationException) { "got $r" }
            }
            eq(0, c.videos.list().data.size, "the pending job was deleted")
        }
    }
    test("emulator/quickstart_example_runs", timeoutMs = 120_000) {
        val (key, _, _) = emu.account()
        val java = System.getProperty("java.home") + "/bin/java"
        val pb = ProcessBuilder(java, "-Djna.library.path=" + System.getProperty("jna.library.path"), "-cp", System.getProperty("java.class.path"), "QuickstartKt")
        pb.environment()["USVIDEO_API_KEY"] = key
        pb.environment()["USVIDEO_BASE_URL"] = emu.base
        pb.environment()["USVIDEO_QUICKSTART_FAST"] = "50"
        pb.redirectErrorStream(true)
        val p = pb.start()
        val out = p.inputStream.bufferedReader().readText()
        val code = p.waitFor()
        check(code == 0) { "quickstart exited $code:\n$out" }
        check(out.contains("video:")) { out }
        print(out.lines().joinToString("\n") { "     | $it" } + "\n")
    }
    test("emulator/quickstart_without_a_key_says_what_to_set") {
        // helper-36: without USVIDEO_API_KEY the quickstart ended in a stack trace. Nothing is
        // sent: the core refuses a keyless call to the service's own host.
        val java = System.getProperty("java.home") + "/bin/java"
        val pb = ProcessBuilder(java, "-Djna.library.path=" + System.getProperty("jna.library.path"), "-cp", System.getProperty("java.class.path"), "QuickstartKt")
        pb.environment().remove("USVIDEO_API_KEY")
        pb.environment().remove("USVIDEO_BASE_URL")
        pb.redirectErrorStream(true)
        val p = pb.start()
        val out = p.inputStream.bufferedReader().readText()
        eq(1, p.waitFor(), out)
        check("failed: " in out && "USVIDEO_API_KEY" in out && "Exception" !in out && "\tat " !in out) { out }
    }
}
