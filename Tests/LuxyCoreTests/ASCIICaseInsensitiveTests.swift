import XCTest

@testable import LuxyCore

/// Header names and tokens compare ASCII case-insensitively, and only ASCII letters fold:
/// the same answer for small strings, long (heap) ones and substrings of either.
final class ASCIICaseInsensitiveTests: XCTestCase {
    func testOnlyASCIILettersFoldWhateverTheStringsStorage() {
        let equal: [(String, String)] = [
            ("content-length", "Content-Length"), ("X-REQUEST-ID", "x-request-id"), ("", ""),
            ("proxy-authorization-with-a-long-name", "Proxy-Authorization-With-A-Long-Name"),
            ("été", "été"), ("a1-_~", "A1-_~"),
        ]
        let different: [(String, String)] = [
            ("content-length", "content-lengtH2"), ("host", "hosT "), ("été", "ÉTÉ"),
            // '@' and '`' differ by the case bit but are not letters; neither are '[' and '{'.
            ("a@", "a`"), ("[x", "{x"),
            ("proxy-authorization-with-a-long-name", "proxy-authorization-with-a-long-namf"),
        ]
        for (a, b) in equal {
            XCTAssertTrue(a.equalsIgnoringASCIICase(b), "\(a) \(b)")
            XCTAssertTrue(b.equalsIgnoringASCIICase(a), "\(b) \(a)")
            XCTAssertTrue(("<" + a + ">").dropFirst().dropLast().equalsIgnoringASCIICase(b), "substring of \(a)")
        }
        for (a, b) in different {
            XCTAssertFalse(a.equalsIgnoringASCIICase(b), "\(a) \(b)")
            XCTAssertFalse(b.equalsIgnoringASCIICase(a), "\(b) \(a)")
            XCTAssertFalse(("<" + a + ">").dropFirst().dropLast().equalsIgnoringASCIICase(b), "substring of \(a)")
        }
    }
}
