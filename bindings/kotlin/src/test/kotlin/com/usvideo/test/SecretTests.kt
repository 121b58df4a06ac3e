package com.usvideo.test

import com.usvideo.*
import com.usvideo.core.Event
import com.usvideo.core.ListParams
import kotlinx.coroutines.flow.toList
import java.util.logging.Handler
import java.util.logging.Level
import java.util.logging.LogRecord
import java.util.logging.Logger
import java.util.logging.SimpleFormatter

// The API key and the JWT never show: not in toString of the client, its configuration, requests
// or results; not in exception messages or stack traces (causes included); not in events; not in
// logs at the most verbose level (java.util.logging at ALL, where the JDK's HttpURLConnection
// writes every request's headers).

/** Every log record of every logger, at the most verbose level, while [block] runs. */
private suspend fun <T> capturingLogs(block: suspend () -> T): Pair<T, String> {
    val root = Logger.getLogger("")
    val http = Logger.getLogger("sun.net.www.protocol.http.HttpURLConnection")
    val jna = Logger.getLogger("com.sun.jna")
    val saved = listOf(root, http, jna).map { it to it.level }
    val out = StringBuffer()
    val formatter = SimpleFormatter()
    val handler = object : Handler() {
        override fun publish(r: LogRecord) { out.append(r.loggerName).append(": ").append(formatter.format(r)) }
        override fun flush() {}
        override fun close() {}
    }.apply { level = Level.ALL }
    // The console handlers keep their own level (INFO): nothing more is printed.
    for ((l, _) in saved) l.level = Level.ALL
    root.addHandler(handler)
    try {
        return block() to out.toString()
    } finally {
        root.removeHandler(handler)
        for ((l, level) in saved) l.level = level
    }
}

private fun String.tail(n: Int = 8) = takeLast(n)

fun registerSecretTests() {
    test("secrets/never_in_toString_errors_traces_events_or_verbose_logs") {
        val (key, jwt, _) = emu.account(10_000)
        val jwtSecret = jwt.substringAfterLast('.')
        val shown = mutableListOf<Pair<String, String>>()
        fun see(what: String, text: String?) { shown.add(what to (text ?: "")) }

        val (_, logs) = capturingLogs {
            USVideo(apiKey = key, baseUrl = emu.base, maxRetries = 1).use { c ->
                see("client", c.toString())
                see("core client", c.core.toString())
                see("wait config", WaitConfig().toString())
                see("batch config", BatchConfig().toString())
                see("create request", ffi { c.core.buildCreateVideo(text(), null, entropy()) }.toString())
                see("account request", ffi { c.core.buildRetrieveAccount() }.toString())
                see("list request", ffi { c.core.buildListVideos(ListParams(10u, null)) }.toString())
                see("api key request", ffi { c.core.buildCreateApiKey(jwt, "ci") }.toString())
                see("account", c.account.retrieve().toString())
                val events = mutableListOf<Event>()
                val job = c.videos.createAndWait(text(), fast, onEvent = { events.add(it) })
                see("job", job.toString())
                // A proxy that echoes the request's headers in its 500 page: retried in a wait
                // (a Retrying event), then an error once the retries are spent.
                val echo = "<html>upstream failed; request had Authorization: Bearer $key and $jwt</html>"
                emu.fault("method" to "GET", "path" to "/v1/videos/*", "status" to 500, "body" to echo, "content_type" to "text/html")
                c.videos.wait(job.id, fast, onEvent = { events.add(it) })
                check(events.any { it is Event.Retrying }) { "no retry event: $events" }
                see("events", events.joinToString("\n"))
                emu.fault("method" to "GET", "path" to "/v1/videos/*", "status" to 500, "times" to 2, "body" to mapOf("error" to mapOf("code" to "boom", "message" to echo)))
                val e500 = assertThrowsS<InternalServerError> { c.videos.retrieve(job.id) }
                see("500", e500.toString()); see("500 trace", e500.stackTraceToString())
                val e404 = assertThrowsS<NotFoundError> { c.videos.retrieve("job_missing") }
                see("404 trace", e404.stackTraceToString())
                val batch = c.videos.batch(batchRequests(2), config = BatchConfig(expectedScale = 1 / 50.0, pollIntervalMs = 300))
                see("batch items", batch.toList().toString())
                see("batch", batch.toString()); see("snapshot", batch.snapshot()); see("report", batch.report.toString())
                // API keys from the JWT: the new key is shown once, in its own field only.
                val created = c.apiKeys.create(jwt, "ci")
                see("created key", created.toString())
                USVideo(apiKey = created.key, baseUrl = emu.base).use { see("second client", it.toString()) }
            }
            // The server refuses a well-formed but unknown key, and the key where a JWT belongs.
            USVideo(apiKey = key.dropLast(4) + "zzzz", baseUrl = emu.base, maxRetries = 0).use { c ->
                val e = assertThrowsS<AuthenticationError> { c.account.retrieve() }
                see("401", e.toString()); see("401 trace", e.stackTraceToString())
                val f = assertThrowsS<ValidationError> { c.apiKeys.create(key) }
                see("key as jwt", f.stackTraceToString())
                val g = assertThrowsS<AuthenticationError> { c.apiKeys.create(jwt.dropLast(4) + "AAAA") }
                see("bad jwt", g.stackTraceToString())
            }
            // Refused before sending, with the secret in the input: the message does not echo it.
            see("key with newline", assertThrows<ValidationError> { USVideo(apiKey = "$key\r\nX-Evil: 1", baseUrl = emu.base) }.stackTraceToString())
            see("jwt with newline", assertThrowsS<ValidationError> { USVideo(apiKey = null, baseUrl = emu.base).apiKeys.create("$jwt\n") }.stackTraceToString())
            // A transport failure whose message would carry the header.
            val echo = HttpTransport { _, _ -> throw TransportException(com.usvideo.core.TransportKind.OTHER, "proxy said: Authorization: Bearer $key / $jwt") }
            USVideo(apiKey = key, baseUrl = emu.base, transport = echo, maxRetries = 0).use { c ->
                val e = assertThrowsS<APIConnectionError> { c.account.retrieve() }
                see("transport echo", e.stackTraceToString())
            }
        }
        // The JDK did log the requests' headers (else this would prove nothing), credentials rewritten.
        check(logs.contains("Authorization: [redacted]")) { "the JDK logged no Authorization header\n$logs" }
        see("verbose logs", logs)
        for ((what, text) in shown) {
            check(!text.contains(key) && !text.contains(key.dropLast(4))) { "$what shows the API key: $text" }
            check(!text.contains(jwt.dropLast(4)) && !text.contains(jwtSecret)) { "$what shows the JWT: $text" }
        }
        // Redacted forms still tell keys apart (the last characters).
        check(shown.first { it.first == "client" }.second.contains(key.tail(4))) { "client: ${shown.first().second}" }
    }
}
