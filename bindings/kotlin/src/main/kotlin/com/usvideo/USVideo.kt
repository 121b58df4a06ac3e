package com.usvideo

import com.usvideo.core.Account
import com.usvideo.core.BatchProgress
import com.usvideo.core.CreateVideoRequest
import com.usvideo.core.CreatedApiKey
import com.usvideo.core.DeleteResult
import com.usvideo.core.Endpoint
import com.usvideo.core.Event
import com.usvideo.core.HttpRequest
import com.usvideo.core.HttpResponse
import com.usvideo.core.VideoJob
import com.usvideo.core.JobPage
import com.usvideo.core.JobProgress
import com.usvideo.core.ListParams
import com.usvideo.core.PricingTable
import com.usvideo.core.Resolution
import com.usvideo.core.RetryPolicy
import com.usvideo.core.WaitOptions
import com.usvideo.ffi.CoreClient
import com.usvideo.ffi.Machine
import com.usvideo.ffi.PageWalk
import com.usvideo.ffi.RateLimiter
import kotlinx.coroutines.channels.awaitClose
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.channelFlow
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.asCoroutineDispatcher
import java.security.SecureRandom
import java.util.concurrent.Executor

/** The service's base URL. */
const val DEFAULT_BASE_URL: String = "https://usvideoapi.com/v1"

private val secureRandom = SecureRandom()
internal fun entropy(): ByteArray = ByteArray(32).also { secureRandom.nextBytes(it) }
internal fun seed(): ULong = secureRandom.nextLong().toULong()

/**
 * The cost in cents of [duration] seconds of video at [resolution], offline, with the
 * reference's price table (1080p × 5 s = 120). Exact decimal arithmetic, rounded up to a cent.
 *
 * @throws ValidationError when [duration] is outside 1 to 10.
 */
fun estimateCost(resolution: Resolution, duration: Int): Long =
    ffi { com.usvideo.ffi.estimateCost(resolution, duration.coerceAtLeast(0).toUInt()) }.toLong()

/**
 * The US Video API client (AI video generation: submit a job, poll it, pay per second of video).
 *
 * ```kotlin
 * val client = USVideo(apiKey = "sd_…")
 * val job = client.videos.createAndWait(CreateVideoRequest("a lake at dawn", Mode.TEXT_TO_VIDEO))
 * println(job.videoUrl)
 * ```
 *
 * Every call is a `suspend` function; cancelling the calling coroutine stops it promptly. The
 * sans-IO core (in the native library) makes every decision: validation, retries with
 * `Retry-After`, the poll schedule, deadlines, idempotency keys and reconciliation of a create
 * whose answer was lost. This class only reads the clock, sleeps, and performs HTTP through
 * [transport] (default: `HttpURLConnection`; plug in OkHttp by implementing [HttpTransport]).
 *
 * From Java: `new USVideo(apiKey, baseUrl)` (the options in this order, trailing ones left out) or
 * [USVideo.builder]; the calls as `CompletableFuture`s are [futures].
 *
 * @param apiKey `sd_…`; default `USVIDEO_API_KEY` (`""`: none, even where that is set). May be
 *   absent for [pricing] and [apiKeys], and for a client behind a server-side proxy that adds it:
 *   its requests carry no `Authorization` (calls that need a key are refused before sending when
 *   [baseUrl] is the service's own).
 * @param baseUrl default `USVIDEO_BASE_URL`, then [DEFAULT_BASE_URL].
 * @param maxRetries retries per request after the first attempt (default 4).
 * @param requestsPerMinute the key's budget (default 60, the standard tier; 0 disables the limiter).
 * @param requestTimeoutMs the most one request (one attempt) may take, whatever the transport
 *   (default 60 s; a timed-out attempt is retried, or reconciled for a create, by the core's rules).
 * @throws ValidationError for a malformed key or base URL.
 */
