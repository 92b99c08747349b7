import XCTest

@testable import LuxyLua

/// Envoy's `streamInfo()` methods over what the host reports.
final class LuaStreamInfoTests: LuaTestCase {
    func testDirectAddressesAndRouteName() throws {
        host.streamInfo = LuaStreamInfo(
            protocolName: "HTTP/1.1", downstreamLocalAddress: "10.0.0.1:8080", downstreamRemoteAddress: "203.0.113.7:0",
            direction: "inbound", requestedServerName: "", downstreamDirectLocalAddress: "10.0.0.1:8080",
            downstreamDirectRemoteAddress: "10.0.0.2:5555", routeName: "items-route")
        try check("""
            local si = h:streamInfo()
            assert(si:downstreamDirectLocalAddress() == '10.0.0.1:8080', si:downstreamDirectLocalAddress())
            assert(si:downstreamDirectRemoteAddress() == '10.0.0.2:5555', si:downstreamDirectRemoteAddress())
            assert(si:downstreamRemoteAddress() == '203.0.113.7:0', si:downstreamRemoteAddress())
            assert(si:routeName() == 'items-route', si:routeName())
            assert(si:virtualClusterName() == '')
            assert(si:requestedServerName() == '')
            """)
    }

    func testDirectAddressesDefaultToTheConnectionsOwn() throws {
        // FakeHost's default stream info names only the connection's ends.
        try check("""
            local si = h:streamInfo()
            assert(si:downstreamDirectLocalAddress() == si:downstreamLocalAddress())
            assert(si:downstreamDirectRemoteAddress() == si:downstreamRemoteAddress())
            assert(si:routeName() == '')
            """)
    }
}
