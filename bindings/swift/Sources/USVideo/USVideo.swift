// The Swift API of the US Video SDK: a thin `async` layer over the sans-IO core.
//
// The core (in the native library, through uniffi) makes every decision: validation, retries
// with `Retry-After`, the poll schedule, deadlines, idempotency keys and reconciliation of a
// create whose answer was lost. This file reads the clock, sleeps, and does HTTP with
// URLSession (or any `HTTPTransport` you plug in): one driver loop, `drive(_:)` below.
import Foundation
@_exported import USVideoFFI

/// The service's base URL.
public let defaultBaseURL = "https://usvideoapi.com/v1"

// MARK: - Errors

/// Every failure of the SDK, one case per class of the family (the names every binding uses).
/// Each carries the core's record: `code`, `message`, `status`, `field`, `requestId`,
/// `retryAfterMs`, `jobId`, `jobStatus`, `idempotencyKey` (a create whose outcome is unknown:
/// create the same request again under it, and the service answers with the job the first attempt
/// made, if it made one, instead of charging a second), `issues`; and `isRetryable`, the core's
/// rule. A `LocalizedError`: `localizedDescription` is `description` (redacted, as every message).
public enum USVideoError: Error, CustomStringConvertible, LocalizedError {
    case validationError(ErrorInfo)
    case badRequestError(ErrorInfo)
    case authenticationError(ErrorInfo)
    case insufficientBalanceError(ErrorInfo)
    case notFoundError(ErrorInfo)
    case conflictError(ErrorInfo)
    case rateLimitError(ErrorInfo)
    case internalServerError(ErrorInfo)
    case upstreamError(ErrorInfo)
    case apiStatusError(ErrorInfo)
    case apiResponseError(ErrorInfo)
    case apiConnectionError(ErrorInfo)
    case apiTimeoutError(ErrorInfo)
    case jobFailedError(ErrorInfo)
    case waitTimeoutError(ErrorInfo)
    case cancelledError(ErrorInfo)
    case usageError(ErrorInfo)
    /// A bug in the SDK: a panic in the native library, caught at the boundary.
    case internalError(String)

    /// The class for the core's error record.
    public init(_ info: ErrorInfo) {
        switch info.kind {
        case .validation: self = .validationError(info)
        case .badRequest: self = .badRequestError(info)
        case .authentication: self = .authenticationError(info)
        case .insufficientBalance: self = .insufficientBalanceError(info)
        case .notFound: self = .notFoundError(info)
        case .conflict: self = .conflictError(info)
        case .rateLimit: self = .rateLimitError(info)
        case .internalServer: self = .internalServerError(info)
        case .upstream: self = .upstreamError(info)
        case .apiStatus: self = .apiStatusError(info)
        case .decode: self = .apiResponseError(info)
        case .connection: self = .apiConnectionError(info)
        case .timeout: self = .apiTimeoutError(info)
        case .jobFailed: self = .jobFailedError(info)
        case .waitTimeout: self = .waitTimeoutError(info)
        case .cancelled: self = .cancelledError(info)
        case .usage: self = .usageError(info)
        }
    }

    /// The core's record (`nil` only for `.internalError`).
    public var info: ErrorInfo? {
        switch self {
        case .validationError(let i), .badRequestError(let i), .authenticationError(let i), .insufficientBalanceError(let i),
             .notFoundError(let i), .conflictError(let i), .rateLimitError(let i), .internalServerError(let i),
             .upstreamError(let i), .apiStatusError(let i), .apiResponseError(let i), .apiConnectionError(let i),
             .apiTimeoutError(let i), .jobFailedError(let i), .waitTimeoutError(let i), .cancelledError(let i), .usageError(let i):
            return i
        case .internalError:
            return nil
        }
    }

    public var code: String { info?.code ?? "internal" }
    public var message: String {
        if case .internalError(let m) = self { return m }
        return info?.message ?? ""
    }
    public var status: Int? { info?.status.map(Int.init) }
    public var field: String? { info?.field }
    public var requestId: String? { info?.requestId }
    /// `Retry-After`, in seconds, when the server sent one.
    public var retryAfter: TimeInterval? { info?.retryAfterMs.map { Double($0) / 1000 } }
    public var issues: [Issue] { info?.issues ?? [] }
    /// Which class of error (`nil` only for `.internalError`).
    public var kind: ErrorKind? { info?.kind }
    /// The job concerned (job failed, wait timeout, cancelled).
    public var jobId: String? { info?.jobId }
    /// The job's last known status, its wire string (wait timeout, cancelled).
    public var jobStatus: String? { info?.jobStatus }
    /// A create whose outcome is unknown (`code == "outcome_unknown"`), or that ended with a `5xx`
    /// after its retries: its idempotency key. Create the same request again with
    /// `idempotencyKey:` this, and the service answers with the job if an attempt made one,
    /// instead of charging a second.
    public var idempotencyKey: String? { info?.idempotencyKey }
    /// Whether trying the same call again later could succeed: the core's rule, as Kotlin's
    /// `isRetryable` (a rate limit, a 500, a 502, no connection, a timeout, a 408, 503 or 504;
    /// never an `outcome_unknown` create, whose safe retry is under its `idempotencyKey`).
    /// `false` for `.internalError`.
    public var isRetryable: Bool { info.map { errorIsRetryable(error: $0) } ?? false }

    public var description: String {
        let name = info.map { errorClassName(kind: $0.kind) } ?? "InternalError"
        return "\(name): \(message) (code=\(code)\(status.map { ", status=\($0)" } ?? ""))"
    }

    /// `LocalizedError`: the same text as `description` (`localizedDescription` was Foundation's
    /// generic "The operation couldn't be completed").
    public var errorDescription: String? { description }
}

