import LuxyConfig
import XCTest

@testable import LuxyCore

/// The byte views the request path scans heads, targets and names through: the same bytes
/// as the UTF-8 view for every kind of storage, and prefixes compared as bytes.
final class StringUTF8BytesTests: XCTestCase {
    private let samples = ["", "/ok", "/a/path/longer/than/fifteen/bytes?q=1", "café/été", "127.0.0.1:18090"]

    func testTheBytesAreTheUTF8ViewsForSmallHeapAndSubstringStorage() {
        for sample in samples {
            XCTAssertEqual(sample.withUTF8Bytes { Array($0) }, Array(sample.utf8), sample)
            let inner = ("<" + sample + ">").dropFirst().dropLast()
            XCTAssertEqual(inner.withUTF8Bytes { Array($0) }, Array(sample.utf8), "substring of \(sample)")
        }
    }

    func testPrefixesCompareAsBytes() {
        let path = "/api/v1/items?x=1"
        XCTAssertTrue(path.hasUTF8Prefix("/api"))
        XCTAssertTrue(path.hasUTF8Prefix(""))
        XCTAssertTrue(path.hasUTF8Prefix(path))
        XCTAssertFalse(path.hasUTF8Prefix("/API"), "paths are case-sensitive")
        XCTAssertFalse("/ap".hasUTF8Prefix("/api"), "longer than the string")
        XCTAssertTrue(path.dropFirst(4).hasUTF8Prefix("/v1"), "a substring from its own start")
        // Canonically equivalent, different bytes: e + combining acute against é. As bytes
        // they differ, as nginx and Envoy compare them.
        XCTAssertFalse("/cafe\u{301}".hasUTF8Prefix("/café"))
    }
}
