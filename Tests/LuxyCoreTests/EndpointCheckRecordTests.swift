@testable import LuxyCore
import XCTest

/// The active checks' thresholds: a verdict changes after a run of the other result, not on one.
final class EndpointCheckRecordTests: XCTestCase {
    func testThresholdsMoveTheVerdict() {
        var record = EndpointCheckRecord()
        XCTAssertNil(record.record(passed: false, healthyThreshold: 2, unhealthyThreshold: 3))
        XCTAssertNil(record.record(passed: false, healthyThreshold: 2, unhealthyThreshold: 3))
        // A pass in between starts the run again.
        XCTAssertNil(record.record(passed: true, healthyThreshold: 2, unhealthyThreshold: 3))
        for _ in 0..<2 { XCTAssertNil(record.record(passed: false, healthyThreshold: 2, unhealthyThreshold: 3)) }
        XCTAssertEqual(record.record(passed: false, healthyThreshold: 2, unhealthyThreshold: 3), .failing)
        XCTAssertNil(record.record(passed: false, healthyThreshold: 2, unhealthyThreshold: 3))
        XCTAssertNil(record.record(passed: true, healthyThreshold: 2, unhealthyThreshold: 3))
        XCTAssertEqual(record.record(passed: true, healthyThreshold: 2, unhealthyThreshold: 3), .healthy)
    }

    func testStatusLineParsing() {
        XCTAssertEqual(HealthCheckStatusReader.status(inStatusLine: "HTTP/1.1 204 No Content\r"), 204)
        XCTAssertEqual(HealthCheckStatusReader.status(inStatusLine: "HTTP/1.0 503"), 503)
        XCTAssertNil(HealthCheckStatusReader.status(inStatusLine: "SSH-2.0-OpenSSH"))
        XCTAssertNil(HealthCheckStatusReader.status(inStatusLine: "HTTP/1.1 20 x"))
    }
}