extension ErrorInfo {
    /// A validation error of the binding's own (an option the core never sees), naming `field`
    /// as Kotlin's `unsigned(field, …)` does: in the field, one `outOfRange` issue and the message.
    static func validation(field: String, message: String) -> ErrorInfo {
        ErrorInfo(kind: .validation, code: "validation", message: message, status: nil, field: field, requestId: nil,
                  retryAfterMs: nil, jobId: nil, jobStatus: nil, idempotencyKey: nil,
                  issues: [Issue(field: field, code: .outOfRange, message: message)], transport: nil)
    }
}

/// Thrown instead of `CancellationError` by a cancelled `create` or `createAndWait` whose request
/// may have reached the service (Kotlin's `CreateCancellationException`): it may have made a job,
/// charged like any other, that the call can no longer return. The task is cancelled all the same
/// (`Task.isCancelled`); code that looks for `CancellationError` should look for this too. Create
/// the same request again with `idempotencyKey:` `idempotencyKey`, and the service answers with the
/// job this create made, if it made one, never a second. A create cancelled before anything was
/// sent throws a plain `CancellationError`: it made nothing.
public struct CreateCancellationError: Error, CustomStringConvertible, LocalizedError {
    /// What became of the create, and what to do.
    public let message: String
    /// The create's idempotency key: create again under it to get its job, not a second one.
    public let idempotencyKey: String
    /// Its job, when the SDK learned it after the cancel (the job list showed it); else `nil`.
    public let jobId: String?

    public var description: String { "CreateCancellationError: \(message)" }
    public var errorDescription: String? { description }

    private static func again(_ key: String) -> String { "create again with idempotencyKey: \"\(key)\" to get that job rather than a second" }

    /// The core's clean-up found the create's job: it goes on.
    static func made(_ job: VideoJob, key: String) -> CreateCancellationError {
        CreateCancellationError(message: "the create was cancelled after its request went out, and made job \(job.id) (\(jobStatusToWire(status: job.status))), which goes on and is charged (delete it while pending for a refund); \(again(key))",
                                idempotencyKey: key, jobId: job.id)
    }

    /// The core's clean-up ended with `e`, which carries the create's key: its outcome is unknown.
    static func unknown(_ e: USVideoError, key: String) -> CreateCancellationError {
        CreateCancellationError(message: "the create was cancelled after its request went out and may have made a job (charged): \(e.message); \(again(key))",
                                idempotencyKey: key, jobId: e.jobId)
    }

    /// The clean-up found the job `jobId` and left it (processing, or its delete failed).
    static func left(_ e: USVideoError, jobId: String, key: String) -> CreateCancellationError {
        CreateCancellationError(message: "the create-and-wait was cancelled and its job \(jobId) was not deleted: \(e.message); it is charged if it completes (delete it while pending for a refund)",
                                idempotencyKey: key, jobId: jobId)
    }

    /// The caller stopped waiting for the clean-up, which still looks for the create's job.
    static func stillLooking(key: String) -> CreateCancellationError {
        CreateCancellationError(message: "the create was cancelled after its request went out and may have made a job (charged); the SDK goes on looking for it in the background (a createAndWait deletes it if it is still pending); \(again(key))",
                                idempotencyKey: key, jobId: nil)
    }
}

/// Every call into the native library goes through here: the generated error becomes
/// `USVideoError`, and a caught panic (uniffi's `rustPanic`) becomes `.internalError`.
@inline(__always)
func ffi<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let e as UsVideoError {
        throw USVideoError(details(of: e))
    } catch let e as USVideoError {
        throw e
    } catch let e as CancellationError {
        throw e
    } catch {
        throw USVideoError.internalError(String(describing: error))
    }
}

func details(of e: UsVideoError) -> ErrorInfo {
    switch e {
    case .ValidationError(let d), .BadRequestError(let d), .AuthenticationError(let d), .InsufficientBalanceError(let d),
         .NotFoundError(let d), .ConflictError(let d), .RateLimitError(let d), .InternalServerError(let d),
         .UpstreamError(let d), .ApiStatusError(let d), .ApiResponseError(let d), .ApiConnectionError(let d),
         .ApiTimeoutError(let d), .JobFailedError(let d), .WaitTimeoutError(let d), .CancelledError(let d), .UsageError(let d):
        return d
    }
}

// MARK: - Transport

/// A request that got no HTTP answer, as the platform saw it (the core decides what follows).
public struct TransportFailure: Error {
    public let kind: TransportKind
    public let message: String
    public init(kind: TransportKind, message: String) { self.kind = kind; self.message = message }
}

/// Performs one HTTP request: return any HTTP answer (4xx/5xx included) with its whole body,
/// throw `TransportFailure` when there is none (`.bodyTooLarge` past `maxResponseBytes`: read at
/// most that + 1 bytes). Must honour task cancellation.
public protocol HTTPTransport: Sendable {
    func send(_ request: HttpRequest, timeoutMs: UInt64?) async throws -> HttpResponse
}

/// The largest response body read (4 MiB, the core's `MAX_RESPONSE_BYTES`); beyond it a transport
/// reports `.bodyTooLarge`.
public let maxResponseBytes = 4 * 1024 * 1024

/// Refuses every redirect, as Kotlin's transport does (`instanceFollowRedirects = false`): the 3xx
/// itself is the answer, returned to the core, which makes it an error. URLSession follows them by
/// default: a 301 turned a create's POST into a GET, and the `Authorization` header could follow
/// to the new location. Passed as each task's own delegate (`bytes(for:delegate:)`), so it holds
/// with any session, `.shared` included, and takes precedence over a session delegate's choice.
final class RefuseRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    static let shared = RefuseRedirects()

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
        completionHandler(nil) // nil: not followed; the task completes with the 3xx and its body
    }
}

/// The default transport: URLSession. Redirects are not followed (`RefuseRedirects`).
public struct URLSessionTransport: HTTPTransport {
    let session: URLSession
    /// The most one request may take, when it is to be less than the client asks (its
    /// `requestTimeout`, or the core's deadline; `nil`: what they ask, 60 s when nothing does).
    let requestTimeout: TimeInterval?
    public init(session: URLSession = .shared, requestTimeout: TimeInterval? = nil) {
        self.session = session
        self.requestTimeout = requestTimeout
    }

