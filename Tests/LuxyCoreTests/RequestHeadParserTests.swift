import NIOCore
import NIOHTTP1
import XCTest

@testable import LuxyCore

/// The client side's fast path reads only the plain request and leaves every doubtful one to
/// llhttp: each irregular head here must come out `.notSimple`, never read another way.
final class RequestHeadParserTests: XCTestCase {
    private func parse(_ text: String, maxHeadBytes: Int = 8192, maxFields: Int = 100) -> RequestHeadParser.Outcome {
        RequestHeadParser.parse(ByteBuffer(string: text), maxHeadBytes: maxHeadBytes, maxFields: maxFields)
    }

    func testACommonRequestIsReadWithItsFieldsInOrder() throws {
        let head = "POST /a/b?c=d&e=%20f HTTP/1.1\r\nHost: example.com\r\ncontent-length: 4\r\nX-A: 1 \r\n\r\n"
        guard case .parsed(let parsed) = parse(head + "bodyGET /next HTTP/1.1\r\n") else { return XCTFail("not parsed") }
        XCTAssertEqual(parsed.head.method, .POST)
        XCTAssertEqual(parsed.head.uri, "/a/b?c=d&e=%20f")
        XCTAssertEqual(parsed.head.version, .http1_1)
        XCTAssertEqual(parsed.headLength, head.utf8.count)
        XCTAssertEqual(parsed.bodyLength, 4)
        XCTAssertEqual(parsed.head.headers.map { "\($0.name)=\($0.value)" }, ["Host=example.com", "content-length=4", "X-A=1 "])

        for method in ["GET", "HEAD", "PUT", "DELETE", "PATCH", "OPTIONS"] {
            guard case .parsed(let parsed) = parse("\(method) / HTTP/1.0\r\nhost: h\r\nconnection: keep-alive\r\n\r\n") else {
                XCTFail("\(method) not parsed")
                continue
            }
            XCTAssertEqual(parsed.head.method.rawValue, method)
            XCTAssertEqual(parsed.head.version, .http1_0)
            XCTAssertEqual(parsed.bodyLength, 0)
        }
    }

    func testEverythingElseGoesToTheDecoder() {
        let notSimple = [
            "GET / HTTP/1.1\r\nhost: h\r\n",                                   // head not whole
            "get / HTTP/1.1\r\nhost: h\r\n\r\n",                               // not a method llhttp knows
            "PURGE / HTTP/1.1\r\nhost: h\r\n\r\n",                             // one it knows, not ours
            "GETS / HTTP/1.1\r\nhost: h\r\n\r\n",
            "GET  / HTTP/1.1\r\nhost: h\r\n\r\n",
            "GET http://h/ HTTP/1.1\r\nhost: h\r\n\r\n",                       // absolute form
            "OPTIONS * HTTP/1.1\r\nhost: h\r\n\r\n",
            "GET /a b HTTP/1.1\r\nhost: h\r\n\r\n",
            "GET /a#f HTTP/1.1\r\nhost: h\r\n\r\n",
            "GET /a\"b HTTP/1.1\r\nhost: h\r\n\r\n",
            "GET /\u{7F} HTTP/1.1\r\nhost: h\r\n\r\n",
            "GET / HTTP/1.1 \r\nhost: h\r\n\r\n",
            "GET / HTTP/2.0\r\nhost: h\r\n\r\n",
            "GET / HTTP/1.1\nhost: h\r\n\r\n",                                 // bare LF
            "GET /\r\n\r\n",                                                    // HTTP/0.9
            "POST / HTTP/1.1\r\nhost: h\r\ntransfer-encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 3\r\ncontent-length: 3\r\n\r\n",
            "POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 3, 3\r\n\r\n",
            "POST / HTTP/1.1\r\nhost: h\r\ncontent-length: -1\r\n\r\n",
            "GET / HTTP/1.1\r\nhost: h\r\nupgrade: websocket\r\nconnection: upgrade\r\n\r\n",
            "GET / HTTP/1.1\r\nhost: h\r\nconnection: keep-alive, Upgrade\r\n\r\n",
            "GET / HTTP/1.1\r\nhost : h\r\n\r\n",                               // space before the colon
            "GET / HTTP/1.1\r\nhost: h\r\nx: a\r\n b\r\n\r\n",                 // obs-fold
            "GET / HTTP/1.1\r\nhost: h\u{0}\r\n\r\n",
            "\r\nGET / HTTP/1.1\r\nhost: h\r\n\r\n",                           // a blank line first
            "POST / HTTP/1.1\r\nhost: h\r\ncontent-length: 5\t\r\n\r\n",
            "GET / HTTP/1.1\r\nhost: h\r\nproxy-connection: keep-alive\r\n\r\n",
            // Requests that close the connection: llhttp refuses what comes behind them.
            "GET / HTTP/1.1\r\nhost: h\r\nconnection: close\r\n\r\n",
            "GET / HTTP/1.0\r\nhost: h\r\n\r\n",
            // What the edge refuses or changes: the validator surveys these fields itself.
            "GET / HTTP/1.1\r\nhost: h\r\nHost: h\r\n\r\n",
            "GET / HTTP/1.1\r\nhost: h\r\nx_forwarded_for: 1.2.3.4\r\n\r\n",
        ]
        for text in notSimple {
            if case .parsed = parse(text) { XCTFail("parsed: \(text.debugDescription)") }
        }
    }

