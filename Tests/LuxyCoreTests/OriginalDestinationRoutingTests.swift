import Glibc
import LuxyConfig
@testable import LuxyCore
import NIOCore
import NIOHTTP1
import XCTest

/// Virtual hosts matched by a connection's original destination, and the socket addresses the
/// kernel hands back for `SO_ORIGINAL_DST` / `IP6T_SO_ORIGINAL_DST`.
final class OriginalDestinationRoutingTests: XCTestCase {
    private static let here = SourceLocation(file: "/test/luxy.yaml", line: 1, column: 1)

    private func vhost(_ name: String, _ domains: [String] = ["*"], destination: OriginalDestinationMatch? = nil)
        -> VirtualHostConfiguration {
        let route = RouteConfiguration(name: name, match: RouteMatchConfiguration(path: .prefix("/"), headers: [], methods: []),
                                       action: .cluster(name), service: nil, metadata: .map([]), location: Self.here)
        var host = VirtualHostConfiguration(name: name, domains: domains, routes: [route])
        host.originalDestination = destination
        return host
    }

    private func router() throws -> Router {
        try Router(listener: ListenerConfiguration(name: "outbound", direction: .outbound, proto: .http,
                                                   host: "0.0.0.0", port: 15001, virtualHosts: [
            vhost("any"),
            vhost("port-9080", destination: OriginalDestinationMatch(host: nil, port: 9080)),
            vhost("reviews-9080", ["reviews"], destination: OriginalDestinationMatch(host: nil, port: 9080)),
            vhost("address", destination: OriginalDestinationMatch(host: "10.0.0.5", port: 9080)),
        ], location: Self.here))
    }

    private func host(_ router: Router, _ hostHeader: String, _ destination: SocketAddress?) -> String? {
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: ["host": hostHeader])
        return router.route(head, originalDestination: destination)?.virtualHostName
    }

    func testTheMostSpecificDestinationWinsThenTheDomain() throws {
        let router = try router()
        XCTAssertEqual(host(router, "x", try SocketAddress(ipAddress: "10.0.0.5", port: 9080)), "address")
        XCTAssertEqual(host(router, "x", try SocketAddress(ipAddress: "10.0.0.6", port: 9080)), "port-9080")
        XCTAssertEqual(host(router, "reviews:9080", try SocketAddress(ipAddress: "10.0.0.6", port: 9080)), "reviews-9080")
        XCTAssertEqual(host(router, "x", try SocketAddress(ipAddress: "10.0.0.5", port: 80)), "any")
    }

    func testWithoutAnOriginalDestinationHostsWithAConditionAreNeverChosen() throws {
        XCTAssertEqual(host(try router(), "reviews", nil), "any")
    }

    func testParsesTheIPv4AddressTheKernelWrites() throws {
        var v4 = sockaddr_in()
        v4.sin_family = sa_family_t(AF_INET)
        v4.sin_port = in_port_t(UInt16(9080).bigEndian)
        v4.sin_addr.s_addr = inet_addr("10.0.0.5")
        // The kernel writes a sockaddr_in into the larger buffer it was given.
        var storage = sockaddr_in6()
        withUnsafeMutableBytes(of: &storage) { raw in
            withUnsafeBytes(of: &v4) { raw.copyMemory(from: $0) }
        }
        let address = try XCTUnwrap(OriginalDestination.parse(storage))
        XCTAssertEqual(address.ipAddress, "10.0.0.5")
        XCTAssertEqual(address.port, 9080)
    }

    func testParsesTheIPv6AddressTheKernelWrites() throws {
        var v6 = sockaddr_in6()
        v6.sin6_family = sa_family_t(AF_INET6)
        v6.sin6_port = in_port_t(UInt16(8443).bigEndian)
        XCTAssertEqual(inet_pton(AF_INET6, "fd00::5", &v6.sin6_addr), 1)
        let address = try XCTUnwrap(OriginalDestination.parse(v6))
        XCTAssertEqual(address.ipAddress, "fd00::5")
        XCTAssertEqual(address.port, 8443)
    }

    func testIPv4MappedAddressesAreToldApart() throws {
        XCTAssertTrue(OriginalDestination.isIPv4Mapped(try SocketAddress(ipAddress: "::ffff:10.0.0.5", port: 80)))
        XCTAssertFalse(OriginalDestination.isIPv4Mapped(try SocketAddress(ipAddress: "fd00::5", port: 80)))
        XCTAssertFalse(OriginalDestination.isIPv4Mapped(try SocketAddress(ipAddress: "10.0.0.5", port: 80)))
    }

    func testAnUnknownFamilyIsNoAddress() {
        var other = sockaddr_in6()
        other.sin6_family = sa_family_t(AF_UNIX)
        XCTAssertNil(OriginalDestination.parse(other))
    }

    func testTheProxysOwnPortsOnLocalAddressesAreALoop() throws {
        var own = ProxyOwnAddresses(ports: [15001, 15006], hosts: ["10.0.0.9"])
        let direct = try SocketAddress(ipAddress: "127.0.0.1", port: 15001)
        XCTAssertTrue(own.contains(try SocketAddress(ipAddress: "10.0.0.9", port: 15006), direct: direct))
        XCTAssertTrue(own.contains(try SocketAddress(ipAddress: "127.0.0.1", port: 15001), direct: direct))
        XCTAssertFalse(own.contains(try SocketAddress(ipAddress: "10.0.0.9", port: 8080), direct: direct))
        XCTAssertFalse(own.contains(try SocketAddress(ipAddress: "10.0.0.7", port: 15001), direct: direct),
                       "another host's port 15001 is not this proxy")
        // A listener on port 0 is this proxy too when it is exactly where the connection arrived.
        own = ProxyOwnAddresses(ports: [], hosts: [])
        let arrived = try SocketAddress(ipAddress: "127.0.0.1", port: 40123)
        XCTAssertTrue(own.contains(arrived, direct: arrived))
    }
}
