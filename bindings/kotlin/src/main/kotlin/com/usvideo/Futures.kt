package com.usvideo

import com.usvideo.core.Account
import com.usvideo.core.BatchProgress
import com.usvideo.core.CreateVideoRequest
import com.usvideo.core.CreatedApiKey
import com.usvideo.core.DeleteResult
import com.usvideo.core.Event
import com.usvideo.core.JobPage
import com.usvideo.core.JobProgress
import com.usvideo.core.Mode
import com.usvideo.core.PricingTable
import com.usvideo.core.Resolution
import com.usvideo.core.VideoJob
import kotlinx.coroutines.CancellationException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.launch
import java.util.concurrent.CompletableFuture
import java.util.function.Consumer

// The Java face: the suspend API as CompletableFutures (`client.futures()`), a builder for
// `CreateVideoRequest` (whose `UInt?`/`ULong?` parameters make its constructor unreachable from
// Java), and the generated records' unsigned numbers as Java numbers (`JavaValues`).

/**
 * One call of [USVideoFutures]: a [CompletableFuture] of its result, which fails with the call's
 * [USVideoError] (`join()` wraps it in a `CompletionException`, `get()` in an
 * `ExecutionException`: its cause).
 *
 * **Cancelling** it (`cancel(…)`, or completing it first by any means: `orTimeout`,
 * `completeExceptionally`) cancels the call as cancelling its coroutine does in Kotlin: a wait
 * stops, a `createAndWait`'s still-pending job is deleted (refunded), a wait with
 * `cancelOnTimeout` deletes its pending job. This future is done at once (a plain
 * `CancellationException`, as `CompletableFuture` promises); the call's clean-up goes on in the
 * background, and [settled] tells how it ended: for a create cancelled after its request went
 * out, with the [CreateCancellationException] carrying the create's idempotency key (and its
 * job's id when it was found), to create again under. Cancel this future, not one derived from
 * it (`thenApply(…)` returns another future, whose cancel does not reach the call).
 * `mayInterruptIfRunning` changes nothing.
 */
class USVideoFuture<T> internal constructor() : CompletableFuture<T>() {
    /** The call's own end: after its clean-up, with what the call returned or threw. */
    private val end = CompletableFuture<T>()

    /**
     * A future completed when the call has really ended, its clean-up included (at most about
     * 10 s after a cancel; a delete held by a rate-limit pause goes on in the background): with
     * its result, or exceptionally with what it threw. After a cancel, that is a
     * [CreateCancellationException] for a `create` or `createAndWait` whose request went out
     * (`join()` throws it as it is, being a `CancellationException`), or a plain
     * `CancellationException` (nothing was made, or the job was deleted). Without a cancel it
     * ends as this future does. Each call returns a new future (completing it changes nothing).
     */
    fun settled(): CompletableFuture<T> = CompletableFuture<T>().also { out ->
        end.whenComplete { v, e -> if (e != null) out.completeExceptionally(e) else out.complete(v) }
    }

    internal fun finish(result: Result<T>) {
        result.fold(
            onSuccess = { end.complete(it); complete(it) },
            onFailure = { end.completeExceptionally(it); completeExceptionally(it) },
        )
    }

    override fun toString(): String = "USVideoFuture(" + (when {
        isCancelled -> "cancelled"
        isCompletedExceptionally -> "failed"
        isDone -> "completed"
        else -> "running"
    }) + ")"
}

/**
 * The calls of a [USVideo] client for Java: each returns at once a [USVideoFuture] (a
 * `CompletableFuture`) and runs as a coroutine on this face's dispatcher (`client.futures()`:
 * `Dispatchers.Default`; `client.futures(executor)`: the executor), where callbacks
 * (`Consumer`s) are called too. A callback that throws ends its call with that exception, as in
 * Kotlin. Options are overloads: the trailing ones may be left out.
 *
 * ```java
 * VideoJob job = client.futures().videos()
 *     .createAndWait(request, new WaitConfig(), p -> System.out.println(p.getStatus()))
 *     .join();
 * ```
 */
class USVideoFutures internal constructor(private val client: USVideo, dispatcher: CoroutineDispatcher) {
    // The calls' parent: never cancelled (a call is cancelled through its own future). A
    // supervisor, so one call's failure does not cancel the others.
    private val scope = CoroutineScope(SupervisorJob() + dispatcher)