    public func send(_ request: HttpRequest, timeoutMs: UInt64?) async throws -> HttpResponse {
        guard let url = URL(string: request.url) else { throw TransportFailure(kind: .connect, message: "bad URL") }
        var r = URLRequest(url: url)
        r.httpMethod = request.method == .get ? "GET" : request.method == .post ? "POST" : "DELETE"
        r.timeoutInterval = [requestTimeout, timeoutMs.map { max(Double($0) / 1000, 0.001) }].compactMap { $0 }.min() ?? 60
        for h in request.headers { r.setValue(h.value, forHTTPHeaderField: h.name) }
        r.httpBody = request.body
        do {
            // Streamed: at most `maxResponseBytes` + 1 bytes are read (one over is enough to
            // know), never a whole oversized body buffered.
            let (bytes, response) = try await session.bytes(for: r, delegate: RefuseRedirects.shared)
            guard let http = response as? HTTPURLResponse else { throw TransportFailure(kind: .other, message: "not HTTP") }
            let announced = http.expectedContentLength   // -1 when unknown
            if announced > Int64(maxResponseBytes) {
                bytes.task.cancel()
                throw TransportFailure(kind: .bodyTooLarge, message: "response body over \(maxResponseBytes) bytes")
            }
            var data = Data()
            if announced > 0 { data.reserveCapacity(Int(announced)) }
            // `timeoutInterval` bounds each idle gap, not the whole body: one that trickles in (a
            // byte before each gap's end) held a call for as long as the server liked. The whole
            // exchange's time is checked every 4 KiB (as Python's driver checks every chunk).
            let started = DispatchTime.now().uptimeNanoseconds
            // (No trap: an interval too large, infinite or NaN for UInt64 is no bound.)
            let limitNs: UInt64 = r.timeoutInterval >= 0 && r.timeoutInterval < 1e9 ? UInt64(r.timeoutInterval * 1_000_000_000) : .max
            for try await byte in bytes {
                data.append(byte)
                if data.count > maxResponseBytes {
                    bytes.task.cancel()
                    throw TransportFailure(kind: .bodyTooLarge, message: "response body over \(maxResponseBytes) bytes")
                }
                if data.count & 4095 == 0 && DispatchTime.now().uptimeNanoseconds &- started > limitNs {
                    bytes.task.cancel()
                    throw TransportFailure(kind: .timeout, message: "the answer was still arriving after the request's timeout (\(r.timeoutInterval) s)")
                }
            }
            if announced >= 0 && Int64(data.count) < announced && http.statusCode != 204 && http.statusCode != 304 {
                throw TransportFailure(kind: .other, message: "connection closed after \(data.count) of \(announced) body bytes")
            }
            let headers = http.allHeaderFields.map { Header(name: "\($0.key)", value: "\($0.value)") }
            return HttpResponse(status: UInt16(http.statusCode), headers: headers, body: data)
        } catch let e as URLError {
            switch e.code {
            // The caller's cancellation; a session's own cancel (a task cancelled by someone else)
            // is a transport failure, not the caller's cancel and its clean-up (helper-50).
            case .cancelled where Task.isCancelled: throw CancellationError()
            case .timedOut: throw TransportFailure(kind: .timeout, message: e.localizedDescription)
            case .cannotConnectToHost, .cannotFindHost, .dnsLookupFailed, .notConnectedToInternet,
                 .secureConnectionFailed, .serverCertificateUntrusted, .badURL:
                throw TransportFailure(kind: .connect, message: e.localizedDescription)
            default: throw TransportFailure(kind: .other, message: e.localizedDescription)
            }
        }
    }
}

// MARK: - Driver

/// The instant the process's clients count from (a global: initialized once, on first use, thread-safely).
/// One for the process, not one a client: the clients of a key share its rate limiter, whose times
/// must all be read on one clock (with an epoch per client, a client made an hour after another
/// read the other's sends as an hour newer, and waited an hour more for their slots).
private let processEpoch = DispatchTime.now().uptimeNanoseconds

/// Resumes a continuation once, from whichever of several tasks comes first.
private final class ResumeOnce: @unchecked Sendable {
    private let lock = NSLock()
    private var waiting: CheckedContinuation<Void, Never>?

    init(_ k: CheckedContinuation<Void, Never>) { waiting = k }

    func resume() {
        lock.lock()
        let k = waiting
        waiting = nil
        lock.unlock()
        k?.resume()
    }
}

/// A batch driver's sleep that `Batch.cancel()` cuts short (Kotlin's conflated `wake` channel): a
/// signal wakes the sleep under way at once or, when none is, makes the next one return at once (a
/// cancel asked while a request was in flight is not slept past either). A cancellation of the
/// sleeping task ends the sleep too (no error), as `nap` does. The sleep is a timer task that a
/// signal cancels: nothing spins.
final class Wake: @unchecked Sendable {
    private let lock = NSLock()
    private var signalled = false
    private var sleeping: Task<Void, Never>?

    /// Wakes the sleep under way, or the next one.
    func signal() {
        lock.lock()
        let timer = sleeping
        if timer == nil { signalled = true }
        lock.unlock()
        timer?.cancel()
    }

    /// Sleeps `nanoseconds`, or until `signal()` or the calling task's cancellation, whichever is first.
    func sleep(nanoseconds: UInt64) async {
        guard let timer = begin(nanoseconds) else { return }
        await withTaskCancellationHandler {
            await timer.value
        } onCancel: {
            timer.cancel()
        }
        end()
    }

    /// The timer of a sleep, registered for `signal()` (`nil`: a signal is pending, no sleep).
    /// (The lock is taken in synchronous functions only: `NSLock` is not for async contexts.)
    private func begin(_ nanoseconds: UInt64) -> Task<Void, Never>? {
        lock.lock()
        defer { lock.unlock() }
        if signalled {
            signalled = false
            return nil
        }
        let timer = Task<Void, Never> { _ = try? await Task.sleep(nanoseconds: nanoseconds) }
        sleeping = timer
        return timer
    }

