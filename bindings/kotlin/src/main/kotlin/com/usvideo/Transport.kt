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
 * whole body (up to [MAX_RESPONSE_BYTES]), and throw [TransportException] when there is none.
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
class HttpUrlConnectionTransport(
    /** The most one request may take, in ms (a shorter deadline from the core wins). */
    private val requestTimeoutMs: Long = 60_000,
    /** The most connecting may take, in ms. */
    private val connectTimeoutMs: Long = 10_000,
) : HttpTransport {
    override suspend fun send(request: HttpRequest, timeoutMs: Long?): HttpResponse {
        val timeout = minOf(requestTimeoutMs, timeoutMs ?: Long.MAX_VALUE).coerceIn(1, Int.MAX_VALUE.toLong()).toInt()
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

    private fun exchange(conn: HttpURLConnection, request: HttpRequest, timeoutMs: Int): HttpResponse {
        conn.requestMethod = request.method.name
        conn.connectTimeout = minOf(timeoutMs.toLong(), connectTimeoutMs).toInt()
        conn.readTimeout = timeoutMs
        conn.instanceFollowRedirects = false
        conn.useCaches = false
        for (h in request.headers) conn.setRequestProperty(h.name, h.value)
        val body = request.body
        if (body != null) {
            conn.doOutput = true
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
        val stream: InputStream? = if (status >= 400) conn.errorStream else runCatching { conn.inputStream }.getOrNull()
        val bytes = stream?.use { readCapped(it) } ?: ByteArray(0)
        conn.disconnect()
        return HttpResponse(status.toUShort(), headers, bytes)
    }

    private fun readCapped(input: InputStream): ByteArray {
        val out = ByteArrayOutputStream()
        val buf = ByteArray(16 * 1024)
        while (true) {
            val n = input.read(buf)
            if (n < 0) break
            if (out.size() + n > MAX_RESPONSE_BYTES) {
                throw TransportException(TransportKind.BODY_TOO_LARGE, "response body over $MAX_RESPONSE_BYTES bytes")
            }
            out.write(buf, 0, n)
        }
        return out.toByteArray()
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