    internal fun <T> call(block: suspend () -> T): USVideoFuture<T> {
        val f = USVideoFuture<T>()
        val job = scope.launch {
            // (Catches the cancellation too: what the call threw, a CreateCancellationException
            // among them, is what `settled()` reports.)
            f.finish(runCatching { block() })
        }
        // Cancelled before its body ran, the coroutine never got to finish it.
        job.invokeOnCompletion { cause -> if (cause != null) f.finish(Result.failure(cause)) }
        // Completed from outside (cancel, orTimeout): the call is cancelled like its coroutine.
        f.whenComplete { _, _ -> job.cancel() }
        return f
    }

    private val videos = Videos()
    private val account = Account()
    private val pricing = Pricing()
    private val apiKeys = ApiKeys()

    /** Jobs: create, retrieve, list, delete, wait. */
    fun videos(): Videos = videos
    /** `GET /v1/account`. */
    fun account(): Account = account
    /** `GET /v1/pricing`. */
    fun pricing(): Pricing = pricing
    /** `POST /v1/api-keys`. */
    fun apiKeys(): ApiKeys = apiKeys

    /** The client's (never shows the key). */
    override fun toString(): String = "USVideoFutures($client)"

    /** `client.futures().videos()`: [com.usvideo.Videos] as futures. */
    inner class Videos internal constructor() {
        private val v get() = client.videos

        /** [com.usvideo.Videos.create]; a cancel after its request went out: see [USVideoFuture.settled]. */
        @JvmOverloads
        fun create(request: CreateVideoRequest, idempotencyKey: String? = null): USVideoFuture<VideoJob> =
            call { v.create(request, idempotencyKey) }

        /** [com.usvideo.Videos.retrieve]. */
        fun retrieve(id: String): USVideoFuture<VideoJob> = call { v.retrieve(id) }

        /** One page, most recent first ([limit] 1 to 100, default 20; [offset] default 0). */
        fun list(): USVideoFuture<JobPage> = call { v.list() }
        /** One page of [limit] jobs. */
        fun list(limit: Int): USVideoFuture<JobPage> = call { v.list(limit) }
        /** One page of [limit] jobs from [offset]. */
        fun list(limit: Int, offset: Long): USVideoFuture<JobPage> = call { v.list(limit, offset) }

        /**
         * Every job ([com.usvideo.Videos.listAll]: page after page, [pageSize] a page, none
         * twice), as one list once the last page is read. A future like every call here (no
         * thread waits for the pages, and cancelling it stops the paging); for an account too
         * large to hold at once, the overload with a `Consumer` hands each job over as its page
         * comes instead.
         */
        @JvmOverloads
        fun listAll(pageSize: Int = 100): USVideoFuture<List<VideoJob>> = call {
            val jobs = ArrayList<VideoJob>()
            v.listAll(pageSize).collect { jobs.add(it) }
            jobs
        }

        /**
         * Every job, each given to [each] as its page comes (nothing held); done after the last.
         * [each] throwing stops the paging and fails the future with its exception.
         */
        fun listAll(pageSize: Int, each: Consumer<VideoJob>): USVideoFuture<Void?> = call {
            v.listAll(pageSize).collect { each.accept(it) }
            null
        }

        /** [com.usvideo.Videos.delete]. */
        fun delete(id: String): USVideoFuture<DeleteResult> = call { v.delete(id) }

        /**
         * [com.usvideo.Videos.wait] (a Java `wait(String…)`, not `Object.wait`): cancelling the
         * future stops watching; with [WaitConfig.cancelOnTimeout] a still-pending job is deleted.
         */
        @JvmOverloads
        fun wait(id: String, config: WaitConfig = WaitConfig(), onProgress: Consumer<JobProgress>? = null, onEvent: Consumer<Event>? = null): USVideoFuture<VideoJob> =
            call { v.wait(id, config, onProgress?.let { c -> { p: JobProgress -> c.accept(p) } }, onEvent?.let { c -> { e: Event -> c.accept(e) } }) }

        /**
         * [com.usvideo.Videos.createAndWait]: cancelling the future deletes the job if it is still
         * pending (refunded); see [USVideoFuture.settled] for a cancel while the create's answer
         * was out. [idempotencyKey] comes last here (Kotlin's order puts it before the callbacks).
         */
        @JvmOverloads
        fun createAndWait(
            request: CreateVideoRequest,
            config: WaitConfig = WaitConfig(),
            onProgress: Consumer<JobProgress>? = null,
            onEvent: Consumer<Event>? = null,
            idempotencyKey: String? = null,
        ): USVideoFuture<VideoJob> = call {
            v.createAndWait(request, config, idempotencyKey, onProgress?.let { c -> { p: JobProgress -> c.accept(p) } }, onEvent?.let { c -> { e: Event -> c.accept(e) } })
        }

        /**
         * [com.usvideo.Videos.batch] (nothing is sent yet: [collect] it). Java can read the returned
         * [Batch]'s `getEstimatedCents()`, `progress()`, `snapshot()`, `cancel()`,
         * `getReport()` and `getFailure()`.
         *
         * @throws ValidationError as [com.usvideo.Videos.batch].
         */
        @JvmOverloads
        fun batch(
            requests: List<CreateVideoRequest>,
            maxSpendCents: Long? = null,
            config: BatchConfig = BatchConfig(),
            onProgress: Consumer<BatchProgress>? = null,
            onEvent: Consumer<Event>? = null,
        ): Batch = v.batch(requests, maxSpendCents, config, onProgress?.let { c -> { p: BatchProgress -> c.accept(p) } }, onEvent?.let { c -> { e: Event -> c.accept(e) } })

        /** [com.usvideo.Videos.resumeBatch] (nothing is sent yet: [collect] it). */
        @JvmOverloads
        fun resumeBatch(
            snapshot: String,
            maxSpendCents: Long? = null,
            config: BatchConfig = BatchConfig(),
            onProgress: Consumer<BatchProgress>? = null,
            onEvent: Consumer<Event>? = null,
        ): Batch = v.resumeBatch(snapshot, maxSpendCents, config, onProgress?.let { c -> { p: BatchProgress -> c.accept(p) } }, onEvent?.let { c -> { e: Event -> c.accept(e) } })

        /**
         * Collects [batch] (its items as they finish, to [onItem]) and completes with its report
         * (every item in input order), or fails with what ended the whole batch. Cancelling the
         * future cancels the batch as cancelling a Kotlin collector does (queued items end
         * cancelled, pending jobs are deleted); [Batch.cancel] asks the same and lets the future
         * complete with the cancelled items. One collection at a time.
         */
        fun collect(batch: Batch, onItem: Consumer<BatchItem>): USVideoFuture<BatchReport?> = call {
            batch.collect { onItem.accept(it) }
            batch.report
        }
    }