class USVideo @JvmOverloads constructor(
    apiKey: String? = defaultApiKey(),
    baseUrl: String = defaultBaseUrl(),
    val transport: HttpTransport = HttpUrlConnectionTransport(),
    maxRetries: Int? = null,
    requestsPerMinute: Int = DEFAULT_REQUESTS_PER_MINUTE,
    requestTimeoutMs: Long = DEFAULT_REQUEST_TIMEOUT_MS,
) : AutoCloseable {
    private val handle: CoreClient = maxRetries?.let { unsigned("maxRetries", it.toLong()).toUInt() }.let { retries ->
        ffi {
            val retry = retries?.let { com.usvideo.ffi.defaultRetryPolicy().copy(maxRetries = it) }
            CoreClient(baseUrl, apiKey?.takeIf { it.isNotEmpty() }, "usvideo-kotlin/${com.usvideo.ffi.version()}", retry)
        }
    }
    internal val requestsPerMinute: UInt = unsigned("requestsPerMinute", requestsPerMinute.toLong()).toUInt()

    /** The base URL requests go to (as the core wrote it: `/v1/` is `/v1`). */
    val baseUrl: String = ffi { handle.baseUrl() }

    // The key's limiter, shared by every client of the key, base URL and budget in the process:
    // by the base URL as the core wrote it (`/v1/` and `/v1` are one; helper-36 saw two).
    internal val driver = Driver(transport, RateLimiter.shared(this.baseUrl, apiKey?.takeIf { it.isNotEmpty() }, this.requestsPerMinute), unsigned("requestTimeoutMs", requestTimeoutMs, min = 1).toLong())

    // Read once: a closed client still prints (helper-36's `toString()` threw after `close()`).
    private val shown = "USVideo(baseUrl=${this.baseUrl}, apiKey=${ffi { handle.redactedKey() } ?: "none"})"

    @Volatile private var closed = false

    /** The native client; a call on a closed one is a [UsageError] saying so, not uniffi's
     * `IllegalStateException`. */
    internal val core: CoreClient
        get() = if (closed) throw usageError("this USVideo client is closed: make a new one (close() frees its native handle)") else handle

    /** Jobs: create, retrieve, list, delete, wait. */
    val videos = Videos(this)
    /** `GET /v1/account`. */
    val account = AccountResource(this)
    /** `GET /v1/pricing` (no key needed). */
    val pricing = PricingResource(this)
    /** `POST /v1/api-keys` (authenticated with a JWT). */
    val apiKeys = ApiKeysResource(this)

    private val futures by lazy { USVideoFutures(this, kotlinx.coroutines.Dispatchers.Default) }

    /**
     * This client's calls for Java: each returns a [USVideoFuture] (a `CompletableFuture`)
     * instead of suspending; cancelling the future cancels the call as cancelling its coroutine
     * does. Callbacks run on `Dispatchers.Default`'s threads.
     */
    fun futures(): USVideoFutures = futures

    /** [futures], run (callbacks included) on [executor]. */
    fun futures(executor: Executor): USVideoFutures = USVideoFutures(this, executor.asCoroutineDispatcher())

    /** Never shows the key: `USVideo(baseUrl=…, apiKey=sd_…1a2b)`. */
    override fun toString(): String = shown

    /** Frees the native handle now instead of at garbage collection. Calls made after it are
     * [UsageError]s; jobs already created go on (a cancelled wait's clean-up finishes). */
    override fun close() {
        closed = true
        handle.close()
    }

    /**
     * A wait's options: [config]'s, with this client's retries (its `maxRetries`), which the
     * wait's polls, deletes and a create-and-wait's create follow. (They followed the default
     * policy whatever `maxRetries` said until session 25.)
     */
    internal fun waitOptions(config: WaitConfig): WaitOptions = config.toCore().copy(retry = ffi { core.retryPolicy() })

    // A machine whose drive ended in an exception is the driver's to close, after its clean-up
    // (which may go on in the background); one that finished is closed here, once read.
    // [createKey]: a create's idempotency key, which a cancel after its request went out carries.
    internal suspend fun runJob(m: Machine, createKey: String? = null, onEvent: (Event) -> Unit = {}): VideoJob {
        driver.drive(m, handOff = true, createKey = createKey, onEvent = onEvent)
        return m.use { ffi { it.takeJob() } }
    }

    internal suspend fun call(endpoint: Endpoint, request: HttpRequest): HttpResponse {
        val m = ffi { core.call(endpoint, request, seed()) }
        driver.drive(m) {}
        return m.use { ffi { it.takeResponse() } }
    }

    companion object {
        /** A [Builder] (for Java: every option by name, the others left at their defaults). */
        @JvmStatic
        fun builder(): Builder = Builder()
    }

    /**
     * The client's options by name, for Java: `USVideo.builder().apiKey(key).requestTimeoutMs(30_000).build()`.
     * Each option left unset has the constructor's default (the environment's key and base URL
     * are read by [build]). Its `toString()` never shows the key.
     */
    class Builder internal constructor() {
        private var apiKey: String? = null
        private var apiKeySet = false
        private var baseUrl: String? = null
        private var transport: HttpTransport? = null
        private var maxRetries: Int? = null
        private var requestsPerMinute = DEFAULT_REQUESTS_PER_MINUTE
        private var requestTimeoutMs = DEFAULT_REQUEST_TIMEOUT_MS

        /** `sd_…`; `null` or `""`: none (default: `USVIDEO_API_KEY`). */
        fun apiKey(apiKey: String?): Builder = apply { this.apiKey = apiKey; apiKeySet = true }
        /** Default: `USVIDEO_BASE_URL`, then [DEFAULT_BASE_URL]. */
        fun baseUrl(baseUrl: String): Builder = apply { this.baseUrl = baseUrl }
        /** Default: [HttpUrlConnectionTransport]. */
        fun transport(transport: HttpTransport): Builder = apply { this.transport = transport }
        /** Retries per request (default 4); below 0 is a [ValidationError] from [build]. */
        fun maxRetries(maxRetries: Int): Builder = apply { this.maxRetries = maxRetries }
        /** The key's budget (default 60; 0 disables the limiter). */
        fun requestsPerMinute(requestsPerMinute: Int): Builder = apply { this.requestsPerMinute = requestsPerMinute }
        /** The most one attempt may take (default 60 s). */
        fun requestTimeoutMs(requestTimeoutMs: Long): Builder = apply { this.requestTimeoutMs = requestTimeoutMs }

        /** The client. @throws ValidationError for a malformed key or base URL, or an option out of range. */
        fun build(): USVideo = USVideo(
            apiKey = if (apiKeySet) apiKey else defaultApiKey(),
            baseUrl = baseUrl ?: defaultBaseUrl(),
            transport = transport ?: HttpUrlConnectionTransport(),
            maxRetries = maxRetries,
            requestsPerMinute = requestsPerMinute,
            requestTimeoutMs = requestTimeoutMs,
        )

        /** Never shows the key (redacted as the client shows it, or `set`). */
        override fun toString(): String {
            val key = (if (apiKeySet) apiKey else null)?.takeIf { it.isNotEmpty() }?.let { k ->
                runCatching { com.usvideo.ffi.redact(k) }.getOrNull()?.takeIf { it != k } ?: "set"
            } ?: if (apiKeySet) "none" else "default"
            return "USVideo.Builder(baseUrl=${baseUrl ?: "default"}, apiKey=$key, maxRetries=${maxRetries ?: "default"}, " +
                "requestsPerMinute=$requestsPerMinute, requestTimeoutMs=$requestTimeoutMs)"
        }
    }
}

