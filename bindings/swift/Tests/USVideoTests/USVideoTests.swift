import XCTest
@testable import USVideo

final class USVideoTests: XCTestCase {
    func testEstimateCostOffline() throws {
        XCTAssertEqual(try estimateCost(resolution: .p1080, duration: 5), 120)
        XCTAssertThrowsError(try estimateCost(resolution: .p720, duration: 11)) { e in
            guard case USVideoError.validationError(let info) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(info.field, "duration")
        }
    }

    func testKeyRedacted() throws {
        let c = try USVideo(apiKey: "sd_live_0123456789abcdefWXYZ", baseURL: "http://127.0.0.1:9/v1")
        XCTAssertFalse(c.description.contains("0123456789"))
    }

    func testPanicIsInternalError() throws {
        XCTAssertThrowsError(try ffi { try debugPanicFallible(message: "boom") }) { e in
            guard case USVideoError.internalError(let m) = e else { return XCTFail("\(e)") }
            XCTAssertTrue(m.contains("boom"))
        }
    }

    /// `dump` walks fields through mirrors (the default ones showed the key): a created key, an
    /// `Authorization` header, a request carrying it and the client show it redacted, as `print`
    /// and `String(reflecting:)` do, and still show what is not secret.
    func testDumpRedactsSecrets() throws {
        let secret = "sd_live_0123456789abcdefWXYZ"
        let header = Header(name: "Authorization", value: "Bearer \(secret)")
        let request = HttpRequest(method: .post, url: "http://127.0.0.1:9/v1/api-keys",
                                  headers: [header, Header(name: "Content-Type", value: "application/json")], body: Data("{}".utf8))
        let created = CreatedApiKey(id: "key_1", name: "ci", key: secret, createdAt: nil)
        let client = try USVideo(apiKey: secret, baseURL: "http://127.0.0.1:9/v1")
        let values: [Any] = [header, request, created, client, [header], Optional(request) as Any]
        for value in values {
            var out = ""
            dump(value, to: &out)
            XCTAssertFalse(out.contains("0123456789"), out)
            XCTAssertFalse(String(reflecting: value).contains("0123456789"))
        }
        var out = ""
        dump(request, to: &out)
        XCTAssertTrue(out.contains("Content-Type"), out)
        XCTAssertTrue(out.contains("2 bytes"), out)
        out = ""
        dump(created, to: &out)
        XCTAssertTrue(out.contains("key_1"), out)
    }

    /// The record's attributes, as Kotlin's `USVideoError` has them; `isRetryable` is the core's rule.
    func testErrorAccessors() {
        func info(_ kind: ErrorKind, _ code: String, status: UInt16? = nil) -> ErrorInfo {
            ErrorInfo(kind: kind, code: code, message: "it went wrong", status: status, field: nil, requestId: "req_1", retryAfterMs: 1500,
                      jobId: "job_1", jobStatus: "pending", idempotencyKey: "idem_1", issues: [], transport: nil)
        }
        let e = USVideoError(info(.rateLimit, "rate_limited", status: 429))
        XCTAssertEqual(e.kind, .rateLimit)
        XCTAssertEqual(e.jobId, "job_1")
        XCTAssertEqual(e.jobStatus, "pending")
        XCTAssertEqual(e.idempotencyKey, "idem_1")
        XCTAssertEqual(e.retryAfter, 1.5)
        XCTAssertTrue(e.isRetryable)
        XCTAssertEqual(e.errorDescription, e.description)
        XCTAssertEqual((e as Error).localizedDescription, e.description)
        XCTAssertTrue(USVideoError(info(.apiStatus, "api_status", status: 503)).isRetryable)
        XCTAssertFalse(USVideoError(info(.apiStatus, "api_status", status: 418)).isRetryable)
        XCTAssertTrue(USVideoError(info(.connection, "connection")).isRetryable)
        // A create whose outcome is unknown is retried under its key, never blindly.
        XCTAssertFalse(USVideoError(info(.connection, "outcome_unknown")).isRetryable)
        XCTAssertFalse(USVideoError(info(.validation, "validation")).isRetryable)
        let bug = USVideoError.internalError("boom")
        XCTAssertFalse(bug.isRetryable)
        XCTAssertNil(bug.kind)
        XCTAssertNil(bug.jobId)
        XCTAssertNil(bug.idempotencyKey)
        XCTAssertEqual(bug.errorDescription, bug.description)
    }

