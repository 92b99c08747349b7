import LuxyConfig
import NIOHTTP1
import XCTest
@testable import LuxyCore

/// The edge checks as pure functions: each rule with what it must refuse and what it must let
/// through (the integration suite, `HostileRequestTests`, sends them over sockets).
final class RequestHeadValidatorTests: XCTestCase {
    private func outcome(_ uri: String, method: HTTPMethod = .GET, version: HTTPVersion = .http1_1,
                         _ headers: [(String, String)] = [("host", "a")], isHTTP2: Bool = false,
                         limits: LimitsConfiguration = LimitsConfiguration()) -> (HTTPRequestHead, Int?) {
        var head = HTTPRequestHead(version: version, method: method, uri: uri, headers: HTTPHeaders(headers))
        let rejection = RequestHeadValidator(limits: limits).validate(&head, isHTTP2: isHTTP2)
        return (head, rejection.map { Int($0.status.code) })
    }

    func testOriginFormTargets() {
        XCTAssertNil(outcome("/").1)
        XCTAssertNil(outcome("/a/b?q=1&r=%zz").1, "a query's % is the application's")
        XCTAssertNil(outcome("/a%2Fb").1)
        XCTAssertNil(outcome("/{a}|\"b\"").1, "what nginx lets through, so do we")
        XCTAssertEqual(outcome("/a#b").1, 400)
        XCTAssertEqual(outcome("/a%2").1, 400)
        XCTAssertEqual(outcome("/a%g0").1, 400)
        XCTAssertEqual(outcome("/caf\u{e9}").1, 400)
        XCTAssertEqual(outcome("/a b").1, 400)
        XCTAssertEqual(outcome("a").1, 400)
        XCTAssertEqual(outcome("").1, 400)
    }

    func testAsteriskOnlyForOptions() {
        XCTAssertNil(outcome("*", method: .OPTIONS).1)
        XCTAssertEqual(outcome("*", method: .GET).1, 400)
        XCTAssertEqual(outcome("**", method: .OPTIONS).1, 400)
    }

    func testAbsoluteFormBecomesOriginFormWithItsAuthorityAsHost() {
        let (head, status) = outcome("HTTP://svc.local:8080?x=1", [("host", "other")])
        XCTAssertNil(status)
        XCTAssertEqual(head.uri, "/?x=1")
        XCTAssertEqual(head.headers["host"], ["svc.local:8080"])
        XCTAssertEqual(outcome("https://a/b").0.uri, "/b")
        XCTAssertEqual(outcome("ftp://a/b").1, 400)
        XCTAssertEqual(outcome("http://u@a/b").1, 400)
        XCTAssertEqual(outcome("http:///b").1, 400, "no authority")
    }

    func testAuthorities() {
        for valid in ["a", "a.example.com", "a:80", "a:", "10.0.0.1:443", "[::1]", "[::1]:8080", "x%41y", "a_b"] {
            XCTAssertTrue(RequestTargetSyntax.isValidAuthority(valid), valid)
        }
        for invalid in ["", ":80", "a b", "u@a", "a/b", "a:8x", "a:65536", "a:123456", "[::1", "[]", "[::1]x",
                        "a%4", "a\\b", "a?b"] {
            XCTAssertFalse(RequestTargetSyntax.isValidAuthority(invalid), invalid)
        }
    }

    func testHostRules() {
        XCTAssertEqual(outcome("/", []).1, 400)
        XCTAssertNil(outcome("/", version: .http1_0, []).1, "HTTP/1.0 predates Host")
        XCTAssertEqual(outcome("/", [("host", "a"), ("host", "a")]).1, 400)
        let (head, status) = outcome("/", [("host", "a"), ("host", "a")], isHTTP2: true)
        XCTAssertNil(status, ":authority and an equal host are one host")
        XCTAssertEqual(head.headers["host"], ["a"])
        XCTAssertEqual(outcome("/", [("host", "a"), ("host", "b")], isHTTP2: true).1, 400)
    }

    func testTransferCodings() {
        XCTAssertNil(outcome("/", method: .POST, [("host", "a"), ("transfer-encoding", "Chunked")]).1)
        XCTAssertEqual(outcome("/", method: .POST, [("host", "a"), ("transfer-encoding", "identity")]).1, 501)
        XCTAssertEqual(outcome("/", method: .POST, [("host", "a"), ("transfer-encoding", "gzip, chunked")]).1, 501)
    }

    func testUnderscoresDroppedByDefaultRejectedOrAllowedWhenConfigured() {
        let fields = [("host", "a"), ("x_a", "1"), ("x-b", "2"), ("X_A", "3")]
        let (dropped, status) = outcome("/", fields)
        XCTAssertNil(status)
        XCTAssertEqual(dropped.headers.map(\.name), ["host", "x-b"])
        var limits = LimitsConfiguration()
        limits.headersWithUnderscores = .reject
        XCTAssertEqual(outcome("/", fields, limits: limits).1, 400)
        limits.headersWithUnderscores = .allow
        XCTAssertEqual(outcome("/", fields, limits: limits).0.headers.count, 4)
    }

    func testCountRequestLineAndConnect() {
        var limits = LimitsConfiguration()
        limits.maxHeaderCount = 3
        XCTAssertNil(outcome("/", [("host", "a"), ("b", "1"), ("c", "1")], limits: limits).1)
        XCTAssertEqual(outcome("/", [("host", "a"), ("b", "1"), ("c", "1"), ("d", "1")], limits: limits).1, 431)
        limits.maxRequestLineBytes = 30
        // "GET /aaaaaaaaaaaaaaaa HTTP/1.1" is exactly 30 bytes.
        XCTAssertNil(outcome("/" + String(repeating: "a", count: 16), limits: limits).1)
        XCTAssertEqual(outcome("/" + String(repeating: "a", count: 17), limits: limits).1, 414)
        XCTAssertEqual(outcome("a:443", method: .CONNECT, [("host", "a:443")]).1, 405)
    }
}
