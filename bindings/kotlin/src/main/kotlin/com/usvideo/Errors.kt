package com.usvideo

import com.usvideo.core.ErrorInfo
import com.usvideo.core.ErrorKind
import com.usvideo.core.Issue
import com.usvideo.ffi.UsVideoException
import kotlinx.coroutines.CancellationException
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds

/**
 * The error family of the SDK: one class per [ErrorKind], named as in every binding
 * (`ErrorKind::class_name()` in the core), all under [USVideoError].
 *
 * Every error carries the core's record ([info]) and exposes its attributes: [code] (the
 * server's code, such as `concurrency_limit`, or the kind's name), [status], [field],
 * [requestId], [retryAfter], [jobId], [jobStatus], [idempotencyKey] and, for validation, every [issues].
 * [InternalError] is a bug in the SDK (a panic caught at the FFI boundary), never a server answer.
 *
 * A [RuntimeException] (unchecked), so that Java can catch one around any call: a checked
 * exception that no Java signature declares cannot be named in a Java `catch` (it was a checked
 * `Exception` before the Java face; to Kotlin, which has no checked exceptions, nothing changes).
 */
sealed class USVideoError(
    /** The core's error record (`null` only for [InternalError]). */
    val info: ErrorInfo?,
    message: String,
    cause: Throwable? = null,
) : RuntimeException(message, cause) {
    /** Which class of error (`null` only for [InternalError]). */
    val kind: ErrorKind? get() = info?.kind
    /** The server's code (`insufficient_balance`, `concurrency_limit`, …) or the kind's name. */
    val code: String get() = info?.code ?: "internal"
    /** The HTTP status, for errors that had one. */
    val status: Int? get() = info?.status?.toInt()
    /** The offending field (validation, or a 400 that names one). */
    val field: String? get() = info?.field
    /** The server's `x-request-id`, for support. */
    val requestId: String? get() = info?.requestId
    /** How long the server asked to wait (`Retry-After`). */
    val retryAfter: Duration? get() = info?.retryAfterMs?.toLong()?.milliseconds
    /** [retryAfter] in ms (for Java, which cannot call a getter of Kotlin's `Duration`). */
    val retryAfterMs: Long? get() = info?.retryAfterMs?.toLong()
    /** The job concerned (job failed, wait timeout, cancelled). */
    val jobId: String? get() = info?.jobId
    /** The job's last known status (wait timeout, cancelled). */
    val jobStatus: String? get() = info?.jobStatus
    /**
     * A create whose outcome is unknown (`code == "outcome_unknown"`), or that ended with a `5xx`
     * after its retries: its idempotency key. Create the same request again with
     * `idempotencyKey =` this, and the service answers with the job if an attempt made one,
     * instead of charging a second.
     */
    val idempotencyKey: String? get() = info?.idempotencyKey
    /** Every violated rule (validation). */
    val issues: List<Issue> get() = info?.issues ?: emptyList()
    /** Whether trying the same call again later could succeed. */
    val isRetryable: Boolean get() = info?.let { ffi { com.usvideo.ffi.errorIsRetryable(it) } } ?: false

    override fun toString(): String = "${this::class.simpleName}: $message (code=$code" +
        (status?.let { ", status=$it" } ?: "") + (field?.let { ", field=$it" } ?: "") +
        (requestId?.let { ", requestId=$it" } ?: "") + (retryAfter?.let { ", retryAfter=$it" } ?: "") + ")"

    companion object {
        /** The class for the core's error record. */
        @JvmStatic
        @JvmOverloads
        fun from(info: ErrorInfo, cause: Throwable? = null): USVideoError = when (info.kind) {
            ErrorKind.VALIDATION -> ValidationError(info, cause)
            ErrorKind.BAD_REQUEST -> BadRequestError(info, cause)
            ErrorKind.AUTHENTICATION -> AuthenticationError(info, cause)
            ErrorKind.INSUFFICIENT_BALANCE -> InsufficientBalanceError(info, cause)
            ErrorKind.NOT_FOUND -> NotFoundError(info, cause)
            ErrorKind.CONFLICT -> ConflictError(info, cause)
            ErrorKind.RATE_LIMIT -> RateLimitError(info, cause)
            ErrorKind.INTERNAL_SERVER -> InternalServerError(info, cause)
            ErrorKind.UPSTREAM -> UpstreamError(info, cause)
            ErrorKind.API_STATUS -> APIStatusError(info, cause)
            ErrorKind.DECODE -> APIResponseError(info, cause)
            ErrorKind.CONNECTION -> APIConnectionError(info, cause)
            ErrorKind.TIMEOUT -> APITimeoutError(info, cause)
            ErrorKind.JOB_FAILED -> JobFailedError(info, cause)
            ErrorKind.WAIT_TIMEOUT -> WaitTimeoutError(info, cause)
            ErrorKind.CANCELLED -> CancelledError(info, cause)
            ErrorKind.USAGE -> UsageError(info, cause)
        }
    }
}