    /// `requestTimeout` is refused by name below 1 ms (as Kotlin's `requestTimeoutMs`), and caps
    /// each attempt: the shorter of it and the core's timeout.
    func testRequestTimeout() throws {
        for bad in [0, -1, 0.0005, Double.nan] {
            XCTAssertThrowsError(try USVideo(apiKey: nil, baseURL: "http://127.0.0.1:9/v1", requestTimeout: bad)) { e in
                guard case USVideoError.validationError(let info) = e else { return XCTFail("\(e)") }
                XCTAssertEqual(info.field, "requestTimeout")
                XCTAssertEqual(info.issues.first?.field, "requestTimeout")
                XCTAssertTrue(info.message.contains("requestTimeout"), info.message)
            }
        }
        let c = try USVideo(apiKey: nil, baseURL: "http://127.0.0.1:9/v1", requestTimeout: 30)
        XCTAssertEqual(c.driver.timeoutOf(nil), 30_000)
        XCTAssertEqual(c.driver.timeoutOf(5_000), 5_000)
        XCTAssertEqual(c.driver.timeoutOf(600_000), 30_000)
        XCTAssertEqual(c.driver.timeoutOf(0), 1)
        XCTAssertEqual(try USVideo(apiKey: nil, baseURL: "http://127.0.0.1:9/v1").driver.timeoutOf(nil), 60_000)
        XCTAssertNil(try USVideo(apiKey: nil, baseURL: "http://127.0.0.1:9/v1", requestTimeout: .infinity).driver.timeoutOf(nil))
    }

    /// A negative count or a NaN or negative interval is refused by its name, as in Kotlin (they
    /// were clamped: a negative `requestsPerMinute` was no budget at all).
    func testNegativeOptionsRefusedByName() async throws {
        func refuses(_ field: String, _ call: () async throws -> Void) async {
            do {
                try await call()
                XCTFail("\(field) was not refused")
            } catch USVideoError.validationError(let info) {
                XCTAssertEqual(info.field, field)
                XCTAssertTrue(info.message.contains(field), info.message)
            } catch {
                XCTFail("\(field): \(error)")
            }
        }
        let base = "http://127.0.0.1:9/v1"
        await refuses("maxRetries") { _ = try USVideo(apiKey: nil, baseURL: base, maxRetries: -1) }
        await refuses("requestsPerMinute") { _ = try USVideo(apiKey: nil, baseURL: base, requestsPerMinute: -1) }
        let c = try USVideo(apiKey: "sd_test_negative", baseURL: base)
        await refuses("offset") { _ = try await c.videos.list(offset: -1) }
        await refuses("timeout") { _ = try await c.videos.wait("job_1", config: WaitConfig(timeout: -1)) }
        await refuses("timeout") { _ = try await c.videos.wait("job_1", config: WaitConfig(timeout: .nan)) }
    }

    /// The transport's delegate refuses a redirect: the 3xx itself goes to the core.
    func testRedirectRefused() {
        let url = URL(string: "http://127.0.0.1:9/v1/videos")!
        let elsewhere = URL(string: "http://127.0.0.1:9/elsewhere")!
        let response = HTTPURLResponse(url: url, statusCode: 301, httpVersion: "HTTP/1.1", headerFields: ["Location": elsewhere.absoluteString])!
        let refused = expectation(description: "redirect refused")
        RefuseRedirects.shared.urlSession(URLSession.shared, task: URLSession.shared.dataTask(with: url), willPerformHTTPRedirection: response,
                                          newRequest: URLRequest(url: elsewhere)) { next in
            XCTAssertNil(next)
            refused.fulfill()
        }
        wait(for: [refused], timeout: 1)
    }

