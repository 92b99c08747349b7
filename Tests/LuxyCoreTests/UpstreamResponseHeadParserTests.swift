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

    /// Read for the fast path, the hop-by-hop fields are left out as the bytes are read, and
    /// what comes out is what the strip makes of the whole head: for every head here, with
    /// the strip run again only where the parse says fields were left for it.
    func testHopByHopFieldsLeftOutAsReadEqualTheStrippedHead() throws {
        let heads = [
            "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Length: 0\r\nConnection: keep-alive\r\n\r\n",
            "HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\ncontent-length: 0\r\nConnection: close\r\nx-a: 1\r\n\r\n",
            "HTTP/1.0 200 OK\r\ncontent-length: 0\r\nconnection: keep-alive, upgrade\r\nUpgrade: h2c\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTrailer: x-t\r\nProxy-Authenticate: Basic\r\nHTTP2-Settings: AAA\r\ncontent-length: 0\r\n\r\n",
            // Only the strip knows these: `te` (its `trailers` travels on) and a `connection`
            // naming another field, which may come before it.
            "HTTP/1.1 200 OK\r\nx-secret: 1\r\nConnection: keep-alive, X-Secret\r\ncontent-length: 0\r\nx-b: 2\r\n\r\n",
            "HTTP/1.1 200 OK\r\nTE: trailers, deflate\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nx-a: 1\r\n\r\n",
        ]
        for text in heads {
            var whole = try XCTUnwrap(parsed(text)).head.headers
            HopByHopHeaders.strip(&whole)
            guard case .parsed(var read) = UpstreamResponseHeadParser.parse(ByteBuffer(string: text), respondingTo: .GET,
                                                                           droppingHopByHop: true)
            else { return XCTFail("not parsed: \(text.debugDescription)") }
            if read.hopByHopLeft { HopByHopHeaders.strip(&read.head.headers) }
            XCTAssertEqual(read.head.headers.map { "\($0.name)=\($0.value)" }, whole.map { "\($0.name)=\($0.value)" },
                           text.debugDescription)
            XCTAssertEqual(read.keepAlive, try XCTUnwrap(parsed(text)).keepAlive, text.debugDescription)
        }
        let common = try XCTUnwrap(UpstreamResponseHeadParser.parse(
            ByteBuffer(string: heads[0]), respondingTo: .GET, droppingHopByHop: true).parsedHead)
        XCTAssertFalse(common.hopByHopLeft, "the usual `connection: keep-alive` needs no strip")
        XCTAssertEqual(common.head.headers.map(\.name), ["Server", "Content-Length"])
        let named = try XCTUnwrap(UpstreamResponseHeadParser.parse(
            ByteBuffer(string: heads[4]), respondingTo: .GET, droppingHopByHop: true).parsedHead)
        XCTAssertTrue(named.hopByHopLeft, "a connection option naming a field is left for the strip")
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

private extension UpstreamResponseHeadParser.Outcome {
    var parsedHead: UpstreamResponseHeadParser.ParsedHead? {
        guard case .parsed(let head) = self else { return nil }
        return head
    }
}