// The constructor's defaults, which the builder shares.
private const val DEFAULT_REQUESTS_PER_MINUTE = 60
private const val DEFAULT_REQUEST_TIMEOUT_MS = 60_000L
private fun defaultApiKey(): String? = System.getenv("USVIDEO_API_KEY")
private fun defaultBaseUrl(): String = System.getenv("USVIDEO_BASE_URL")?.takeIf { it.isNotEmpty() } ?: DEFAULT_BASE_URL

/**
 * How a wait behaves. From Java: `new WaitConfig()` and the `with…` methods
 * (`new WaitConfig().withTimeoutMs(60_000).withCancelOnTimeout(true)`), or the constructor's
 * options in order.
 */
data class WaitConfig @JvmOverloads constructor(
    /** Give up waiting after this many ms (default 10 minutes; `null` waits for ever). The job goes on. */
    val timeoutMs: Long? = 600_000,
    /** When the wait gives up (its timeout, or a cancel of a `wait` for an existing job), delete the job if it is still pending (refunding it). A `createAndWait` cancelled deletes its own job either way. */
    val cancelOnTimeout: Boolean = false,
    /** Multiplies the model's expected generation time. Left at 1.0, the wait uses what the client's earlier create-and-waits learned of the service's speed (README, "Polling that respects the limits"); any other value is kept. */
    val expectedScale: Double = 1.0,
    /** The first poll after a create, in ms (`null`: the default, 3 s). */
    val firstPollMs: Long? = null,
    /**
     * The shortest gap between polls, in ms (`null`: the default, 2 s). Given alone above the
     * default longest gap, it raises that one with it.
     */
    val minPollIntervalMs: Long? = null,
    /**
     * The longest gap between polls, in ms (`null`: the default, 20 s). Given alone below the
     * default shortest gap, it lowers that one with it.
     */
    val maxPollIntervalMs: Long? = null,
) {
    /** A copy with [timeoutMs]. */
    fun withTimeoutMs(timeoutMs: Long): WaitConfig = copy(timeoutMs = timeoutMs)
    /** A copy that waits for ever (no [timeoutMs]). */
    fun withoutTimeout(): WaitConfig = copy(timeoutMs = null)
    /** A copy with [cancelOnTimeout]. */
    fun withCancelOnTimeout(cancelOnTimeout: Boolean): WaitConfig = copy(cancelOnTimeout = cancelOnTimeout)
    /** A copy with [expectedScale]. */
    fun withExpectedScale(expectedScale: Double): WaitConfig = copy(expectedScale = expectedScale)
    /** A copy with [firstPollMs]. */
    fun withFirstPollMs(firstPollMs: Long): WaitConfig = copy(firstPollMs = firstPollMs)
    /** A copy with [minPollIntervalMs]. */
    fun withMinPollIntervalMs(minPollIntervalMs: Long): WaitConfig = copy(minPollIntervalMs = minPollIntervalMs)
    /** A copy with [maxPollIntervalMs]. */
    fun withMaxPollIntervalMs(maxPollIntervalMs: Long): WaitConfig = copy(maxPollIntervalMs = maxPollIntervalMs)

    internal fun toCore(): WaitOptions {
        val d = ffi { com.usvideo.ffi.defaultWaitOptions() }
        val given = d.poll.copy(expectedScale = expectedScale, firstPollMs = firstPollMs?.let { unsigned("firstPollMs", it) } ?: d.poll.firstPollMs)
        // The core lays the gaps given over the defaults (a gap given alone moves the other's default).
        val poll = ffi { com.usvideo.ffi.pollPolicyWithGaps(given, minPollIntervalMs?.let { unsigned("minPollIntervalMs", it) }, maxPollIntervalMs?.let { unsigned("maxPollIntervalMs", it) }) }
        return d.copy(timeoutMs = timeoutMs?.let { unsigned("timeoutMs", it) }, cancelOnTimeout = cancelOnTimeout, poll = poll)
    }
}

