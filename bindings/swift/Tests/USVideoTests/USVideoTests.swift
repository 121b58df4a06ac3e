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