/** Input refused before sending (every violated rule in [issues]). */
class ValidationError(info: ErrorInfo, cause: Throwable? = null) : USVideoError(info, info.message, cause)
/** 400. */
class BadRequestError(info: ErrorInfo, cause: Throwable? = null) : USVideoError(info, info.message, cause)
/** 401. */
class AuthenticationError(info: ErrorInfo, cause: Throwable? = null) : USVideoError(info, info.message, cause)
/** 402: not enough prepaid balance; nothing was created or charged. */
class InsufficientBalanceError(info: ErrorInfo, cause: Throwable? = null) : USVideoError(info, info.message, cause)
/** 404. */
class NotFoundError(info: ErrorInfo, cause: Throwable? = null) : USVideoError(info, info.message, cause)
/** 409 (a processing job cannot be deleted; an idempotency key reused with another body). */
class ConflictError(info: ErrorInfo, cause: Throwable? = null) : USVideoError(info, info.message, cause)
/** 429 ([code] `rate_limited` or `concurrency_limit`; [retryAfter] when the server said). */
class RateLimitError(info: ErrorInfo, cause: Throwable? = null) : USVideoError(info, info.message, cause)
/** 500. */
class InternalServerError(info: ErrorInfo, cause: Throwable? = null) : USVideoError(info, info.message, cause)
/** 502. */
class UpstreamError(info: ErrorInfo, cause: Throwable? = null) : USVideoError(info, info.message, cause)
/** Any other non-2xx status. */
class APIStatusError(info: ErrorInfo, cause: Throwable? = null) : USVideoError(info, info.message, cause)
/** A 2xx answer whose body is not what the endpoint returns. */
class APIResponseError(info: ErrorInfo, cause: Throwable? = null) : USVideoError(info, info.message, cause)
/** No answer: connection refused, reset, dropped. */
class APIConnectionError(info: ErrorInfo, cause: Throwable? = null) : USVideoError(info, info.message, cause)
/** No answer within the request timeout. */
class APITimeoutError(info: ErrorInfo, cause: Throwable? = null) : USVideoError(info, info.message, cause)
/** The job ended `failed` ([code] is the service's reason; the charge was refunded). */
class JobFailedError(info: ErrorInfo, cause: Throwable? = null) : USVideoError(info, info.message, cause)
/** The wait's deadline passed; the job goes on ([jobId], [jobStatus]). */
class WaitTimeoutError(info: ErrorInfo, cause: Throwable? = null) : USVideoError(info, info.message, cause)
/** The operation was cancelled (a coroutine's own cancellation is rethrown as itself instead). */
class CancelledError(info: ErrorInfo, cause: Throwable? = null) : USVideoError(info, info.message, cause)
/** The SDK was used wrongly. */
class UsageError(info: ErrorInfo, cause: Throwable? = null) : USVideoError(info, info.message, cause)
/** A bug in the SDK: a panic in the native library, caught at the boundary. Please report it. */
class InternalError(message: String, cause: Throwable? = null) : USVideoError(null, message, cause)