    private func end() {
        lock.lock()
        sleeping = nil
        lock.unlock()
    }
}

/// The one driver loop: runs any core machine to `done`. On task cancellation the request in
/// flight is reported `aborted`, the machine is cancelled, and its clean-up (the delete of a
/// still-pending job: a `createAndWait`'s own, or a `wait`'s with `cancelOnTimeout`; the core's
/// `job` rule 6) is driven to the end in a detached task before `CancellationError` is thrown.
/// A wait that times out with `cancelOnTimeout` and begins to delete its job (`handOff`: the
/// core's `cleaningUp`) is treated alike: the caller waits for the delete 10 s at most, then gets
/// the wait's own error, saying the delete goes on in its detached task.
final class Driver: @unchecked Sendable {
    let transport: HTTPTransport
    let limiter: RateLimiter
    /// The most one attempt may take, in ms: the client's `requestTimeout` (`nil`: no cap).
    let requestTimeoutMs: UInt64?

    init(transport: HTTPTransport, limiter: RateLimiter, requestTimeoutMs: UInt64? = nil) {
        self.transport = transport
        self.limiter = limiter
        self.requestTimeoutMs = requestTimeoutMs
        _ = processEpoch // the process's clock starts with its first client
    }

    /// The timeout of one attempt (Kotlin's `timeoutOf`): the core's (what is left of a deadline)
    /// and the client's `requestTimeout`, the shorter, at least 1 ms. Without the client's, a
    /// poll's attempt could take what was left of a ten-minute wait (helper-50).
    func timeoutOf(_ coreMs: UInt64?) -> UInt64? {
        guard let ms = [coreMs, requestTimeoutMs].compactMap({ $0 }).min() else { return nil }
        return max(ms, 1)
    }

    /// Monotonic ms since the process's first client: the core's clock, one for every client
    /// (see `processEpoch`).
    func now() -> UInt64 {
        // The epoch first: a global is set on first read, and read after the time it would be
        // later than it, and the subtraction would trap.
        let epoch = processEpoch
        let t = DispatchTime.now().uptimeNanoseconds
        return t >= epoch ? (t - epoch) / 1_000_000 : 0
    }

    /// The request the core handed out last and has not had an outcome of: `sent` once it went
    /// out (a cancel then reports it aborted), not while it waits for a slot (reported not sent).
    struct Outstanding: Sendable {
        let id: RequestId
        let sent: Bool
    }

    private func sleep(until t: UInt64) async throws {
        let n = now()
        if t > n { try await Task.sleep(nanoseconds: (t - n) * 1_000_000) }
    }

    /// `createKey`: `m` is a create (or create-and-wait) under that idempotency key, whose
    /// cancellation after its request went out throws a `CreateCancellationError` carrying it
    /// (`cancelledCreate`).
    func drive(_ m: Machine, onEvent: (Event) -> Void, handOff: Bool = false, createKey: String? = nil) async throws {
        var inFlight: Outstanding?
        var createSent = false
        var cleaning: ErrorInfo?
        do {
            cleaning = try await loop(m, onEvent: onEvent, inFlight: &inFlight, createSent: &createSent, handOff: handOff)
        } catch is CancellationError {
            let pending = inFlight
            await cleanUp(m) {
                // A request handed out but not sent (cancelled in its slot wait) is reported not
                // sent, as Kotlin's `Driver` does: left unreported, the core waited for its answer
                // for ever (a create-and-wait's look before its delete), and the job was charged.
                if let p = pending {
                    try? m.handleTransportError(id: p.id, kind: p.sent ? .aborted : .connect, message: p.sent ? "cancelled" : "not sent: cancelled", now: self.now())
                }
                try? m.cancel(now: self.now())
            }
            if let key = createKey { throw cancelledCreate(m, key: key, createSent: createSent) }
            throw CancellationError()
        }
        guard let info = cleaning else { return }
        // A timed-out wait's delete (the core gave it 10 s, then left the job to be charged under
        // a spent rate limit).
        await cleanUp(m) {}
        if m.isDone() { return } // its outcome is `runJob`'s to take
        try Task.checkCancellation() // a caller cancelled meanwhile gets its cancellation
        throw USVideoError(info) // the core's words: the delete goes on
    }

    /// Drives the rest of `m` (a clean-up: the delete of a pending job), after `first`, in a
    /// detached task. The caller waits 10 s for it at most (as every driver's does): a delete held
    /// longer (a spent rate limit, a 429's pause) goes on in its task. Awaiting the task's
    /// `result` cannot be interrupted, so whichever of it and a timer comes first resumes the
    /// caller.
    private func cleanUp(_ m: Machine, first: @escaping @Sendable () -> Void) async {
        let cleanup = Task.detached { [self] in
            first()
            var none: Outstanding?
            var sent = false
            _ = try? await self.loop(m, onEvent: { _ in }, inFlight: &none, createSent: &sent)
        }
        await withCheckedContinuation { (k: CheckedContinuation<Void, Never>) in
            let once = ResumeOnce(k)
            Task.detached { _ = await cleanup.result; once.resume() }
            Task.detached { try? await Task.sleep(nanoseconds: 10_000_000_000); once.resume() }
        }
    }

    /// What a cancelled create under `key` throws (Kotlin's `cancelledCreate`): the core's clean-up
    /// decides, once it has ended: a job it found (`made`), or an error carrying the create's key
    /// (its outcome unknown: `unknown`); any other end (a create cancelled before it was sent made
    /// nothing; a create-and-wait's job deleted) is a plain `CancellationError`. A clean-up still
    /// going (the caller stopped waiting for it) has decided nothing yet: a create that went out
    /// with no job named is in doubt, and its key goes with the cancellation (`stillLooking`).
    private func cancelledCreate(_ m: Machine, key: String, createSent: Bool) -> Error {
        guard m.isDone() else {
            return createSent && m.jobId() == nil ? CreateCancellationError.stillLooking(key: key) : CancellationError()
        }
        do {
            let job = try ffi { try m.takeJob() }
            return CreateCancellationError.made(job, key: key)
        } catch let e as USVideoError {
            if let k = e.idempotencyKey { return CreateCancellationError.unknown(e, key: k) }
            // A job the clean-up found but left (processing, its delete failed): named, as the
            // events that would have named it went to nobody (helper-78).
            if let id = e.jobId, !e.message.contains("deleted and refunded"), !e.message.contains("the job is gone") {
                return CreateCancellationError.left(e, jobId: id, key: key)
            }
            return CancellationError()
        } catch {
            return CancellationError()
        }
    }