/** `client.videos`. */
class Videos internal constructor(private val client: USVideo) {
    /**
     * Submits a job and returns it as created (`pending`). Made at most once: it carries an
     * idempotency key ([idempotencyKey], or a fresh random one), and a create whose answer was
     * lost is reconciled against the job list before it would ever be sent again.
     *
     * Cancelling the coroutine after the request went out still looks for the job it may have
     * made (10 s at most) and leaves it; the cancellation is then a
     * [CreateCancellationException] carrying the key (and the job's id when it was found):
     * creating again with `idempotencyKey =` that key gets that job, not a second one. Cancelled
     * before anything was sent, it throws a plain `CancellationException` (nothing was made).
     *
     * @throws ValidationError for a request that breaks a rule (every rule in `issues`).
     * @throws USVideoError coded `outcome_unknown` (with its [USVideoError.idempotencyKey]) when
     *   the job list cannot tell whether a create whose answer was lost made a job.
     */
    suspend fun create(request: CreateVideoRequest, idempotencyKey: String? = null): VideoJob {
        val key = keyFor(idempotencyKey)
        return client.runJob(ffi { client.core.create(request, entropy(), seed(), key) }, createKey = key)
    }

    /** One job. @throws NotFoundError */
    suspend fun retrieve(id: String): VideoJob =
        ffi { com.usvideo.ffi.parseJobOf(client.call(Endpoint.RETRIEVE_VIDEO, ffi { client.core.buildRetrieveVideo(id) }), id) }

    /** One page of jobs, most recent first ([limit] 1 to 100, default 20). */
    suspend fun list(limit: Int? = null, offset: Long? = null): JobPage =
        list(ListParams(limit?.let(::pageSize), offset?.let { unsigned("offset", it) }))

    private suspend fun list(params: ListParams): JobPage =
        ffi { com.usvideo.ffi.parseJobPage(client.call(Endpoint.LIST_VIDEOS, ffi { client.core.buildListVideos(params) }), params) }

    /** A negative size is out of the core's range too (it refuses it, naming `limit`). */
    private fun pageSize(limit: Int): UInt = if (limit < 0) UInt.MAX_VALUE else limit.toUInt()