/**
 * The cancellation of a create (`create`, `createAndWait`) whose request may have reached the
 * service: it may have made a job, charged like any other, that the call can no longer return.
 * A [CancellationException] (structured concurrency treats it as the coroutine's cancellation),
 * thrown instead of the plain one; catch it around the call, inside the cancelled coroutine
 * (outside it, `await()` and `withTimeout` report the coroutine's own cancellation, its [cause]).
 *
 * Create the same request again with `idempotencyKey =` [idempotencyKey] and the service answers
 * with the job this create made, if it made one (within a day: *assumption*), never a second.
 * A create cancelled before anything was sent throws a plain cancellation: it made nothing.
 */
class CreateCancellationException internal constructor(
    message: String,
    /** The create's idempotency key: create again under it to get its job, not a second one. */
    val idempotencyKey: String,
    /** Its job, when the SDK learned it after the cancel (the job list showed it); else `null`. */
    val jobId: String?,
    cause: CancellationException,
) : CancellationException(message) {
    init {
        initCause(cause)
    }

    internal companion object {
        private fun again(key: String) = "create again with idempotencyKey = \"$key\" to get that job rather than a second"

        /** The core's clean-up found the create's job ([job]): it goes on. */
        fun made(job: com.usvideo.core.VideoJob, key: String, cause: CancellationException) = CreateCancellationException(
            "the create was cancelled after its request went out, and made job ${job.id} (${job.status}), which goes on and is charged (delete it while pending for a refund); ${again(key)}",
            key, job.id, cause)

        /** The core's clean-up ended with [e], which carries the create's key: its outcome is unknown. */
        fun unknown(e: USVideoError, key: String, cause: CancellationException) = CreateCancellationException(
            "the create was cancelled after its request went out and may have made a job (charged): ${e.message}; ${again(key)}",
            key, e.jobId, cause)

        /** The clean-up found the job [e] names and left it (processing, or its delete failed). */
        fun left(e: USVideoError, key: String, cause: CancellationException) = CreateCancellationException(
            "the create-and-wait was cancelled and its job ${e.jobId} was not deleted: ${e.message}; it is charged if it completes (delete it while pending for a refund)",
            key, e.jobId, cause)

        /** Whether a cancelled wait's message says its job is gone (deleted, or found gone). */
        fun gone(message: String?): Boolean = message != null && ("deleted and refunded" in message || "the job is gone" in message)

        /** The caller stopped waiting for the clean-up, which still looks for the create's job. */
        fun stillLooking(key: String, cause: CancellationException) = CreateCancellationException(
            "the create was cancelled after its request went out and may have made a job (charged); the SDK goes on looking for it in the background (a createAndWait deletes it if it is still pending); ${again(key)}",
            key, null, cause)
    }
}

/** The record inside the generated exception (one variant per kind, each with `details`). */
internal fun UsVideoException.details(): ErrorInfo = when (this) {
    is UsVideoException.ValidationException -> details
    is UsVideoException.BadRequestException -> details
    is UsVideoException.AuthenticationException -> details
    is UsVideoException.InsufficientBalanceException -> details
    is UsVideoException.NotFoundException -> details
    is UsVideoException.ConflictException -> details
    is UsVideoException.RateLimitException -> details
    is UsVideoException.InternalServerException -> details
    is UsVideoException.UpstreamException -> details
    is UsVideoException.ApiStatusException -> details
    is UsVideoException.ApiResponseException -> details
    is UsVideoException.ApiConnectionException -> details
    is UsVideoException.ApiTimeoutException -> details
    is UsVideoException.JobFailedException -> details
    is UsVideoException.WaitTimeoutException -> details
    is UsVideoException.CancelledException -> details
    is UsVideoException.UsageException -> details
}

/**
 * [value], a whole number the caller gave as Kotlin's signed [Long], as the unsigned one the core
 * takes. Below [min] it is refused by its name ([field]): converted, a negative value would wrap
 * to a huge one (a timeout that never comes, four billion retries).
 */
