import LuxyConfig
import LuxyCore
import NIOHTTP1
import XCTest

final class RouterTests: XCTestCase {
    private static let here = SourceLocation(file: "/test/luxy.yaml", line: 1, column: 1)

    private func route(_ name: String, _ path: RouteMatchConfiguration.Path, methods: [String] = [],
                       headers: [RouteMatchConfiguration.Header] = [],
                       action: RouteAction? = nil, service: String? = nil) -> RouteConfiguration {
        RouteConfiguration(name: name, match: RouteMatchConfiguration(path: path, headers: headers, methods: methods),
                           action: action ?? .cluster(name), service: service, metadata: .map([]),
                           location: Self.here)
    }

    private func vhost(_ name: String, _ domains: [String], _ routes: [RouteConfiguration]) -> VirtualHostConfiguration {
        VirtualHostConfiguration(name: name, domains: domains, routes: routes)
    }

    private func router(_ vhosts: [VirtualHostConfiguration]) throws -> Router {
        try Router(listener: ListenerConfiguration(name: "inbound", direction: .inbound, proto: .http,
                                                   host: "127.0.0.1", port: 0, virtualHosts: vhosts,
                                                   location: Self.here))
    }

    private func head(_ method: HTTPMethod = .GET, _ uri: String, host: String? = "example.com",
                      headers: [(String, String)] = []) -> HTTPRequestHead {
        var fields = HTTPHeaders(headers)
        if let host { fields.add(name: "host", value: host) }
        return HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: fields)
    }

    // MARK: Domains

    private func domainRouter() throws -> Router {
        try router([
            vhost("catch-all", ["*"], [route("any", .prefix("/"))]),
            vhost("suffix", ["*.example.com"], [route("sfx", .prefix("/"))]),
            vhost("longer-suffix", ["*.api.example.com"], [route("longer", .prefix("/"))]),
            vhost("exact", ["api.example.com", "Other.Example.org"], [route("ex", .prefix("/"))]),
        ])
    }

    func testExactDomainBeatsSuffixBeatsCatchAll() throws {
        let router = try domainRouter()
        XCTAssertEqual(router.route(head(.GET, "/", host: "api.example.com"))?.virtualHostName, "exact")
        XCTAssertEqual(router.route(head(.GET, "/", host: "www.example.com"))?.virtualHostName, "suffix")
        XCTAssertEqual(router.route(head(.GET, "/", host: "v1.api.example.com"))?.virtualHostName, "longer-suffix",
                       "the longest matching suffix wins")
        XCTAssertEqual(router.route(head(.GET, "/", host: "example.net"))?.virtualHostName, "catch-all")
        XCTAssertEqual(router.route(head(.GET, "/", host: nil))?.virtualHostName, "catch-all")
    }

    func testSuffixNeedsSomethingBeforeIt() throws {
        let router = try domainRouter()
        // "*.example.com" needs a label in front: "example.com" itself is not in it.
        XCTAssertEqual(router.route(head(.GET, "/", host: "example.com"))?.virtualHostName, "catch-all")
    }

    func testHostPortIsStrippedAndMatchIsCaseInsensitive() throws {
        let router = try domainRouter()
        XCTAssertEqual(router.route(head(.GET, "/", host: "api.example.com:8080"))?.virtualHostName, "exact")
        XCTAssertEqual(router.route(head(.GET, "/", host: "API.Example.COM"))?.virtualHostName, "exact")
        XCTAssertEqual(router.route(head(.GET, "/", host: "other.example.org:443"))?.virtualHostName, "exact",
                       "domains in the config are case-insensitive too")
        XCTAssertEqual(router.route(head(.GET, "/", host: "WWW.EXAMPLE.COM:80"))?.virtualHostName, "suffix")
    }

    func testIPv6HostWithPort() throws {
        let router = try router([
            vhost("v6", ["[::1]"], [route("v6", .prefix("/"))]),
            vhost("rest", ["*"], [route("rest", .prefix("/"))]),
        ])
        XCTAssertEqual(router.route(head(.GET, "/", host: "[::1]:8080"))?.virtualHostName, "v6")
        XCTAssertEqual(router.route(head(.GET, "/", host: "[::1]"))?.virtualHostName, "v6")
    }

    func testNoMatchingDomainIsNil() throws {
        let router = try router([vhost("only", ["api.example.com"], [route("r", .prefix("/"))])])
        XCTAssertNil(router.route(head(.GET, "/", host: "other.example.com")))
        XCTAssertNil(router.route(head(.GET, "/", host: nil)))
    }

    // MARK: Paths

    func testPrefixExactAndRegexPathsIgnoringQuery() throws {
        let router = try router([vhost("v", ["*"], [
            route("exact", .exact("/health")),
            route("regex", .regex("/v[0-9]+/items")),
            route("prefix", .prefix("/api")),
        ])])
        XCTAssertEqual(router.route(head(.GET, "/health"))?.routeName, "exact")
        XCTAssertEqual(router.route(head(.GET, "/health?verbose=1"))?.routeName, "exact", "the query is ignored")
        XCTAssertNil(router.route(head(.GET, "/health/x")), "exact means exact")
        XCTAssertNil(router.route(head(.GET, "/healthz")))
        XCTAssertEqual(router.route(head(.GET, "/v2/items"))?.routeName, "regex")
        XCTAssertEqual(router.route(head(.GET, "/v10/items?page=2"))?.routeName, "regex")
        XCTAssertNil(router.route(head(.GET, "/v2/items/7")), "a regex matches the whole path")
        XCTAssertNil(router.route(head(.GET, "/x/v2/items")), "a regex matches the whole path")
        XCTAssertEqual(router.route(head(.GET, "/api"))?.routeName, "prefix")
        XCTAssertEqual(router.route(head(.GET, "/api/books?id=1"))?.routeName, "prefix")
        XCTAssertEqual(router.route(head(.GET, "/apix"))?.routeName, "prefix", "a prefix is a string prefix")
        XCTAssertNil(router.route(head(.GET, "/other")))
        XCTAssertNil(router.route(head(.GET, "/ap?i")), "the query is not part of the path")
    }

    func testRegexWithItsOwnAnchors() throws {
        let router = try router([vhost("v", ["*"], [route("regex", .regex("^/v[0-9]+/.*$"))])])
        XCTAssertEqual(router.route(head(.GET, "/v1/anything?x=1"))?.routeName, "regex")
        XCTAssertNil(router.route(head(.GET, "/w1/anything")))
    }

    func testFirstMatchingRouteWinsWithinAVirtualHost() throws {
        let router = try router([vhost("v", ["*"], [
            route("first", .prefix("/a")),
            route("second", .prefix("/a/b")),
        ])])
        XCTAssertEqual(router.route(head(.GET, "/a/b/c"))?.routeName, "first")
    }

    // MARK: Methods and headers

    func testMethodMatch() throws {
        let router = try router([vhost("v", ["*"], [
            route("writes", .prefix("/"), methods: ["POST", "PUT"]),
            route("fallback", .prefix("/")),
        ])])
        XCTAssertEqual(router.route(head(.POST, "/x"))?.routeName, "writes")
        XCTAssertEqual(router.route(head(.PUT, "/x"))?.routeName, "writes")
        XCTAssertEqual(router.route(head(.GET, "/x"))?.routeName, "fallback")
        XCTAssertEqual(router.route(head(.DELETE, "/x"))?.routeName, "fallback")
    }

    func testHeaderMatches() throws {
        typealias H = RouteMatchConfiguration.Header
        let router = try router([vhost("v", ["*"], [
            route("exact", .prefix("/"), headers: [H(name: "x-tenant", rule: .exact("blue"))]),
            route("prefix", .prefix("/"), headers: [H(name: "x-tenant", rule: .prefix("gr"))]),
            route("regex", .prefix("/"), headers: [H(name: "x-version", rule: .regex("v[0-9]+"))]),
            route("present", .prefix("/"), headers: [H(name: "x-debug", rule: .present(true))]),
            route("absent", .prefix("/"), headers: [H(name: "x-skip", rule: .present(false))]),
        ])])
        XCTAssertEqual(router.route(head(.GET, "/", headers: [("x-tenant", "blue")]))?.routeName, "exact")
        XCTAssertEqual(router.route(head(.GET, "/", headers: [("X-Tenant", "blue")]))?.routeName, "exact",
                       "header names are case-insensitive")
        XCTAssertEqual(router.route(head(.GET, "/", headers: [("x-tenant", "green"), ("x-skip", "1")]))?.routeName,
                       "prefix")
        XCTAssertEqual(router.route(head(.GET, "/", headers: [("x-tenant", "blueish"), ("x-skip", "1")]))?.routeName,
                       nil, "exact is not a prefix; nothing else matches")
        XCTAssertEqual(router.route(head(.GET, "/", headers: [("x-version", "v12"), ("x-skip", "1")]))?.routeName,
                       "regex")
        XCTAssertEqual(router.route(head(.GET, "/", headers: [("x-version", "v12-beta"), ("x-skip", "1")]))?.routeName,
                       nil, "a header regex matches the whole value")
        XCTAssertEqual(router.route(head(.GET, "/", headers: [("x-debug", ""), ("x-skip", "1")]))?.routeName,
                       "present", "present matches even an empty value")
        XCTAssertEqual(router.route(head(.GET, "/"))?.routeName, "absent")
        XCTAssertNil(router.route(head(.GET, "/", headers: [("x-skip", "1")])))
    }

    func testAllHeaderRulesOfARouteMustHold() throws {
        typealias H = RouteMatchConfiguration.Header
        let router = try router([vhost("v", ["*"], [
            route("both", .prefix("/"), methods: ["GET"],
                  headers: [H(name: "a", rule: .exact("1")), H(name: "b", rule: .present(true))]),
        ])])
        XCTAssertEqual(router.route(head(.GET, "/", headers: [("a", "1"), ("b", "x")]))?.routeName, "both")
        XCTAssertNil(router.route(head(.GET, "/", headers: [("a", "1")])))
        XCTAssertNil(router.route(head(.GET, "/", headers: [("b", "x")])))
        XCTAssertNil(router.route(head(.POST, "/", headers: [("a", "1"), ("b", "x")])))
    }

    // MARK: Actions

    func testWeightedClustersPickOnlyListedClusters() throws {
        let router = try router([vhost("v", ["*"], [
            route("split", .prefix("/"), action: .weightedClusters([
                .init(name: "blue", weight: 80), .init(name: "green", weight: 20), .init(name: "never", weight: 0),
            ])),
        ])])
        var picks: [String: Int] = [:]
        for _ in 0..<2000 {
            let match = try XCTUnwrap(router.route(head(.GET, "/")))
            picks[match.clusterName ?? "nil", default: 0] += 1
        }
        XCTAssertEqual(Set(picks.keys), ["blue", "green"], "\(picks)")
        // 80/20 over 2000 picks: far outside any plausible random spread if the weights were ignored.
        XCTAssertGreaterThan(picks["blue"] ?? 0, 1400, "\(picks)")
        XCTAssertGreaterThan(picks["green"] ?? 0, 200, "\(picks)")
    }

    func testActionsAndRouteDetailsAreCarriedOver() throws {
        let router = try router([vhost("v", ["*"], [
            route("hello", .exact("/hello"), action: .directResponse(status: 201, body: "hi", contentType: nil)),
            route("echo", .prefix("/echo"), action: .echo),
            route("books", .prefix("/"), action: .cluster("backend"), service: "bookstore"),
        ])])
        let hello = try XCTUnwrap(router.route(head(.GET, "/hello")))
        XCTAssertEqual(hello.action, .directResponse(status: 201, body: "hi", contentType: nil))
        XCTAssertNil(hello.clusterName)
        XCTAssertNil(router.route(head(.GET, "/echo/1"))?.clusterName)
        let books = try XCTUnwrap(router.route(head(.GET, "/books")))
        XCTAssertEqual(books.clusterName, "backend")
        XCTAssertEqual(books.service, "bookstore")
        XCTAssertEqual(books.listenerName, "inbound")
        XCTAssertEqual(books.virtualHostName, "v")
        XCTAssertEqual(books.routeName, "books")
    }

    func testNoMatchingRouteIsNil() throws {
        let router = try router([vhost("v", ["*"], [route("api", .prefix("/api"), methods: ["GET"])])])
        XCTAssertNil(router.route(head(.GET, "/")))
        XCTAssertNil(router.route(head(.POST, "/api")))
        XCTAssertNotNil(router.route(head(.GET, "/api")))
    }

    func testInvalidRegexThrows() {
        XCTAssertThrowsError(try router([vhost("v", ["*"], [route("bad", .regex("(unclosed"))])]))
    }
}
