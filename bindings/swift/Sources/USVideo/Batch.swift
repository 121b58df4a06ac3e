// Batches: the core's `Batch` scheduler driven over the client's transport, its items delivered
// as an `AsyncThrowingStream` in completion order. Reviewed, not compiled here (no Swift
// toolchain on these machines): see bindings/README.md.
import Foundation

/// How a batch runs. The defaults are the core's (`BatchOptions::default`), with the client's
/// request budget and retry policy.
public struct BatchConfig {
    /// Jobs in flight at once (being created, pending or processing): the plan's limit (standard 10).
    public var concurrentJobs: Int
    /// The batch's request budget per minute (`nil`: the client's `requestsPerMinute`).
    public var requestsPerMinute: Int?
    /// Submit the longest expected jobs first (results still come as jobs finish).
    public var longestFirst: Bool
    /// Gap between polls while a completion is likely.
    public var pollInterval: TimeInterval
    /// Read the account first and refuse to start beyond its balance.
    public var checkBalance: Bool
    /// Multiplies the model's expected times until finished jobs teach the batch its own.
    public var expectedScale: Double
    /// When the stream's consumer goes away: how long the clean-up (deletes of pending jobs) may take.
    public var cancelTimeout: TimeInterval

    public init(concurrentJobs: Int = 10, requestsPerMinute: Int? = nil, longestFirst: Bool = false, pollInterval: TimeInterval = 3,
                checkBalance: Bool = true, expectedScale: Double = 1.0, cancelTimeout: TimeInterval = 5) {
        self.concurrentJobs = concurrentJobs
        self.requestsPerMinute = requestsPerMinute
        self.longestFirst = longestFirst
        self.pollInterval = pollInterval
        self.checkBalance = checkBalance
        self.expectedScale = expectedScale
        self.cancelTimeout = cancelTimeout
    }

    /// The core's options. A negative count or budget, or a NaN or negative interval, is refused
    /// by its name, as in Kotlin (they were clamped: a `concurrentJobs` of 0 ran one at a time).
    func core(client: USVideo, maxSpendCents: Int?) throws -> BatchOptions {
        var o = defaultBatchOptions()
        o.maxSpendCents = try maxSpendCents.map { try unsigned("maxSpendCents", $0) }
        let perMinute = try requestsPerMinute.map { try UInt32(clamping: unsigned("requestsPerMinute", $0)) } ?? client.requestsPerMinute
        o.limits = try Limits(requestsPerMinute: perMinute, concurrentJobs: UInt32(clamping: unsigned("concurrentJobs", concurrentJobs, min: 1)))
        o.longestFirst = longestFirst
        o.pollIntervalMs = try checkedMillis("pollInterval", pollInterval) ?? .max
        o.checkBalance = checkBalance
        o.expectedScale = expectedScale
        o.retry = client.core.retryPolicy()
        return o
    }
}

/// One item of a batch, as it finished: a completed `job`, or the `error` that ended it (the job
/// failed, the service refused the create, the batch was cancelled) with the job as last seen.
public struct BatchItem {
    /// The item's position in the requests.
    public let index: Int
    /// The completed job; for an error, the job as last seen (if one was created).
    public let job: VideoJob?
    /// Why the item did not complete (`nil`: it did).
    public let error: USVideoError?
    public var isCompleted: Bool { error == nil }

    init(_ r: ItemResult) {
        index = Int(r.index)
        job = r.job
        error = r.error.map { USVideoError($0) }
    }
}

/// The outcome of a whole batch.
public struct BatchReport {
    /// Every item, in input order.
    public let items: [BatchItem]
    /// The final counts.
    public let progress: BatchProgress
    /// Cents the batch's jobs cost the account: completed jobs' costs, and the estimates of jobs
    /// that go on after the batch ended with them (a cancel that found them processing), charged
    /// unless they fail later. Failed jobs and deleted pending ones (refunded) cost nothing.
    public let spentCents: Int
}

/// A running batch: iterate `results` (an `AsyncThrowingStream` of items in completion order).
/// Nothing is sent until `results` is first iterated.
///
/// - `results` can be taken once; the stream ends after the last item, or throws the error that
///   ended the whole batch (the balance is short, the key is refused).
/// - `snapshot()` at any time: JSON for `client.videos.resumeBatch(_:)`, in this process or another.
/// - When the consumer goes away (its task is cancelled, or it breaks out of the loop), the batch
///   is cancelled, best effort within `BatchConfig.cancelTimeout`: the request in flight is seen
///   through, queued items end cancelled, pending jobs are deleted (refunded); processing jobs go
///   on. (Unlike Kotlin's Flow, a Swift stream cannot tell a pause from a cancel: to stop without
///   cancelling, keep the snapshot and resume it later.)
/// - `cancel()` asks the same while the stream goes on and yields the cancelled items; it wakes
///   the driver from its sleep between polls, so the deletes go out at once.
/// - `onProgress` is synchronous and cannot throw: it is called on the driving task between two
///   calls into the core, no lock held, so it cannot cut a cancel's clean-up short (Kotlin's and
///   Python's callbacks may throw, and keep such an error until the clean-up has ended), and there
///   is no `cancelAndJoin()` to deadlock in it. Call `cancel()` there; `results` taken there again
///   throws a usage error at once, as anywhere.
public final class Batch: @unchecked Sendable {
    let client: USVideo
    let machine: Machine
    let cancelTimeout: TimeInterval
    let onProgress: (BatchProgress) -> Void
    /// Cuts the driver's sleep between polls short after `cancel()` (Kotlin's `wake` channel).
    private let wake = Wake()
    private let lock = NSLock()
    private var started = false
    private var _report: BatchReport?
    private var _failure: USVideoError?

