package com.usvideo.test

import com.usvideo.*
import com.usvideo.core.CreateVideoRequest
import com.usvideo.core.ErrorKind
import com.usvideo.core.Header
import com.usvideo.core.HttpRequest
import com.usvideo.core.Method
import com.usvideo.core.Mode
import com.usvideo.core.Resolution
import com.usvideo.core.TransportKind
import java.net.InetSocketAddress
import java.net.ServerSocket
import kotlin.concurrent.thread
import kotlinx.coroutines.flow.toList

fun registerUnitTests() {
    test("unit/estimate_cost_offline") {
        eq(120L, estimateCost(Resolution.P1080, 5))
        eq(6L, estimateCost(Resolution.P720, 1))
        eq(360L, estimateCost(Resolution.K2, 10))
        val e = assertThrows<ValidationError> { estimateCost(Resolution.P720, 11) }
        eq("duration", e.field); eq("out_of_range", e.code)
        assertThrows<ValidationError> { estimateCost(Resolution.P720, -1) }
    }
    test("unit/closed_client_and_printed_values") {
        // helper-36: a closed client's toString() threw uniffi's IllegalStateException, and a
        // status printed as `JobStatus$Pending@1b2c3d`.
        val c = USVideo(apiKey = "sd_test_key_0000000001", baseUrl = "http://127.0.0.1:9/v1/")
        val shown = c.toString()
        c.close()
        eq(shown, c.toString())
        check("0000000001" !in shown && "http://127.0.0.1:9/v1" in shown) { shown }
        eq("http://127.0.0.1:9/v1", c.baseUrl)
        val e = assertThrowsS<UsageError> { c.videos.retrieve("job_1") }
        check("closed" in e.message!!) { e.message!! }
        eq("pending", com.usvideo.core.JobStatus.Pending.toString())
        eq("completed", com.usvideo.core.JobStatus.Completed.toString())
    }
    test("unit/an_answer_of_another_job_is_refused_naming_the_one_asked_for") {
        // helper-46: a misrouting proxy or a cache handed the caller someone else's video as theirs.
        val other = """{"id":"job_2","status":"completed","video_url":"https://cdn.example/2.mp4","cost_cents":30}""".toByteArray()
        var polls = 0
        val proxy = HttpTransport { _, _ -> polls++; com.usvideo.core.HttpResponse(200u, emptyList(), other) }
        USVideo(apiKey = "sd_test_key_0000000001", baseUrl = "http://127.0.0.1:9/v1", transport = proxy, maxRetries = 1).use { c ->
            val e = assertThrowsS<APIResponseError> { c.videos.retrieve("job_1") }
            eq("job_1", e.jobId); check("another job (job_2)" in e.message!!) { e.message!! }
            // A wait polls again within maxRetries (job rule 10), then ends with that error.
            polls = 0
            val w = assertThrowsS<APIResponseError> { c.videos.wait("job_1", WaitConfig(firstPollMs = 0, minPollIntervalMs = 10, maxPollIntervalMs = 10)) }
            eq("job_1", w.jobId); eq(2, polls)
        }
    }

    test("unit/negative_numbers_refused_by_name") {
        // Kotlin's Long is signed, the core's numbers are not: converted, -1 would be a wait that
        // never times out, a first poll in 584 million years, or four billion retries.
        val key = "sd_test_key_0000000001"
        for ((field, make) in listOf<Pair<String, () -> Unit>>(
            "maxRetries" to { USVideo(apiKey = key, baseUrl = "http://127.0.0.1:9/v1", maxRetries = -1) },
            "requestsPerMinute" to { USVideo(apiKey = key, baseUrl = "http://127.0.0.1:9/v1", requestsPerMinute = -1) },
            "requestTimeoutMs" to { USVideo(apiKey = key, baseUrl = "http://127.0.0.1:9/v1", requestTimeoutMs = 0) },
        )) {
            val e = assertThrows<ValidationError> { make() }
            eq(field, e.field); eq("out_of_range", e.issues.single().code.name.lowercase())
        }
        USVideo(apiKey = key, baseUrl = "http://127.0.0.1:9/v1").use { c ->
            for ((field, config) in listOf(
                "timeoutMs" to WaitConfig(timeoutMs = -1),
                "firstPollMs" to WaitConfig(firstPollMs = -5),
                "minPollIntervalMs" to WaitConfig(minPollIntervalMs = -1),
                "maxPollIntervalMs" to WaitConfig(maxPollIntervalMs = Long.MIN_VALUE),
            )) eq(field, assertThrowsS<ValidationError> { c.videos.wait("job_1", config) }.field)
            eq("offset", assertThrowsS<ValidationError> { c.videos.list(offset = -1) }.field)
            // A page size is the list's `limit` to the core: named as the caller wrote it.
            for (size in listOf(0, -1)) eq("pageSize", assertThrowsS<ValidationError> { c.videos.listAll(pageSize = size).toList() }.field)
            val one = listOf(CreateVideoRequest("a lake", Mode.TEXT_TO_VIDEO))
            eq("concurrentJobs", assertThrowsS<ValidationError> { c.videos.batch(one, config = BatchConfig(concurrentJobs = 0)) }.field)
            eq("maxSpendCents", assertThrowsS<ValidationError> { c.videos.batch(one, maxSpendCents = -1) }.field)
            // The core's own rules name the options as Kotlin spells them, in the message too.
            val gap = assertThrowsS<ValidationError> { c.videos.wait("job_1", WaitConfig(minPollIntervalMs = 5_000, maxPollIntervalMs = 1_000)) }
            eq("maxPollIntervalMs", gap.field)
            check("minPollIntervalMs" in gap.message!! && "poll." !in gap.message!!) { gap.message!! }
            eq("maxPollIntervalMs", gap.issues.single().field)
            // A gap given alone moves the other's default out of its way (the core's rule, as in
            // npm and Python): it was refused while the defaults were values (helper-44).
            val alone = WaitConfig(minPollIntervalMs = 30_000).toCore().poll
            eq(30_000uL to 30_000uL, alone.minIntervalMs to alone.maxIntervalMs)
            val fast = WaitConfig(maxPollIntervalMs = 1_000).toCore().poll
            eq(1_000uL to 1_000uL, fast.minIntervalMs to fast.maxIntervalMs)
            val none = WaitConfig().toCore().poll
            eq(Triple(3_000uL, 2_000uL, 20_000uL), Triple(none.firstPollMs, none.minIntervalMs, none.maxIntervalMs))
            eq("expectedScale", assertThrowsS<ValidationError> { c.videos.createAndWait(one[0], WaitConfig(expectedScale = 21.0)) }.field)
            for ((field, config) in listOf(
                "pollIntervalMs" to BatchConfig(pollIntervalMs = 0),
                "likelyFrom" to BatchConfig(likelyFrom = 5.0),
                "expectedScale" to BatchConfig(expectedScale = 0.0),
            )) eq(field, assertThrows<ValidationError> { c.videos.batch(one, config = config) }.field)
        }
    }
    test("unit/clients_made_apart_read_one_clock") {
        // They share a key's limiter: its send times must mean the same on both.
        USVideo(apiKey = "sd_clock_test_0000", baseUrl = "http://127.0.0.1:9/v1").use { a ->
            Thread.sleep(200)
            USVideo(apiKey = "sd_clock_test_0000", baseUrl = "http://127.0.0.1:9/v1").use { b ->
                val (ta, tb) = a.driver.now() to b.driver.now()
                check((ta.toLong() - tb.toLong()) in -50L..50L) { "$ta $tb" }
            }
        }
    }
    test("unit/the_limiters_line_serves_in_turn_and_forgets_who_left") {
        val line = com.usvideo.ffi.RateLimiter(1u)
        check(line.tryAcquire(0uL) == null)
        val a = line.acquireInLine(null, 1uL)
        val b = line.acquireInLine(null, 2uL)
        eq(61_000uL, a.waitUntil); eq(122_000uL, b.waitUntil)
        line.leave(a.ticket!!)
        val bTurn = line.acquireInLine(b.ticket, 61_000uL)
        check(bTurn.waitUntil == null && bTurn.ticket == null) { "$bTurn" }
    }
    test("unit/key_redacted_in_toString") {
        val key = "sd_live_0123456789abcdefWXYZ"
        val c = USVideo(apiKey = key, baseUrl = "http://127.0.0.1:9/v1")
        val shown = c.toString()
        check(!shown.contains("0123456789")) { shown }
        check(shown.contains("WXYZ")) { shown }
        val req = HttpRequest(Method.GET, "http://h/v1/account", listOf(Header("Authorization", "Bearer $key")), null)
        check(!req.toString().contains("0123456789")) { req.toString() }
        val k = com.usvideo.core.CreatedApiKey("key_1", null, key, null)
        check(!k.toString().contains("0123456789")) { k.toString() }
        c.close()
    }
    test("unit/bad_key_refused_before_sending") {
        eq("invalid_prefix", assertThrows<ValidationError> { USVideo(apiKey = "pk_nope", baseUrl = "http://h/v1") }.code)
        eq("invalid_characters", assertThrows<ValidationError> { USVideo(apiKey = "sd_abc\r\nX-Evil: 1", baseUrl = "http://h/v1") }.code)
        eq("base_url", assertThrows<ValidationError> { USVideo(apiKey = "sd_abcdefgh", baseUrl = "h/v1") }.field)
    }
    test("unit/panic_is_the_library_internal_error") {
        val e = assertThrows<InternalError> { com.usvideo.ffiDebugPanic("boom") }
        check(e.message!!.contains("boom")) { e.toString() }
        check(e is USVideoError)
        val f = assertThrows<InternalError> { com.usvideo.ffiDebugPanicFallible("bang") }
        check(f.message!!.contains("bang")) { f.toString() }
        // The library keeps working after a caught panic.
        eq(120L, estimateCost(Resolution.P1080, 5))
    }
    test("unit/every_error_kind_has_its_class") {
        for (kind in ErrorKind.values()) {
            val info = com.usvideo.ffi.errorFromResponse(com.usvideo.core.HttpResponse(500u, emptyList(), ByteArray(0))).copy(kind = kind)
            val err = USVideoError.from(info)
            eq(com.usvideo.ffi.errorClassName(kind), err::class.simpleName, "class of $kind")
            // And through the native error type (the Swift enum's shape).
            val viaNative = runCatching { ffiThrow(info) }.exceptionOrNull()
            eq(err::class, viaNative!!::class, "native round trip of $kind")
        }
    }
    test("unit/validation_lists_every_issue") {
        val c = USVideo(apiKey = "sd_test_key_0001", baseUrl = "http://127.0.0.1:9/v1")
        val e = assertThrowsS<ValidationError> {
            c.videos.create(CreateVideoRequest(" ", Mode.IMAGE_TO_VIDEO, duration = 11u, seed = 5_000_000_000u))
        }
        val fields = e.issues.map { it.field }.toSet()
        eq(setOf("prompt", "duration", "seed", "image_url"), fields)
        eq(null, e.status)
        c.close()
    }
    test("unit/transport_caps_a_body_without_length_at_4_MiB") {
        // Chunked (no Content-Length): read up to the cap + 1 byte, then body_too_large.
        val sent = java.util.concurrent.atomic.AtomicLong()
        val server = com.sun.net.httpserver.HttpServer.create(InetSocketAddress("127.0.0.1", 0), 0)
        server.createContext("/") { ex ->
            ex.sendResponseHeaders(200, 0)
            val chunk = ByteArray(64 * 1024) { 'x'.code.toByte() }
            runCatching { ex.responseBody.use { out -> repeat(128) { out.write(chunk); sent.addAndGet(chunk.size.toLong()) } } }
        }
        server.start()
        try {
            val req = HttpRequest(Method.GET, "http://127.0.0.1:${server.address.port}/v1/account", emptyList(), null)
            val e = assertThrowsS<TransportException> { HttpUrlConnectionTransport().send(req, 5_000) }
            eq(TransportKind.BODY_TOO_LARGE, e.kind)
            // Exactly at the cap is still whole.
            server.createContext("/exact") { ex ->
                ex.sendResponseHeaders(200, 0)
                ex.responseBody.use { it.write(ByteArray(MAX_RESPONSE_BYTES)) }
            }
            val ok = HttpUrlConnectionTransport().send(req.copy(url = "http://127.0.0.1:${server.address.port}/exact"), 5_000)
            eq(MAX_RESPONSE_BYTES, ok.body.size)
        } finally {
            server.stop(0)
        }
    }
    test("unit/transport_short_body_is_a_broken_connection") {
        // Content-Length 100, 10 bytes sent, then the connection closes.
        val socket = ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))
        thread(isDaemon = true) {
            socket.accept().use { s ->
                val input = s.getInputStream().bufferedReader()
                while (input.readLine()?.isNotEmpty() == true) {}
                s.getOutputStream().write("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\": ".toByteArray())
                s.getOutputStream().flush()
            }
        }
        try {
            val req = HttpRequest(Method.GET, "http://127.0.0.1:${socket.localPort}/v1/account", emptyList(), null)
            val e = assertThrowsS<TransportException> { HttpUrlConnectionTransport().send(req, 5_000) }
            eq(TransportKind.OTHER, e.kind)
            check(e.message!!.contains("10 of 100")) { e.message!! }
        } finally {
            socket.close()
        }
    }
}