    /** `client.futures().account()`. */
    inner class Account internal constructor() {
        /** Balance, usage and plan ([JavaValues.balanceCents] reads the balance). */
        fun retrieve(): USVideoFuture<com.usvideo.core.Account> = call { client.account.retrieve() }
    }

    /** `client.futures().pricing()`. */
    inner class Pricing internal constructor() {
        /** The service's current table. */
        fun retrieve(): USVideoFuture<PricingTable> = call { client.pricing.retrieve() }
        /** The cost in cents with [table], offline (no future: nothing is sent). */
        fun estimate(table: PricingTable, resolution: Resolution, duration: Int): Long = client.pricing.estimate(table, resolution, duration)
    }

    /** `client.futures().apiKeys()`. */
    inner class ApiKeys internal constructor() {
        /** Creates an API key, authenticated with a JWT. */
        @JvmOverloads
        fun create(jwt: String, name: String? = null): USVideoFuture<CreatedApiKey> = call { client.apiKeys.create(jwt, name) }
    }
}

/**
 * Builds a [CreateVideoRequest] from Java, whose constructor takes Kotlin's unsigned numbers:
 *
 * ```java
 * CreateVideoRequest r = CreateVideoRequestBuilder.of("a lake at dawn", Mode.TEXT_TO_VIDEO)
 *     .resolution(Resolution.P1080).duration(5).seed(42L).build();
 * ```
 *
 * A negative [duration] or [seed] is refused at once, a [ValidationError] naming it (`duration`,
 * `seed`), as Kotlin's options are: it would wrap to a huge unsigned number. The core's own rules
 * (duration 1 to 10, seed to 4294967295, the images each mode needs) are checked by the call, as
 * for every request.
 */
class CreateVideoRequestBuilder(private val prompt: String, private val mode: Mode) {
    private var resolution: Resolution? = null
    private var duration: UInt? = null
    private var imageUrl: String? = null
    private var referenceUrl: String? = null
    private var seed: ULong? = null