    /// What the handler and the validator would otherwise scan the fields for, taken as they
    /// were read, as `RequestFraming` and the validator's own survey take it.
    func testTheFactsOfTheFieldsAreTakenAsTheyAreRead() throws {
        let text = "POST / HTTP/1.1\r\nx-a: 1\r\nHost: example.com:8080\r\ncontent-length: 5\r\n"
            + "Expect: foo, 100-Continue\r\n\r\n"
        guard case .parsed(let parsed) = parse(text) else { return XCTFail("not parsed") }
        XCTAssertEqual(parsed.facts.framing.contentLength, 5)
        XCTAssertTrue(parsed.facts.framing.expectsContinue)
        XCTAssertFalse(parsed.facts.framing.isUpgrade)
        XCTAssertTrue(parsed.facts.keepAlive)
        XCTAssertEqual(parsed.facts.fields.count, 4)
        XCTAssertEqual(parsed.facts.fields.hostCount, 1)
        XCTAssertEqual(parsed.facts.fields.firstHost, "example.com:8080")
        XCTAssertEqual(parsed.facts.fields.transferCodings, 0)
        XCTAssertEqual(parsed.facts.fields.underscoreNames, [])
        let scanned = RequestFraming(parsed.head.headers, version: .http1_1, isHTTP2: false)
        XCTAssertEqual(scanned.contentLength, parsed.facts.framing.contentLength)
        XCTAssertEqual(scanned.expectsContinue, parsed.facts.framing.expectsContinue)

        // HTTP/1.0 ignores an expectation; a head without Host is the validator's to refuse.
        let old = "GET / HTTP/1.0\r\nconnection: keep-alive\r\nexpect: 100-continue\r\n\r\n"
        guard case .parsed(let parsed10) = parse(old) else { return XCTFail("not parsed") }
        XCTAssertFalse(parsed10.facts.framing.expectsContinue)
        XCTAssertNil(parsed10.facts.fields.firstHost)
        XCTAssertEqual(parsed10.facts.fields.hostCount, 0)
        guard case .parsed(let other) = parse("GET / HTTP/1.1\r\nhost: h\r\nexpect: 100-continued\r\n\r\n") else {
            return XCTFail("not parsed")
        }
        XCTAssertFalse(other.facts.framing.expectsContinue)
    }

    func testAHeadPastTheListenersLimitsGoesToTheDecoder() {
        let head = "GET / HTTP/1.1\r\nhost: h\r\nx-a: 1\r\nx-b: 2\r\n\r\n"
        guard case .parsed = parse(head, maxHeadBytes: head.utf8.count, maxFields: 3) else { return XCTFail("at the limits") }
        guard case .notSimple = parse(head, maxHeadBytes: head.utf8.count - 1) else { return XCTFail("a byte over") }
        guard case .notSimple = parse(head, maxFields: 2) else { return XCTFail("a field over") }
    }
}
