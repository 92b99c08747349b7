import NIOCore
import NIOHTTP1
import XCTest

@testable import LuxyCore

/// The fast path reads only the plain case and hands every doubtful one to llhttp: each
/// irregular head here must come out `.notSimple`, never parsed another way.
final class UpstreamResponseHeadParserTests: XCTestCase {
    private func parse(_ text: String, method: HTTPMethod = .GET) -> UpstreamResponseHeadParser.Outcome {
        UpstreamResponseHeadParser.parse(ByteBuffer(string: text), respondingTo: method)
    }

    private func parsed(_ text: String, method: HTTPMethod = .GET,
                        file: StaticString = #filePath, line: UInt = #line) -> UpstreamResponseHeadParser.ParsedHead? {
        guard case .parsed(let head) = parse(text, method: method) else {
            XCTFail("not parsed: \(text.debugDescription)", file: file, line: line)
            return nil
        }
        return head
    }

    func testACommonResponseIsReadWithItsFieldsInOrder() throws {
        let head = "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 3\r\nx-a:  one two \t\r\nx-a: 2\r\nConnection: keep-alive\r\n\r\n"
        let result = try XCTUnwrap(parsed(head + "ok\nnext"))
        XCTAssertEqual(result.head.version, .http1_1)
        XCTAssertEqual(result.head.status, .ok)
        XCTAssertEqual(result.headLength, head.utf8.count)
        XCTAssertEqual(result.bodyLength, 3)
        XCTAssertEqual(result.head.headers.map { "\($0.name)=\($0.value)" },
                       ["Server=nginx", "Content-Length=3", "x-a=one two \t", "x-a=2", "Connection=keep-alive"],
                       "leading spaces dropped, trailing ones kept, as llhttp hands values to NIO")
        XCTAssertTrue(result.keepAlive)

        let closing = try XCTUnwrap(parsed("HTTP/1.0 404 Not Found\r\ncontent-length: 0\r\n\r\n"))
        XCTAssertEqual(closing.head.version, .http1_0)
        XCTAssertEqual(closing.head.status, .notFound)
        XCTAssertFalse(closing.keepAlive, "HTTP/1.0 without keep-alive closes")
    }

    /// Read from the bytes as llhttp reads it, and as NIO's head would tell; a `connection`
    /// value llhttp reads its own way is left to it.
    func testKeepAliveIsReadFromTheConnectionField() throws {
        let cases: [(String, Bool)] = [
            ("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", true),
            ("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nConnection: TE, CLOSE\r\n\r\n", false),
            ("HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: x-close\r\n\r\n", true),
            ("HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n", false),
            ("HTTP/1.0 200 OK\r\ncontent-length: 0\r\nconnection: keep-alive\r\n\r\n", true),
            ("HTTP/1.0 200 OK\r\ncontent-length: 0\r\nconnection: te,keep-alive\r\n\r\n", true),
        ]
        for (text, keepAlive) in cases {
            let result = try XCTUnwrap(parsed(text))
            XCTAssertEqual(result.keepAlive, keepAlive, text.debugDescription)
            XCTAssertEqual(result.head.isKeepAlive, keepAlive, "NIO reads it alike: \(text.debugDescription)")
        }
    }

    func testResponsesWithoutContentHaveNoBody() throws {
        XCTAssertEqual(parsed("HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n", method: .HEAD)?.bodyLength, 0)
        XCTAssertEqual(parsed("HTTP/1.1 204 No Content\r\n\r\n")?.bodyLength, 0)
        XCTAssertEqual(parsed("HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n")?.bodyLength, 0)
    }

    func testEverythingElseGoesToTheDecoder() {
        let notSimple = [
            "HTTP/1.1 200 OK\r\ncontent-length: 3\r\n",                                  // head not whole
            "HTTP/1.1 200 OK\r\n\r\n",                                                    // body to the close
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 3\r\ntransfer-encoding: chunked\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 3\r\ncontent-length: 3\r\n\r\n",       // a second length
            "HTTP/1.1 200 OK\r\ncontent-length: 3, 3\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: +3\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: \r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 3\t\r\n\r\n",                       // llhttp refuses the tab
            "HTTP/1.1 200 OK\r\ncontent-length: 3 \r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nproxy-connection: close\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\t\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: keep-alive , close\r\n\r\n",
            "HTTP/1.0 200 OK\r\ncontent-length: 0\r\nconnection: keep-alive, close\r\n\r\n",
            "HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n",
            "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nx-folded: a\r\n b\r\n\r\n",        // obs-fold
            "HTTP/1.1 200 OK\ncontent-length: 0\r\n\r\n",                                 // bare LF
            "HTTP/1.1 200 OK\r\ncontent-length: 0\n\r\n",
            "HTTP/1.1 200 OK\r\nbad name: x\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\n: x\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nx-nul: a\u{0}b\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\nx-cr: a\rb\r\ncontent-length: 0\r\n\r\n",
            "HTTP/2.0 200 OK\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 20 OK\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 600 Odd\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 200\r\ncontent-length: 0\r\n\r\n",                                 // no SP after the code
            "hello",
        ]
        for text in notSimple {
            if case .parsed = parse(text) { XCTFail("parsed: \(text.debugDescription)") }
        }
    }

    func testTheAnswerToAConnectGoesToTheDecoder() {
        guard case .notSimple = parse("HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello", method: .CONNECT) else {
            return XCTFail("a 2xx to CONNECT starts a tunnel, not a body")
        }
    }

    func testAHeadPastTheLimitGoesToTheDecoder() {
        let big = "HTTP/1.1 200 OK\r\nx-big: \(String(repeating: "a", count: UpstreamResponseHeadParser.maxHeadBytes))\r\ncontent-length: 0\r\n\r\n"
        guard case .notSimple = parse(big) else { return XCTFail("a head over the limit was parsed") }
    }
}
