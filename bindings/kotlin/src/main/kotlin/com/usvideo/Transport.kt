package com.usvideo

import com.usvideo.core.Header
import com.usvideo.core.HttpRequest
import com.usvideo.core.HttpResponse
import com.usvideo.core.TransportKind
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.asExecutor
import kotlinx.coroutines.suspendCancellableCoroutine
import java.io.ByteArrayOutputStream
import java.io.IOException
import java.io.InputStream
import java.net.ConnectException
import java.net.HttpURLConnection
import java.net.NoRouteToHostException
import java.net.SocketTimeoutException
import java.net.URL
import java.net.UnknownHostException
import javax.net.ssl.SSLHandshakeException
import kotlin.coroutines.resume
import kotlin.coroutines.resumeWithException

/** The largest response body read (4 MiB, the core's `MAX_RESPONSE_BYTES`). */
const val MAX_RESPONSE_BYTES: Int = 4 * 1024 * 1024

/**
 * A request that got no HTTP answer, as the platform saw it. The core decides what follows
 * (retry, reconcile a create, or fail) from [kind]: [TransportKind.CONNECT] means the request
 * provably never reached the server; [TransportKind.TIMEOUT] and [TransportKind.OTHER] mean it
 * may have.
 */
class TransportException(val kind: TransportKind, message: String, cause: Throwable? = null) : IOException(message, cause)

/**
 * Performs one HTTP request. Plug in your own (OkHttp, Ktor, a proxy-aware client) by
 * implementing this: return any HTTP answer (4xx and 5xx included) as an [HttpResponse] with the
 * whole body, and throw [TransportException] when there is none. Read at most
 * [MAX_RESPONSE_BYTES] + 1 bytes of a body: beyond the cap, throw [TransportKind.BODY_TOO_LARGE].
 * Any other exception is reported as [TransportKind.OTHER]. Must be cancellable: when the
 * calling coroutine is cancelled, abandon the request promptly.
 */
fun interface HttpTransport {
    /** Sends [request]; [timeoutMs] is the most it may take (`null`: the transport's own limit). */
    suspend fun send(request: HttpRequest, timeoutMs: Long?): HttpResponse
}

/**
 * The default transport: `java.net.HttpURLConnection` (JVM and Android, no dependency). The
 * blocking exchange runs on `Dispatchers.IO`; cancelling the coroutine disconnects at once.
 */