    /** Output resolution (`null`: the service's default, 720p). */
    fun resolution(resolution: Resolution?): CreateVideoRequestBuilder = apply { this.resolution = resolution }
    /** Length in whole seconds, 1 to 10 (`null`: 5). An `int` is boxed to it. */
    fun duration(seconds: Int?): CreateVideoRequestBuilder = apply { duration = seconds?.let { unsigned("duration", it.toLong()).toUInt() } }
    /** Start image (for [Mode.IMAGE_TO_VIDEO]). */
    fun imageUrl(url: String?): CreateVideoRequestBuilder = apply { imageUrl = url }
    /** Reference image (for [Mode.REFERENCE]). */
    fun referenceUrl(url: String?): CreateVideoRequestBuilder = apply { referenceUrl = url }
    /** Seed for reproducible results, 0 to 4294967295 (`null`: none). From Java, a `long` (`42L`) or a `Long`. */
    fun seed(seed: Long?): CreateVideoRequestBuilder = apply { this.seed = seed?.let { unsigned("seed", it) } }

    /** The request. */
    fun build(): CreateVideoRequest = CreateVideoRequest(prompt, mode, resolution, duration, imageUrl, referenceUrl, seed)

    override fun toString(): String = "CreateVideoRequestBuilder(${build()})"

    companion object {
        /** A builder for a request of [mode] showing [prompt]. */
        @JvmStatic
        fun of(prompt: String, mode: Mode): CreateVideoRequestBuilder = CreateVideoRequestBuilder(prompt, mode)
    }
}

/**
 * The generated records' unsigned numbers as Java numbers: Java cannot call a getter of a Kotlin
 * `UInt`, `ULong` or `UByte` property (its name is mangled, `getCostCents-6VbMDqA`). `null` where
 * the record's value is absent. Kotlin callers read the properties themselves.
 */
object JavaValues {
    /** [VideoJob.duration] in seconds. */
    @JvmStatic fun duration(job: VideoJob): Int? = job.duration?.toInt()
    /** [VideoJob.seed]. */
    @JvmStatic fun seed(job: VideoJob): Long? = job.seed?.toLong()
    /** [VideoJob.estimatedCostCents]. */
    @JvmStatic fun estimatedCostCents(job: VideoJob): Long? = job.estimatedCostCents?.toLong()
    /** [VideoJob.costCents] (once completed). */
    @JvmStatic fun costCents(job: VideoJob): Long? = job.costCents?.toLong()
    /** [VideoJob.progress], 0 to 100. */
    @JvmStatic fun progress(job: VideoJob): Int? = job.progress?.toInt()
    /** [JobProgress.percent], 0 to 100. */
    @JvmStatic fun percent(progress: JobProgress): Int = progress.percent.toInt()
    /** [JobProgress.elapsedMs]. */
    @JvmStatic fun elapsedMs(progress: JobProgress): Long = progress.elapsedMs.toLong()
    /** [JobProgress.expectedMs]. */
    @JvmStatic fun expectedMs(progress: JobProgress): Long = progress.expectedMs.toLong()
    /** [Account.balanceCents]. */
    @JvmStatic fun balanceCents(account: Account): Long = account.balanceCents.toLong()
    /** [Account.totalJobs]. */
    @JvmStatic fun totalJobs(account: Account): Long = account.totalJobs.toLong()
    /** [Account.totalSpentCents]. */
    @JvmStatic fun totalSpentCents(account: Account): Long = account.totalSpentCents.toLong()
    /** [DeleteResult.refundedCents]. */
    @JvmStatic fun refundedCents(result: DeleteResult): Long = result.refundedCents.toLong()
    /** [JobPage.total], when the service said. */
    @JvmStatic fun total(page: JobPage): Long? = page.total?.toLong()
    /** [JobPage.limit]. */
    @JvmStatic fun limit(page: JobPage): Int = page.limit.toInt()
    /** [JobPage.offset]. */
    @JvmStatic fun offset(page: JobPage): Long = page.offset.toLong()
    /** [com.usvideo.core.Price.perSecondNanodollars]. */
    @JvmStatic fun perSecondNanodollars(price: com.usvideo.core.Price): Long = price.perSecondNanodollars.toLong()
    /** [BatchProgress.queued]. */
    @JvmStatic fun queued(progress: BatchProgress): Int = progress.queued.toInt()
    /** [BatchProgress.inFlight]. */
    @JvmStatic fun inFlight(progress: BatchProgress): Int = progress.inFlight.toInt()
    /** [BatchProgress.completed]. */
    @JvmStatic fun completed(progress: BatchProgress): Int = progress.completed.toInt()
    /** [BatchProgress.total]. */
    @JvmStatic fun total(progress: BatchProgress): Int = progress.total.toInt()
    /** [BatchProgress.failed]. */
    @JvmStatic fun failed(progress: BatchProgress): Int = progress.failed.toInt()
    /** [BatchProgress.cancelled]. */
    @JvmStatic fun cancelled(progress: BatchProgress): Int = progress.cancelled.toInt()
}