    /// Drives `m` to `done`; with `handOff`, only until a wait's clean-up begins (the core's
    /// `cleaningUp`): then it returns the error to throw if `drive` hands the rest off (saying the
    /// delete goes on). `nil` when done. `createSent` is set once a create goes out: it may have
    /// made a job, whatever becomes of its answer.
    private func loop(_ m: Machine, onEvent: (Event) -> Void, inFlight: inout Outstanding?, createSent: inout Bool, handOff: Bool = false) async throws -> ErrorInfo? {
        while true {
            if handOff, let info = m.cleaningUp()?.error { return info }
            switch try ffi({ try m.poll(now: now()) }) {
            case .send(let id, let endpoint, let request, let timeoutMs, let sendBy):
                // The request's time runs while it waits for a slot: a wait's deadline holds even
                // when the client's rate limit is spent.
                let until: Millis? = timeoutMs.map { let (end, overflow) = now().addingReportingOverflow($0); return overflow ? .max : end }
                // A slot later than `sendBy` (a clean-up's delete whose job's sighting goes stale
                // then) is not waited for: the core looks at the job again first.
                let slotBy: Millis? = [until, sendBy].compactMap { $0 }.min()
                var slot = true
                // Only the key's requests wait for (and teach) the key's limiter: not pricing.
                let counted = countsAgainstKey(endpoint: endpoint)
                // As Kotlin's `acquireSlotBy`: wait in the limiter's line (first come first served,
                // woken about once, at its turn) or until the deadline, whichever is first, and
                // give up only once the deadline has come (the core reads a `connect` failure as
                // the wait's timeout only then). A call that gives up, or is cancelled, leaves the line.
                var ticket: UInt64? = nil
                defer { if let ticket { limiter.leave(ticket: ticket) } }
                inFlight = Outstanding(id: id, sent: false)
                while counted {
                    let t = now()
                    let turn = try ffi({ try limiter.acquireInLine(ticket: ticket, now: t) })
                    ticket = turn.ticket
                    guard let next = turn.waitUntil else { break }
                    if let slotBy, t >= slotBy { slot = false; break }
                    try await sleep(until: slotBy.map { min(next, $0) } ?? next)
                }
                if !slot {
                    // Nothing reached the service (a create past its deadline made no job).
                    inFlight = nil
                    try ffi { try m.handleNotSent(id: id, now: now()) }
                    continue
                }
                // A task cancelled already sends nothing (Kotlin's `ensureActive`): its create
                // would be made and charged.
                try Task.checkCancellation()
                inFlight = Outstanding(id: id, sent: true)
                if endpoint == .createVideo { createSent = true }
                do {
                    // What is left of the request's time after the slot wait.
                    let left: UInt64? = until.map { u in let t = now(); return u > t ? max(1, u - t) : 1 }
                    let response = try await transport.send(request, timeoutMs: timeoutOf(left))
                    inFlight = nil
                    let t = now()
                    if counted { try ffi { try limiter.observe(response: response, now: t) } }
                    try ffi { try m.handleResponse(id: id, response: response, now: t) }
                } catch let f as TransportFailure {
                    inFlight = nil
                    try ffi { try m.handleTransportError(id: id, kind: f.kind, message: f.message, now: now()) }
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    inFlight = nil
                    try ffi { try m.handleTransportError(id: id, kind: .other, message: String(describing: error), now: now()) }
                }
            case .event(let e):
                onEvent(e)
            case .waitUntil(let t):
                try await sleep(until: t)
                try ffi { try m.handleTimeout(now: now()) }
            case .pending:
                // Requests are awaited inline, so nothing can be in flight here: stop instead of hanging.
                try ffi { try m.cancel(now: now()) }
                return nil
            case .done:
                return nil
            }
        }
    }
}

extension Driver {
    /// Sleeps until `t`; a cancellation of the calling task cuts it short (no error).
    fileprivate func nap(until t: UInt64) async {
        let n = now()
        if t > n { try? await Task.sleep(nanoseconds: (t - n) * 1_000_000) }
    }

    /// Sleeps until `t`; `wake` (a `Batch.cancel()`) or a cancellation of the calling task cuts it
    /// short (no error).
    fileprivate func nap(until t: UInt64, wake: Wake) async {
        let n = now()
        guard t > n else { return }
        // Capped at `Int64.max` ns (292 years): no overflow trap, and no delay beyond a signed timer's.
        let (ns, overflow) = (t - n).multipliedReportingOverflow(by: 1_000_000)
        await wake.sleep(nanoseconds: overflow ? UInt64(Int64.max) : min(ns, UInt64(Int64.max)))
    }

    /// Sleeps until `t` even in a cancelled task (the clean-up's waits).
    fileprivate func napDetached(until t: UInt64) async {
        let n = now()
        if t > n { await Task.detached { try? await Task.sleep(nanoseconds: (t - n) * 1_000_000) }.value }
    }