internal fun unsigned(field: String, value: Long, min: Long = 0): ULong {
    if (value < min) {
        val message = "$field must be a whole number from $min (got $value)"
        val issue = com.usvideo.core.Issue(field, com.usvideo.core.IssueCode.OUT_OF_RANGE, message)
        throw ValidationError(ErrorInfo(kind = ErrorKind.VALIDATION, code = "validation", message = message, status = null, field = field,
            requestId = null, retryAfterMs = null, jobId = null, jobStatus = null, idempotencyKey = null, issues = listOf(issue), transport = null))
    }
    return value.toULong()
}

/** A [UsageError] of the binding's own (misuse the core never sees). */
internal fun usageError(message: String): UsageError = UsageError(ErrorInfo(kind = ErrorKind.USAGE, code = "usage", message = message, status = null,
    field = null, requestId = null, retryAfterMs = null, jobId = null, jobStatus = null, idempotencyKey = null, issues = emptyList(), transport = null))

/** The core's names of a wait's options (`WaitOptions`) → [WaitConfig]'s. */
internal val WAIT_NAMES = mapOf(
    "timeout_ms" to "timeoutMs", "poll.first_poll_ms" to "firstPollMs", "poll.min_interval_ms" to "minPollIntervalMs",
    "poll.max_interval_ms" to "maxPollIntervalMs", "poll.expected_scale" to "expectedScale",
)

/** The core's names of a batch's options (`BatchOptions`) → [BatchConfig]'s. `max_spend_cents`
 * keeps its name: it is the batch's estimate check, documented so (see `Videos.batch`). */
internal val BATCH_NAMES = mapOf(
    "limits.concurrent_jobs" to "concurrentJobs", "limits.requests_per_minute" to "requestsPerMinute",
    "poll_interval_ms" to "pollIntervalMs", "likely_from" to "likelyFrom", "expected_scale" to "expectedScale",
)

private val NAME = Regex("[a-z_.]+")

/**
 * [block], whose [ValidationError]s name the caller's options as this binding spells them: the
 * core checks a record of options (`poll.max_interval_ms must be from poll.min_interval_ms …`)
 * and names its own fields, which a Kotlin caller never wrote. Every name in [names] is replaced
 * in the field, each issue's field and message, and the message.
 */
internal inline fun <T> named(names: Map<String, String>, block: () -> T): T = try {
    block()
} catch (e: ValidationError) {
    throw e.renamed(names)
}

@PublishedApi
internal fun ValidationError.renamed(names: Map<String, String>): ValidationError {
    val info = info ?: return this
    val rename = { text: String -> NAME.replace(text) { names[it.value] ?: it.value } }
    val issues = info.issues.map { it.copy(field = rename(it.field), message = rename(it.message)) }
    val renamed = info.copy(message = rename(info.message), field = info.field?.let(rename), issues = issues)
    return ValidationError(renamed, cause ?: this)
}

/**
 * Every call into the native library goes through here: the generated exception becomes the
 * public class, and a caught panic (uniffi's `InternalException`) becomes [InternalError].
 */
internal inline fun <T> ffi(block: () -> T): T = try {
    block()
} catch (e: UsVideoException) {
    throw USVideoError.from(e.details(), e)
} catch (e: com.usvideo.ffi.InternalException) {
    throw InternalError(e.message ?: "internal error in the native library", e)
} catch (e: com.usvideo.core.InternalException) {
    throw InternalError(e.message ?: "internal error in the native library", e)
}

/** Test hook: a panic inside the native library (it must surface as [InternalError]). */
internal fun ffiDebugPanic(message: String) = ffi { com.usvideo.ffi.debugPanic(message) }

/** Test hook: a panic inside a fallible native function. */
internal fun ffiDebugPanicFallible(message: String) = ffi { com.usvideo.ffi.debugPanicFallible(message) }

/** Test hook: the error thrown through the native error type. */
internal fun ffiThrow(info: ErrorInfo): Nothing = ffi { throw com.usvideo.ffi.errorToException(info) }