    /**
     * Every job, page after page (100 a page), as a cold [Flow]. Ends at the last page, or at a
     * page that starts with the job the one before started with (a server that ignores `offset`);
     * a job the page before held, pushed down by a newer one, is not emitted twice.
     */
    fun listAll(pageSize: Int = 100): Flow<VideoJob> = flow {
        PageWalk(pageSize(pageSize)).use { walk ->
            while (true) {
                val params = walk.nextPage() ?: break
                // The core checks a page's size as the list's `limit`: named as the caller wrote it.
                val page = named(mapOf("limit" to "pageSize")) { list(params) }
                for (i in walk.take(page.data.map { it.id }, page.hasMore)) emit(page.data[i.toInt()])
            }
        }
    }

    /** Cancels a pending job (refunding it) or deletes a finished job's record. @throws ConflictError for a processing job. */
    suspend fun delete(id: String): DeleteResult =
        ffi { com.usvideo.ffi.parseDelete(client.call(Endpoint.DELETE_VIDEO, ffi { client.core.buildDeleteVideo(id) }), id) }

    /**
     * Waits until the job completes, polling few times and close to its expected finish.
     * [onProgress] hears every poll; [onEvent] every event (status changes, retries).
     * Cancelling the coroutine stops at once; the job goes on, unless [WaitConfig.cancelOnTimeout]
     * is set: then a still-pending job is deleted and refunded (a wait only watches a job others
     * may be waiting for).
     *
     * @throws JobFailedError when the job ends `failed`.
     * @throws WaitTimeoutError when [config]'s deadline passes (the job goes on).
     */
    suspend fun wait(id: String, config: WaitConfig = WaitConfig(), onProgress: ((JobProgress) -> Unit)? = null, onEvent: ((Event) -> Unit)? = null): VideoJob =
        client.runJob(named(WAIT_NAMES) { ffi { client.core.wait(id, client.waitOptions(config), seed(), client.driver.now()) } }, onEvent = events(onProgress, onEvent))

    /**
     * [wait] as a [Flow] of events, ending after the job completes (or throwing its error).
     * Collecting it is the wait: stopping early (`first()`, `take(n)`, a cancelled collector)
     * cancels the wait as cancelling [wait] does (with [WaitConfig.cancelOnTimeout], a job still
     * pending is deleted and refunded).
     * To look at a job without that, use [Videos.retrieve].
     */
    fun waitEvents(id: String, config: WaitConfig = WaitConfig()): Flow<Event> = channelFlow {
        wait(id, config, onEvent = { trySend(it) })
        close()
        awaitClose()
    }

    /**
     * Creates a job (at most once, under [idempotencyKey] or a fresh random one) and waits for it;
     * see [create] and [wait]. Cancelling the coroutine deletes its job if it was last seen
     * pending (refunded); one cancelled while its create's answer was still out looks for its job
     * first, and when the job list cannot tell it (a service whose jobs show no prompt), or the
     * look-up outlasts the 10 s the caller waits for it, throws a [CreateCancellationException]
     * carrying the key that gets that job back, as [create] does; and so does one that leaves its
     * job (processing, or its delete failed), naming it (`jobId`): it goes on, charged.
     */
    suspend fun createAndWait(request: CreateVideoRequest, config: WaitConfig = WaitConfig(), idempotencyKey: String? = null, onProgress: ((JobProgress) -> Unit)? = null, onEvent: ((Event) -> Unit)? = null): VideoJob {
        val key = keyFor(idempotencyKey)
        val m = named(WAIT_NAMES) { ffi { client.core.createAndWait(request, client.waitOptions(config), entropy(), seed(), client.driver.now(), key) } }
        return client.runJob(m, createKey = key, onEvent = events(onProgress, onEvent))
    }

    /** [given], or a fresh key (the core's): known here, so a cancelled create can name it. */
    private fun keyFor(given: String?): String = given ?: ffi { com.usvideo.ffi.idempotencyKeyFromEntropy(entropy()) }