    /// Drives a batch to `done`, passing every event to `onEvent`.
    ///
    /// Cancellation differs from `drive`: a batch's own requests (the list, a delete) cannot be
    /// reported `aborted` without failing the whole batch, and a create in flight may have made a
    /// job. So every request runs in a detached task and is **seen through** (bounded by its own
    /// timeout); once the calling task is cancelled the batch is cancelled and its clean-up (the
    /// deletes of pending jobs) driven until done or `cancelTimeout` has passed (best effort),
    /// then `CancellationError` is thrown. `wake` (the batch's, signalled by `Batch.cancel()`) cuts
    /// the sleep between polls short, so a cancel is acted on at once, not after the sleep.
    func driveBatch(_ m: Machine, cancelTimeout: TimeInterval, wake: Wake? = nil, onEvent: (Event) -> Void) async throws {
        var cancelled = false
        var deadline = UInt64.max
        while true {
            if !cancelled && Task.isCancelled {
                cancelled = true
                let (end, overflow) = now().addingReportingOverflow(millis(cancelTimeout) ?? .max)
                deadline = overflow ? .max : end
                try ffi { try m.cancel(now: now()) }
            }
            if cancelled && now() >= deadline { throw CancellationError() }
            switch try ffi({ try m.poll(now: now()) }) {
            case .send(let id, _, let request, let timeoutMs, let sendBy):
                // In the limiter's line as a single call is (`loop`): first come first served,
                // woken about once, at its turn; it leaves the line if it gives up.
                var ticket: UInt64? = nil
                defer { if let ticket { limiter.leave(ticket: ticket) } }
                // A delete carries `sendBy` (its job's pending sighting goes stale then): a slot
                // later than that is not waited for, and the core looks first (helper-55).
                var unsent = false
                while true {
                    let turn = try ffi({ try limiter.acquireInLine(ticket: ticket, now: now()) })
                    ticket = turn.ticket
                    guard let t = turn.waitUntil else { break }
                    if let sendBy, now() >= sendBy { unsent = true; break }
                    // Cancelled in this wait: `nap` would return at once, over and over, until the
                    // slot came (helper-50); the batch is cancelled here and waits as a cancelled one.
                    if !cancelled && Task.isCancelled {
                        cancelled = true
                        let (end, overflow) = now().addingReportingOverflow(millis(cancelTimeout) ?? .max)
                        deadline = overflow ? .max : end
                        try ffi { try m.cancel(now: now()) }
                    }
                    let until = sendBy.map { min(t, $0) } ?? t
                    if cancelled {
                        if t >= deadline { throw CancellationError() }
                        await napDetached(until: until)
                    } else {
                        await nap(until: until)
                    }
                }
                if unsent {
                    try ffi { try m.handleNotSent(id: id, now: now()) }
                    continue
                }
                var timeout = timeoutOf(timeoutMs)
                if cancelled {
                    // One reading of the clock: two could make the subtraction underflow and trap.
                    let t = now()
                    let left = deadline > t ? deadline - t : 1
                    timeout = min(timeout ?? left, left)
                }
                let transport = self.transport
                let attempt = timeout
                let outcome = await Task.detached { () -> Result<HttpResponse, Error> in
                    do { return .success(try await transport.send(request, timeoutMs: attempt)) } catch { return .failure(error) }
                }.value
                let t = now()
                switch outcome {
                case .success(let response):
                    try ffi { try limiter.observe(response: response, now: t) }
                    try ffi { try m.handleResponse(id: id, response: response, now: t) }
                case .failure(let f as TransportFailure):
                    try ffi { try m.handleTransportError(id: id, kind: f.kind, message: f.message, now: t) }
                case .failure(is CancellationError):
                    try ffi { try m.handleTransportError(id: id, kind: .aborted, message: "cancelled", now: t) }
                case .failure(let e):
                    try ffi { try m.handleTransportError(id: id, kind: .other, message: String(describing: e), now: t) }
                }
            case .event(let e):
                onEvent(e)
            case .waitUntil(let t):
                if cancelled {
                    await napDetached(until: min(t, deadline))
                } else if let wake {
                    await nap(until: t, wake: wake)
                } else {
                    await nap(until: t)
                }
                try ffi { try m.handleTimeout(now: now()) }
            case .pending:
                // Requests are awaited inline, so nothing can be in flight here: stop instead of hanging.
                try ffi { try m.cancel(now: now()) }
                if cancelled { throw CancellationError() }
                return
            case .done:
                if cancelled { throw CancellationError() }
                return
            }
        }
    }
}

func randomSeed() -> UInt64 { UInt64.random(in: .min ... .max) }
func entropy() -> Data { Data((0..<32).map { _ in UInt8.random(in: .min ... .max) }) }

// MARK: - Client

/// The cost in cents of `duration` seconds at `resolution`, offline (1080p × 5 s = 120).
public func estimateCost(resolution: Resolution, duration: Int) throws -> Int {
    Int(try ffi { try USVideoFFI.estimateCost(resolution: resolution, duration: UInt32(clamping: duration)) })
}

/// Seconds as the core's milliseconds. `UInt64(x)` traps on NaN, on a negative and past its range
/// (a caller's `.infinity`): NaN or negative is 0 here, and beyond a `UInt64` is `nil`, no limit.
/// What a caller gives is checked first by `checkedMillis`.
func millis(_ seconds: TimeInterval) -> UInt64? {
    if seconds.isNaN || seconds <= 0 { return 0 }
    return seconds * 1000 < 18_446_744_073_709_551_615.0 ? UInt64(seconds * 1000) : nil
}

/// A caller's seconds (`field`) as the core's milliseconds (`nil`: `.infinity`, no limit). NaN or
/// negative is refused by its name, as Kotlin, Python and npm refuse them (clamped to 0, a wait's
/// timeout would end it at once).
func checkedMillis(_ field: String, _ seconds: TimeInterval) throws -> UInt64? {
    guard !seconds.isNaN, seconds >= 0 else {
        throw USVideoError(ErrorInfo.validation(field: field, message: "\(field) must be a number of seconds from 0 (got \(seconds))"))
    }
    return millis(seconds)
}

/// A whole number the caller gave as Swift's signed `Int` (`field`), as the unsigned one the core
/// takes. Below `min` it is refused by its name, as in Kotlin (`unsigned`): clamped, a negative
/// `requestsPerMinute` was 0, no budget at all, and a negative `offset` the first page.
func unsigned(_ field: String, _ value: Int, min: Int = 0) throws -> UInt64 {
    guard value >= min else {
        throw USVideoError(ErrorInfo.validation(field: field, message: "\(field) must be a whole number from \(min) (got \(value))"))
    }
    return UInt64(value)
}

