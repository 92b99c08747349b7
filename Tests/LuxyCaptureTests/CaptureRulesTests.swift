import LuxyCapture
import XCTest

/// The rules `luxy iptables` prints and applies, as text: the chain layout of istio-iptables.
final class CaptureRulesTests: XCTestCase {
    func testDefaultRulesCaptureAllTCPButTheProxysOwn() {
        let rules = CaptureRules(options: CaptureOptions())
        XCTAssertEqual(rules.restoreInput(ipv6: false), """
            *nat
            :LUXY_INBOUND - [0:0]
            :LUXY_REDIRECT - [0:0]
            :LUXY_IN_REDIRECT - [0:0]
            :LUXY_OUTPUT - [0:0]
            -A LUXY_INBOUND -p tcp -j LUXY_IN_REDIRECT
            -A LUXY_REDIRECT -p tcp -j REDIRECT --to-ports 15001
            -A LUXY_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006
            -A LUXY_OUTPUT -o lo -m owner ! --uid-owner 1337 -j RETURN
            -A LUXY_OUTPUT -m owner --uid-owner 1337 -j RETURN
            -A LUXY_OUTPUT -o lo -m owner ! --gid-owner 1337 -j RETURN
            -A LUXY_OUTPUT -m owner --gid-owner 1337 -j RETURN
            -A LUXY_OUTPUT -d 127.0.0.1/32 -j RETURN
            -A LUXY_OUTPUT -j LUXY_REDIRECT
            -A PREROUTING -p tcp -j LUXY_INBOUND
            -A OUTPUT -p tcp -j LUXY_OUTPUT
            COMMIT

            """)
    }

    func testExclusionsAndIncludedBlocksPerFamily() throws {
        var options = CaptureOptions()
        options.inboundPort = 16006
        options.outboundPort = 16001
        options.proxyUID = 2000
        options.proxyGID = 2001
        options.excludeInboundPorts = [22, 15090]
        options.excludeOutboundPorts = [5432]
        options.excludeOutboundCIDRs = [try XCTUnwrap(CaptureCIDR("169.254.169.254")), try XCTUnwrap(CaptureCIDR("fd00::/8"))]
        options.includeOutboundCIDRs = [try XCTUnwrap(CaptureCIDR("10.0.0.0/8")), try XCTUnwrap(CaptureCIDR("fc00::/7"))]
        let rules = CaptureRules(options: options)
        XCTAssertEqual(rules.restoreInput(ipv6: false), """
            *nat
            :LUXY_INBOUND - [0:0]
            :LUXY_REDIRECT - [0:0]
            :LUXY_IN_REDIRECT - [0:0]
            :LUXY_OUTPUT - [0:0]
            -A LUXY_INBOUND -p tcp --dport 22 -j RETURN
            -A LUXY_INBOUND -p tcp --dport 15090 -j RETURN
            -A LUXY_INBOUND -p tcp -j LUXY_IN_REDIRECT
            -A LUXY_REDIRECT -p tcp -j REDIRECT --to-ports 16001
            -A LUXY_IN_REDIRECT -p tcp -j REDIRECT --to-ports 16006
            -A LUXY_OUTPUT -p tcp --dport 5432 -j RETURN
            -A LUXY_OUTPUT -o lo -m owner ! --uid-owner 2000 -j RETURN
            -A LUXY_OUTPUT -m owner --uid-owner 2000 -j RETURN
            -A LUXY_OUTPUT -o lo -m owner ! --gid-owner 2001 -j RETURN
            -A LUXY_OUTPUT -m owner --gid-owner 2001 -j RETURN
            -A LUXY_OUTPUT -d 127.0.0.1/32 -j RETURN
            -A LUXY_OUTPUT -d 169.254.169.254/32 -j RETURN
            -A LUXY_OUTPUT -d 10.0.0.0/8 -j LUXY_REDIRECT
            -A PREROUTING -p tcp -j LUXY_INBOUND
            -A OUTPUT -p tcp -j LUXY_OUTPUT
            COMMIT

            """)
        let ipv6 = rules.restoreInput(ipv6: true)
        XCTAssertTrue(ipv6.contains("-A LUXY_OUTPUT -d ::1/128 -j RETURN\n"))
        XCTAssertTrue(ipv6.contains("-A LUXY_OUTPUT -d fd00::/8 -j RETURN\n"))
        XCTAssertTrue(ipv6.contains("-A LUXY_OUTPUT -d fc00::/7 -j LUXY_REDIRECT\n"))
        XCTAssertFalse(ipv6.contains("10.0.0.0/8"), "an IPv4 block has no place in the IPv6 rules")
    }

    func testCIDRParsing() {
        XCTAssertEqual(CaptureCIDR("10.1.2.3")?.description, "10.1.2.3/32")
        XCTAssertEqual(CaptureCIDR("10.0.0.0/8")?.description, "10.0.0.0/8")
        XCTAssertEqual(CaptureCIDR("fd00::/8")?.description, "fd00::/8")
        XCTAssertNil(CaptureCIDR("10.0.0.0/33"))
        XCTAssertNil(CaptureCIDR("10.0.0/8"))
        XCTAssertNil(CaptureCIDR("256.0.0.1"))
        XCTAssertNil(CaptureCIDR("example.com"))
        XCTAssertNil(CaptureCIDR("10.0.0.0/8/1"))
    }
}

/// What `luxy iptables --apply` says where the tools are missing (an image without iptables).
final class CaptureTablesTests: XCTestCase {
    func testMissingIptablesIsAClearError() {
        XCTAssertThrowsError(try CaptureTables(family: .ipv4, environment: ["PATH": "/nonexistent"])) { error in
            XCTAssertEqual("\(error)",
                           "iptables not found on PATH: install the iptables package (Debian: apt-get install iptables)")
        }
    }
}