    /**
     * Runs many creates within the account's limits and yields each item as its job finishes
     * (completion order): the returned [Batch] is a cold [Flow] of [BatchItem]s.
     *
     * Before anything is sent, every request is validated and the total estimated; a total above
     * [maxSpendCents] is refused here. Collecting first reads the balance and refuses (with
     * [InsufficientBalanceError], nothing created) beyond it. Then at most
     * [BatchConfig.concurrentJobs] jobs are in flight, creates and polls share one request budget
     * (the batch itself never causes a 429), running jobs are observed with one list request,
     * and each item is created at most once (its own idempotency key; a lost answer is
     * reconciled). A job that fails, or a create the service refuses, is an item with an
     * [BatchItem.error]; only a failure of the whole batch (the balance, the key) ends the flow
     * with an exception.
     *
     * `batch.snapshot()` (JSON) can be taken at any time and continued with [resumeBatch], in
     * this process or another. Cancelling the collecting coroutine cancels the batch: queued
     * items end cancelled and pending jobs are deleted (refunded), best effort within
     * [BatchConfig.cancelTimeoutMs]; processing jobs go on. Stopping collection early
     * (`take(3)`, `first()`) only pauses it: collect again to go on.
     *
     * @throws ValidationError naming every bad request (`requests[3].duration`) or a total above
     *   [maxSpendCents] (field `max_spend_cents`). An empty batch ends at once, empty.
     */
    fun batch(
        requests: List<CreateVideoRequest>,
        maxSpendCents: Long? = null,
        config: BatchConfig = BatchConfig(),
        onProgress: ((BatchProgress) -> Unit)? = null,
        onEvent: ((Event) -> Unit)? = null,
    ): Batch {
        val m = named(BATCH_NAMES) { ffi { client.core.batch(requests, config.toCore(client, maxSpendCents), entropy(), client.driver.now()) } }
        return Batch(client, m, config.cancelTimeoutMs, onProgress, onEvent)
    }

    /**
     * Continues a batch from [Batch.snapshot] (possibly taken in a process that died): items
     * whose create may have been sent are reconciled against the job list before anything is
     * sent for them, running ones are polled, finished ones are kept (not yielded again). Nothing
     * is created or charged twice, within a day of the snapshot: from one more than 23 h older than
     * the service's `Date`, nothing is sent again (queued items end coded `snapshot_too_old`).
     *
     * @throws ValidationError for text that is not a snapshot (field `snapshot`) or of a version
     *   this SDK cannot read (`snapshot.version`), or as [batch].
     */
    fun resumeBatch(
        snapshot: String,
        maxSpendCents: Long? = null,
        config: BatchConfig = BatchConfig(),
        onProgress: ((BatchProgress) -> Unit)? = null,
        onEvent: ((Event) -> Unit)? = null,
    ): Batch {
        val m = named(BATCH_NAMES) { ffi { client.core.resumeBatch(snapshot, config.toCore(client, maxSpendCents), seed(), client.driver.now()) } }
        return Batch(client, m, config.cancelTimeoutMs, onProgress, onEvent)
    }

    private fun events(onProgress: ((JobProgress) -> Unit)?, onEvent: ((Event) -> Unit)?): (Event) -> Unit = { e ->
        onEvent?.invoke(e)
        if (e is Event.Progress) onProgress?.invoke(e.progress)
    }
}

/** `client.account`. */
class AccountResource internal constructor(private val client: USVideo) {
    /** Balance, usage and plan. */
    suspend fun retrieve(): Account =
        ffi { com.usvideo.ffi.parseAccount(client.call(Endpoint.ACCOUNT, ffi { client.core.buildRetrieveAccount() })) }
}

/** `client.pricing`. */
class PricingResource internal constructor(private val client: USVideo) {
    /** The service's current table (read exactly; no key needed). */
    suspend fun retrieve(): PricingTable =
        ffi { com.usvideo.ffi.parsePricing(client.call(Endpoint.PRICING, client.core.buildRetrievePricing())) }

    /** The cost in cents with [table] (the service's, or the built-in one). */
    fun estimate(table: PricingTable, resolution: Resolution, duration: Int): Long =
        ffi { com.usvideo.ffi.estimateCostWith(table, resolution, duration.coerceAtLeast(0).toUInt()) }.toLong()
}

/** `client.apiKeys`. */
class ApiKeysResource internal constructor(private val client: USVideo) {
    /** Creates an API key, authenticated with a JWT (not an API key). The key is shown once. */
    suspend fun create(jwt: String, name: String? = null): CreatedApiKey =
        ffi { com.usvideo.ffi.parseCreatedApiKey(client.call(Endpoint.CREATE_API_KEY, ffi { client.core.buildCreateApiKey(jwt, name) })) }
}