/// How a wait behaves.
public struct WaitConfig: Sendable {
    public var timeout: TimeInterval? = 600
    public var cancelOnTimeout = false
    /// Multiplies the model's expected generation time. Left at 1.0, the wait uses what the
    /// client's earlier create-and-waits learned of the service's speed; any other value is kept.
    public var expectedScale = 1.0
    public init(timeout: TimeInterval? = 600, cancelOnTimeout: Bool = false, expectedScale: Double = 1.0) {
        self.timeout = timeout; self.cancelOnTimeout = cancelOnTimeout; self.expectedScale = expectedScale
    }
    func core() throws -> WaitOptions {
        var o = defaultWaitOptions()
        o.timeoutMs = try timeout.flatMap { try checkedMillis("timeout", $0) }
        o.cancelOnTimeout = cancelOnTimeout
        o.poll.expectedScale = expectedScale
        return o
    }
}

/// The US Video API client. Every call is `async`; cancelling the task stops it promptly.
public final class USVideo: @unchecked Sendable, CustomStringConvertible, CustomReflectable {
    let core: CoreClient
    let driver: Driver
    let requestsPerMinute: UInt32

    /// A wait's options: `config`'s, with this client's retries (its `maxRetries`), which the
    /// wait's polls, deletes and a create-and-wait's create follow (the default policy until
    /// session 25, whatever `maxRetries` said).
    func waitOptions(_ config: WaitConfig) throws -> WaitOptions {
        var o = try config.core()
        o.retry = core.retryPolicy()
        return o
    }

    /// - Parameters:
    ///   - apiKey: `sd_…`; default `USVIDEO_API_KEY` (`""`: none, even where that is set). May be
    ///     absent for pricing and API-key creation, and for a client behind a server-side proxy
    ///     that adds it: its requests carry no `Authorization` (calls that need a key are refused
    ///     before sending when `baseURL` is the service's own).
    ///   - baseURL: default `USVIDEO_BASE_URL`, then `defaultBaseURL`.
    ///   - requestTimeout: the most one request (one attempt) may take, in seconds, whatever the
    ///     transport (default 60, as Kotlin's `requestTimeoutMs`; a wait's deadline that comes sooner
    ///     wins; a timed-out attempt is retried, or reconciled for a create, by the core's rules).
    ///     NaN or below 1 ms is a `ValidationError` naming it, as in Kotlin; `.infinity` is no cap.
    ///     A transport is given it as `timeoutMs` and must honour it (`URLSessionTransport` does).
    public init(apiKey: String? = ProcessInfo.processInfo.environment["USVIDEO_API_KEY"],
                baseURL: String = ProcessInfo.processInfo.environment["USVIDEO_BASE_URL"] ?? defaultBaseURL,
                transport: HTTPTransport = URLSessionTransport(),
                maxRetries: Int? = nil,
                requestsPerMinute: Int = 60,
                requestTimeout: TimeInterval = 60) throws {
        // Refused, not clamped: 0 would time every attempt out at once, and NaN has no meaning.
        guard !requestTimeout.isNaN, requestTimeout >= 0.001 else {
            throw USVideoError(ErrorInfo.validation(field: "requestTimeout",
                                                    message: "requestTimeout must be a number of seconds from 0.001 (got \(requestTimeout))"))
        }
        var retry: RetryPolicy?
        if let n = maxRetries { retry = defaultRetryPolicy(); retry!.maxRetries = try UInt32(clamping: unsigned("maxRetries", n)) }
        core = try ffi { try CoreClient(baseUrl: baseURL, apiKey: apiKey, userAgent: "usvideo-swift/\(version())", retry: retry) }
        self.requestsPerMinute = try UInt32(clamping: unsigned("requestsPerMinute", requestsPerMinute))
        // The key's limiter, shared by every client of the key, base URL and budget in the process:
        // by the base URL as the core wrote it (`/v1/` and `/v1` are one), and "" as no key.
        driver = Driver(transport: transport, limiter: RateLimiter.shared(baseUrl: core.baseUrl(), apiKey: apiKey.flatMap { $0.isEmpty ? nil : $0 }, requestsPerMinute: self.requestsPerMinute),
                        requestTimeoutMs: millis(requestTimeout))
    }

    /// Never shows the key.
    public var description: String { "USVideo(baseURL: \(core.baseUrl()), apiKey: \(core.redactedKey() ?? "none"))" }

    /// What `dump(client)` walks: the base URL and the redacted key, as `description` shows them.
    public var customMirror: Mirror {
        Mirror(self, children: ["baseURL": core.baseUrl(), "apiKey": core.redactedKey() ?? "none", "requestsPerMinute": requestsPerMinute,
                                "requestTimeoutMs": driver.requestTimeoutMs as Any],
               displayStyle: .class)
    }

    public var videos: Videos { Videos(client: self) }

    /// `createKey`: a create's idempotency key, which a cancel after its request went out carries.
    func runJob(_ m: Machine, createKey: String? = nil, onEvent: (Event) -> Void = { _ in }) async throws -> VideoJob {
        try await driver.drive(m, onEvent: onEvent, handOff: true, createKey: createKey)
        return try ffi { try m.takeJob() }
    }

    func call(_ endpoint: Endpoint, _ request: HttpRequest) async throws -> HttpResponse {
        let m = core.call(endpoint: endpoint, request: request, seed: randomSeed())
        try await driver.drive(m, onEvent: { _ in })
        return try ffi { try m.takeResponse() }
    }

    /// `GET /v1/account`.
    public func account() async throws -> Account {
        let req = try ffi { try core.buildRetrieveAccount() }
        let resp = try await call(.account, req)
        return try ffi { try parseAccount(response: resp) }
    }

    /// `GET /v1/pricing` (no key needed), read exactly.
    public func pricing() async throws -> PricingTable {
        let resp = try await call(.pricing, core.buildRetrievePricing())
        return try ffi { try parsePricing(response: resp) }
    }