class HttpUrlConnectionTransport @JvmOverloads constructor(
    /** The most one request may take, in ms, when it is to be less than the client asks (its
     * `requestTimeoutMs`, or the core's deadline; `null`: what they ask, 60 s when nothing
     * does). It was 60 s, silently capping a client's longer `requestTimeoutMs` (helper-44). */
    private val requestTimeoutMs: Long? = null,
    /** The most connecting may take, in ms. */
    private val connectTimeoutMs: Long = 10_000,
) : HttpTransport {
    init {
        JdkHttpLogRedaction.install()
    }

    override suspend fun send(request: HttpRequest, timeoutMs: Long?): HttpResponse {
        val timeout = (listOfNotNull(requestTimeoutMs, timeoutMs).minOrNull() ?: 60_000).coerceIn(1, Int.MAX_VALUE.toLong()).toInt()
        val conn = try {
            URL(request.url).openConnection() as HttpURLConnection
        } catch (e: Exception) {
            throw TransportException(TransportKind.CONNECT, "bad URL: ${e.message}", e)
        }
        return suspendCancellableCoroutine { cont ->
            cont.invokeOnCancellation { runCatching { conn.disconnect() } }
            Dispatchers.IO.asExecutor().execute {
                try {
                    cont.resume(exchange(conn, request, timeout))
                } catch (e: Throwable) {
                    cont.resumeWithException(if (e is TransportException) e else classify(e))
                }
            }
        }
    }

    private fun exchange(conn: HttpURLConnection, request: HttpRequest, timeoutMs: Int): HttpResponse = try {
        conn.requestMethod = request.method.name
        conn.connectTimeout = minOf(timeoutMs.toLong(), connectTimeoutMs).toInt()
        conn.readTimeout = timeoutMs
        conn.instanceFollowRedirects = false
        conn.useCaches = false
        for (h in request.headers) conn.setRequestProperty(h.name, h.value)
        val body = request.body
        if (body != null) {
            conn.doOutput = true
            // Streamed: a buffered POST is sent again by the JDK itself after some connection
            // failures (`sun.net.http.retryPost`), behind the core's back, which for a create is
            // the duplicate the core's idempotency rules prevent. The cost: the JDK keeps a 401's
            // body to itself, so a 401 to a POST has no server code or message (helper-36).
            conn.setFixedLengthStreamingMode(body.size)
        }
        try {
            conn.connect()
        } catch (e: IOException) {
            throw classify(e, connecting = true)
        }
        if (body != null) conn.outputStream.use { it.write(body) }
        val status = conn.responseCode
        val headers = conn.headerFields.flatMap { (name, values) -> if (name == null) emptyList() else values.map { Header(name, it) } }
        // A declared length over the cap is refused before a byte of the body is read.
        if (conn.contentLengthLong > MAX_RESPONSE_BYTES) throw tooLarge()
        val stream: InputStream? = if (status >= 400) conn.errorStream else runCatching { conn.inputStream }.getOrNull()
        val bytes = stream?.use { readCapped(it) } ?: ByteArray(0)
        // HttpURLConnection ends a fixed-length body quietly when the connection closes early:
        // a body shorter than announced is a broken connection (the core retries a read and
        // reconciles a create), never a complete answer. (No stream at all — a 401 to a streamed
        // POST, whose body the JDK keeps to itself — is an answer without a body, as before.)
        val announced = conn.contentLengthLong
        if (stream != null && announced >= 0 && bytes.size < announced && status != 204 && status != 304) {
            throw TransportException(TransportKind.OTHER, "connection closed after ${bytes.size} of $announced body bytes")
        }
        HttpResponse(status.toUShort(), headers, bytes)
    } finally {
        // Also on failure: a body refused at the cap is not drained, its connection is dropped.
        runCatching { conn.disconnect() }
    }

    private fun tooLarge() = TransportException(TransportKind.BODY_TOO_LARGE, "response body over $MAX_RESPONSE_BYTES bytes")

    /**
     * Reads the body, but never more than [MAX_RESPONSE_BYTES] + 1 bytes: one byte over the cap
     * is enough to know, and nothing beyond it is buffered (the core gets `body_too_large`).
     */
    private fun readCapped(input: InputStream): ByteArray {
        val out = ByteArrayOutputStream()
        val buf = ByteArray(16 * 1024)
        var total = 0
        while (total <= MAX_RESPONSE_BYTES) {
            val n = input.read(buf, 0, minOf(buf.size, MAX_RESPONSE_BYTES + 1 - total))
            if (n < 0) return out.toByteArray()
            out.write(buf, 0, n)
            total += n
        }
        throw tooLarge()
    }

    private fun classify(e: Throwable, connecting: Boolean = false): TransportException {
        val kind = when {
            e is SocketTimeoutException -> if (connecting) TransportKind.CONNECT else TransportKind.TIMEOUT
            e is ConnectException || e is UnknownHostException || e is NoRouteToHostException || e is SSLHandshakeException -> TransportKind.CONNECT
            connecting -> TransportKind.CONNECT
            else -> TransportKind.OTHER
        }
        return TransportException(kind, "${e::class.java.simpleName}: ${e.message ?: ""}", e)
    }
}

/**
 * The JDK's `HttpURLConnection` logs every request's headers, `Authorization` included, to the
 * `java.util.logging` logger `sun.net.www.protocol.http.HttpURLConnection` at `FINE`: an app that
 * turns logging up to its most verbose level would write the API key (or the JWT) to its logs.
 * Installed once by [HttpUrlConnectionTransport], a filter on that logger rewrites every record
 * first: the value of any `Authorization`/`Proxy-Authorization` header is replaced, and any key
 * or JWT left is redacted by the core's rules. A filter the app had set still runs afterwards.
 * (The logger is held strongly here, so the filter outlives any garbage collection of loggers.)
 */
internal object JdkHttpLogRedaction {
    private const val LOGGER = "sun.net.www.protocol.http.HttpURLConnection"
    private val authorization = Regex("(?i)((?:proxy-)?authorization\\s*[:=]\\s*)[^}\\r\\n,]*")
    private var logger: java.util.logging.Logger? = null

    @Synchronized
    fun install() {
        if (logger != null) return
        val l = runCatching { java.util.logging.Logger.getLogger(LOGGER) }.getOrNull() ?: return
        val previous = l.filter
        l.filter = java.util.logging.Filter { record ->
            record.message = record.message?.let(::redact)
            record.parameters = record.parameters?.map { p -> p?.let { redact(it.toString()) } }?.toTypedArray()
            previous?.isLoggable(record) ?: true
        }
        logger = l
    }

    /** [text] without header credentials, keys or JWTs. */
    fun redact(text: String): String {
        val noHeaders = authorization.replace(text) { it.groupValues[1] + "[redacted]" }
        return runCatching { com.usvideo.ffi.redact(noHeaders) }.getOrDefault(noHeaders)
    }
}