    init(client: USVideo, machine: Machine, cancelTimeout: TimeInterval, onProgress: @escaping (BatchProgress) -> Void) {
        self.client = client
        self.machine = machine
        self.cancelTimeout = cancelTimeout
        self.onProgress = onProgress
    }

    /// Every item in input order, once the batch has ended (`nil` before, or if it failed as a whole).
    public var report: BatchReport? { lock.lock(); defer { lock.unlock() }; return _report }
    /// The error that ended the whole batch, if one did.
    public var failure: USVideoError? { lock.lock(); defer { lock.unlock() }; return _failure }

    /// The estimated cost of the items not yet done, in cents (known before anything is sent).
    public func estimatedCents() throws -> Int { Int(try ffi { try machine.batchEstimatedCents() }) }

    /// The counts now.
    public func progress() throws -> BatchProgress { try ffi { try machine.batchProgress() } }

    /// Where the batch stands, as JSON: pass it to `client.videos.resumeBatch(_:)` (in any process)
    /// to go on without submitting anything twice. Holds the requests and their idempotency keys,
    /// never the API key.
    public func snapshot() throws -> String { try ffi { try machine.batchSnapshot() } }

    /// Asks the batch to stop: queued items end cancelled, pending jobs are deleted (refunded),
    /// processing jobs go on. Keep iterating `results` to see the cancelled items. Returns at once;
    /// a driver asleep until its next poll is woken to act on it (it slept its sleep out, up to
    /// the poll interval or longer, before the deletes went out).
    public func cancel() {
        try? machine.cancel(now: client.driver.now())
        wake.signal()
    }

    /// The items, in completion order. Take it once.
    public var results: AsyncThrowingStream<BatchItem, Error> {
        AsyncThrowingStream { continuation in
            lock.lock()
            let first = !started
            started = true
            lock.unlock()
            guard first else {
                continuation.finish(throwing: USVideoError(ErrorInfo.usage("a batch's results can be iterated once")))
                return
            }
            let task = Task { [self] in
                do {
                    try await client.driver.driveBatch(machine, cancelTimeout: cancelTimeout, wake: wake) { event in
                        switch event {
                        case .itemDone(let r): continuation.yield(BatchItem(r))
                        case .batchProgress(let p): onProgress(p)
                        default: break
                        }
                    }
                    finish()
                    if let f = failure { continuation.finish(throwing: f) } else { continuation.finish() }
                } catch {
                    if (try? machine.isDone()) == true { finish() }
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { termination in
                if case .cancelled = termination { task.cancel() }
            }
        }
    }

    private func finish() {
        let outcome: Result<BatchSummary, Error> = Result { try ffi { try machine.takeBatchSummary() } }
        lock.lock(); defer { lock.unlock() }
        switch outcome {
        case .success(let s):
            _report = BatchReport(items: s.results.map(BatchItem.init), progress: s.progress, spentCents: Int(s.spentCents))
        case .failure(let e as USVideoError):
            _failure = e
        case .failure(let e):
            _failure = .internalError(String(describing: e))
        }
    }
}

extension ErrorInfo {
    /// A usage error record (the SDK used wrongly), made on the Swift side.
    static func usage(_ message: String) -> ErrorInfo {
        var e = errorFromResponse(response: HttpResponse(status: 0, headers: [], body: Data()))
        e.kind = .usage
        e.code = "usage"
        e.message = message
        e.status = nil
        return e
    }
}

extension Videos {
    /// Runs many creates within the account's limits; iterate `results` for each item as its job
    /// finishes. Every request is validated and the total estimated before anything is sent (a
    /// total above `maxSpendCents` throws here); iterating first reads the balance and refuses
    /// beyond it; at most `config.concurrentJobs` jobs are in flight, creates and polls share one
    /// request budget (the batch never causes a 429), and each item is created at most once.
    public func batch(_ requests: [CreateVideoRequest], maxSpendCents: Int? = nil, config: BatchConfig = BatchConfig(),
                      onProgress: @escaping (BatchProgress) -> Void = { _ in }) throws -> Batch {
        let m = try ffi { try client.core.batch(requests: requests, options: config.core(client: client, maxSpendCents: maxSpendCents), entropy: entropy(), now: client.driver.now()) }
        return Batch(client: client, machine: m, cancelTimeout: config.cancelTimeout, onProgress: onProgress)
    }

    /// Continues a batch from `Batch.snapshot()` (possibly taken in a process that died): items
    /// whose create may have been sent are reconciled before anything is sent for them, so nothing
    /// is created or charged twice, within a day of the snapshot: from one more than 23 h older
    /// than the service's `Date`, nothing is sent again (queued items end coded `snapshot_too_old`).
    public func resumeBatch(_ snapshot: String, maxSpendCents: Int? = nil, config: BatchConfig = BatchConfig(),
                            onProgress: @escaping (BatchProgress) -> Void = { _ in }) throws -> Batch {
        let m = try ffi { try client.core.resumeBatch(snapshot: snapshot, options: config.core(client: client, maxSpendCents: maxSpendCents), seed: randomSeed(), now: client.driver.now()) }
        return Batch(client: client, machine: m, cancelTimeout: config.cancelTimeout, onProgress: onProgress)
    }
}