    /// `POST /v1/api-keys`, authenticated with a JWT. The key is shown once.
    public func createAPIKey(jwt: String, name: String? = nil) async throws -> CreatedApiKey {
        let req = try ffi { try core.buildCreateApiKey(jwt: jwt, name: name) }
        let resp = try await call(.createApiKey, req)
        return try ffi { try parseCreatedApiKey(response: resp) }
    }
}

// MARK: - Secrets in dump()

// `print` and `String(reflecting:)` show these records through the core's redacting `Debug`, but
// `dump` walks their fields through a mirror, and the default one showed the key or the JWT. Each
// mirror here shows what its `Debug` does: secrets through the core's `redact` (`sd_…1a2b`). (The
// types are uniffi's; fully qualified, the conformances raise no retroactive-conformance warning.)

extension USVideoFFI.Header: Swift.CustomReflectable {
    public var customMirror: Mirror {
        // Every value redacted, not only `Authorization`'s: a proxy may echo the key in any header.
        Mirror(self, children: ["name": name, "value": USVideoFFI.redact(text: value)], displayStyle: .struct)
    }
}

extension USVideoFFI.HttpRequest: Swift.CustomReflectable {
    public var customMirror: Mirror {
        // `headers` are walked through `Header`'s mirror; the body as its size.
        Mirror(self, children: ["method": method, "url": USVideoFFI.redact(text: url), "headers": headers,
                                "body": body.map { "\($0.count) bytes" } as Any],
               displayStyle: .struct)
    }
}

extension USVideoFFI.CreatedApiKey: Swift.CustomReflectable {
    public var customMirror: Mirror {
        Mirror(self, children: ["id": id, "name": name as Any, "key": USVideoFFI.redact(text: key), "createdAt": createdAt as Any],
               displayStyle: .struct)
    }
}

/// `client.videos`.
public struct Videos {
    let client: USVideo

    /// Submits a job (at most once: idempotency key, reconciliation of a lost answer). A task
    /// cancelled after the request went out still looks for the job it may have made (10 s at
    /// most) and leaves it, then throws `CreateCancellationError` with the key (and the job's id
    /// when found); cancelled before anything was sent, `CancellationError` (nothing was made).
    public func create(_ request: CreateVideoRequest, idempotencyKey: String? = nil) async throws -> VideoJob {
        let key = try keyFor(idempotencyKey)
        let m = try ffi { try client.core.create(request: request, entropy: entropy(), seed: randomSeed(), idempotencyKey: key) }
        return try await client.runJob(m, createKey: key)
    }

    /// `given`, or a fresh key (the core's): known here, so a cancelled create can name it.
    private func keyFor(_ given: String?) throws -> String {
        if let given { return given }
        return try ffi { try idempotencyKeyFromEntropy(entropy: entropy()) }
    }

    public func retrieve(_ id: String) async throws -> VideoJob {
        let req = try ffi { try client.core.buildRetrieveVideo(id: id) }
        let resp = try await client.call(.retrieveVideo, req)
        return try ffi { try parseJobOf(response: resp, id: id) }
    }

    public func list(limit: Int? = nil, offset: Int? = nil) async throws -> JobPage {
        try await list(ListParams(limit: limit.map { UInt32(clamping: $0) }, offset: offset.map { try unsigned("offset", $0) }))
    }

    private func list(_ params: ListParams) async throws -> JobPage {
        let req = try ffi { try client.core.buildListVideos(params: params) }
        let resp = try await client.call(.listVideos, req)
        return try ffi { try parseJobPage(response: resp, asked: params) }
    }

    /// Every job, page after page. Ends at the last page, or at a page that starts with the job
    /// the one before started with (a server that ignores `offset`); a job the page before held,
    /// pushed down by a newer one, is not yielded twice.
    public func listAll(pageSize: Int = 100) -> AsyncThrowingStream<VideoJob, Error> {
        AsyncThrowingStream { continuation in
            let task = Task {
                do {
                    let walk = PageWalk(limit: UInt32(clamping: pageSize))
                    while let asked = walk.nextPage() {
                        let page = try await list(asked)
                        for i in walk.take(ids: page.data.map { $0.id }, hasMore: page.hasMore) { continuation.yield(page.data[Int(i)]) }
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    public func delete(_ id: String) async throws -> DeleteResult {
        let req = try ffi { try client.core.buildDeleteVideo(id: id) }
        let resp = try await client.call(.deleteVideo, req)
        return try ffi { try parseDelete(response: resp, id: id) }
    }

    /// Waits until the job completes; `onProgress` hears every poll.
    public func wait(_ id: String, config: WaitConfig = WaitConfig(), onProgress: (JobProgress) -> Void = { _ in }) async throws -> VideoJob {
        let m = try ffi { try client.core.wait(id: id, options: client.waitOptions(config), seed: randomSeed(), now: client.driver.now()) }
        return try await client.runJob(m) { if case .progress(let p) = $0 { onProgress(p) } }
    }

    /// Creates a job (at most once) and waits for it. A task cancelled while its create's answer
    /// was still out throws `CreateCancellationError` (as `create`) when its job cannot be told
    /// from the job list (a service whose jobs show no prompt) or the look-up outlasts 10 s;
    /// otherwise `CancellationError`, after deleting its job if it was last seen pending (one it
    /// leaves, processing or its delete failed, throws `CreateCancellationError` naming it).
    public func createAndWait(_ request: CreateVideoRequest, config: WaitConfig = WaitConfig(), idempotencyKey: String? = nil, onProgress: (JobProgress) -> Void = { _ in }) async throws -> VideoJob {
        let key = try keyFor(idempotencyKey)
        let m = try ffi { try client.core.createAndWait(request: request, options: client.waitOptions(config), entropy: entropy(), seed: randomSeed(), now: client.driver.now(), idempotencyKey: key) }
        return try await client.runJob(m, createKey: key) { if case .progress(let p) = $0 { onProgress(p) } }
    }
}