    /// `Batch.cancel()` wakes the driver's sleep at once (`Wake`); a signal while nobody sleeps
    /// ends the next sleep at once; a cancelled task's sleep ends too.
    func testWakeCutsSleepShort() async {
        let wake = Wake()
        let started = DispatchTime.now().uptimeNanoseconds
        async let slept: Void = wake.sleep(nanoseconds: 60_000_000_000)
        try? await Task.sleep(nanoseconds: 50_000_000)
        wake.signal()
        await slept
        XCTAssertLessThan(DispatchTime.now().uptimeNanoseconds - started, 10_000_000_000)

        wake.signal()
        let pending = DispatchTime.now().uptimeNanoseconds
        await wake.sleep(nanoseconds: 60_000_000_000)
        XCTAssertLessThan(DispatchTime.now().uptimeNanoseconds - pending, 10_000_000_000)

        // The signal was used up: a short sleep is slept whole.
        let whole = DispatchTime.now().uptimeNanoseconds
        await wake.sleep(nanoseconds: 20_000_000)
        XCTAssertGreaterThanOrEqual(DispatchTime.now().uptimeNanoseconds - whole, 20_000_000)

        let sleeper = Task { await wake.sleep(nanoseconds: 60_000_000_000) }
        let cancelled = DispatchTime.now().uptimeNanoseconds
        sleeper.cancel()
        await sleeper.value
        XCTAssertLessThan(DispatchTime.now().uptimeNanoseconds - cancelled, 10_000_000_000)
    }

    /// Against the emulator when `USVIDEO_EMULATOR_URL` is set (the macOS CI job starts one).
    func testCreateAndWaitAgainstEmulator() async throws {
        guard let root = ProcessInfo.processInfo.environment["USVIDEO_EMULATOR_URL"] else { throw XCTSkip("no emulator") }
        var r = URLRequest(url: URL(string: root + "/_emulator/accounts")!)
        r.httpMethod = "POST"
        r.httpBody = #"{"email":"swift@example.com","balance_cents":10000}"#.data(using: .utf8)
        let (data, _) = try await URLSession.shared.data(for: r)
        let key = (try JSONSerialization.jsonObject(with: data) as! [String: Any])["api_key"] as! String
        let c = try USVideo(apiKey: key, baseURL: root + "/v1")
        let job = try await c.videos.createAndWait(CreateVideoRequest(prompt: "a lake at dawn", mode: .textToVideo), config: WaitConfig(expectedScale: 0.02))
        XCTAssertEqual(job.status, .completed)
        XCTAssertNotNil(job.videoUrl)
    }

    /// A batch against the emulator (`USVIDEO_EMULATOR_URL`, time scale 50): every item completes,
    /// none is created twice, results come as jobs finish; refusal beyond `maxSpendCents`.
    func testBatchAgainstEmulator() async throws {
        guard let root = ProcessInfo.processInfo.environment["USVIDEO_EMULATOR_URL"] else { throw XCTSkip("no emulator") }
        let email = "swift-batch-\(UUID().uuidString)@example.com"
        var r = URLRequest(url: URL(string: root + "/_emulator/accounts")!)
        r.httpMethod = "POST"
        r.httpBody = #"{"email":"\#(email)","balance_cents":5000}"#.data(using: .utf8)
        let (data, _) = try await URLSession.shared.data(for: r)
        let key = (try JSONSerialization.jsonObject(with: data) as! [String: Any])["api_key"] as! String
        let c = try USVideo(apiKey: key, baseURL: root + "/v1")
        let requests = (0..<6).map { CreateVideoRequest(prompt: "clip \($0)", mode: .textToVideo, resolution: nil, duration: UInt32(1 + $0), imageUrl: nil, referenceUrl: nil, seed: nil) }
        XCTAssertThrowsError(try c.videos.batch(requests, maxSpendCents: 10)) { e in
            guard case USVideoError.validationError(let info) = e else { return XCTFail("\(e)") }
            XCTAssertEqual(info.field, "max_spend_cents")
        }
        let batch = try c.videos.batch(requests, config: BatchConfig(pollInterval: 0.3, expectedScale: 0.02))
        var seen: [Int] = []
        for try await item in batch.results {
            XCTAssertTrue(item.isCompleted, "\(String(describing: item.error))")
            seen.append(item.index)
        }
        XCTAssertEqual(seen.sorted(), Array(0..<6))
        XCTAssertEqual(batch.report?.progress.completed, 6)
        XCTAssertTrue(try batch.snapshot().contains("\"done\""))
        XCTAssertFalse(try batch.snapshot().contains(key))
    }
}
