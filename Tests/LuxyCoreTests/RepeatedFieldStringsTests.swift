import NIOCore
import NIOHTTP1
import XCTest

@testable import LuxyCore

/// A long field read again is the string kept from before, not a new one; anything else
/// reads exactly as `String(decoding:as:)` would.
final class RepeatedFieldStringsTests: XCTestCase {
    private func string(_ strings: RepeatedFieldStrings, _ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { strings.string($0) }
    }

    /// Where a string's bytes live: the same address means the same storage, not a copy.
    private func storage(_ string: String) -> UnsafeRawPointer? {
        var string = string
        return string.withUTF8 { UnsafeRawPointer($0.baseAddress) }
    }

    func testALongFieldReadAgainIsTheStringKept() {
        let strings = RepeatedFieldStrings()
        let date = Array("Sat, 05 Dec 2026 03:31:42 GMT".utf8)
        let first = string(strings, date)
        let again = string(strings, date)
        XCTAssertEqual(first, "Sat, 05 Dec 2026 03:31:42 GMT")
        XCTAssertEqual(again, first)
        XCTAssertEqual(storage(again), storage(first), "the same storage, not a new copy")
    }

    func testOtherBytesGetTheirOwnString() {
        let strings = RepeatedFieldStrings()
        let first = string(strings, Array("Sat, 05 Dec 2026 03:31:42 GMT".utf8))
        let next = string(strings, Array("Sat, 05 Dec 2026 03:31:43 GMT".utf8))
        XCTAssertEqual(next, "Sat, 05 Dec 2026 03:31:43 GMT")
        XCTAssertNotEqual(storage(next), storage(first))
        // Many different fields share the slots: each still reads as its own bytes.
        for index in 0..<200 {
            let text = "application/x-test-\(index)"
            XCTAssertEqual(string(strings, Array(text.utf8)), text)
        }
    }

    func testBytesThatAreNotUTF8ReadAsStringDecodingReadsThem() {
        let strings = RepeatedFieldStrings()
        let bytes: [UInt8] = Array("a value with obs-text ".utf8) + [0xE9, 0xFF]
        let expected = String(decoding: bytes, as: UTF8.self)
        XCTAssertEqual(string(strings, bytes), expected)
        XCTAssertEqual(string(strings, bytes), expected, "a repaired string never passes for the bytes")
    }

    func testShortAndVeryLongFieldsAreMadeAsTheyCome() {
        let strings = RepeatedFieldStrings()
        XCTAssertEqual(string(strings, Array("text/plain".utf8)), "text/plain")
        let long = String(repeating: "x", count: RepeatedFieldStrings.maximumLength + 1)
        XCTAssertEqual(string(strings, Array(long.utf8)), long)
        XCTAssertEqual(string(strings, Array(long.utf8)), long)
    }

    /// The parsers read heads through it: values come out right, and a second message
    /// shares the first's long strings.
    func testAParsedResponseSharesTheStringsOfTheOneBefore() throws {
        let strings = RepeatedFieldStrings()
        let text = "HTTP/1.1 200 OK\r\ndate: Sat, 05 Dec 2026 03:31:42 GMT\r\n"
            + "content-type: application/json; charset=utf-8\r\ncontent-length: 0\r\n\r\n"
        func parse() throws -> HTTPResponseHead {
            guard case .parsed(let parsed) = UpstreamResponseHeadParser.parse(ByteBuffer(string: text), respondingTo: .GET,
                                                                               strings: strings)
            else { throw NotParsed() }
            return parsed.head
        }
        let first = try parse(), second = try parse()
        XCTAssertEqual(second.headers.first(name: "date"), "Sat, 05 Dec 2026 03:31:42 GMT")
        XCTAssertEqual(second.headers.first(name: "content-type"), "application/json; charset=utf-8")
        XCTAssertEqual(storage(try XCTUnwrap(second.headers.first(name: "content-type"))),
                       storage(try XCTUnwrap(first.headers.first(name: "content-type"))))
    }

    func testAParsedRequestSharesTheStringsOfTheOneBefore() throws {
        let strings = RepeatedFieldStrings()
        let text = "GET / HTTP/1.1\r\nhost: example\r\nuser-agent: Mozilla/5.0 (X11; Linux x86_64)\r\n\r\n"
        func parse() throws -> HTTPRequestHead {
            guard case .parsed(let parsed) = RequestHeadParser.parse(ByteBuffer(string: text), maxHeadBytes: 8192,
                                                                      maxFields: 100, strings: strings)
            else { throw NotParsed() }
            return parsed.head
        }
        let first = try parse(), second = try parse()
        XCTAssertEqual(second.headers.first(name: "user-agent"), "Mozilla/5.0 (X11; Linux x86_64)")
        XCTAssertEqual(storage(try XCTUnwrap(second.headers.first(name: "user-agent"))),
                       storage(try XCTUnwrap(first.headers.first(name: "user-agent"))))
    }
}

/// Thrown, failing the test, when a head meant for the fast path was not parsed.
private struct NotParsed: Error {}
