import Foundation
import LuxyTestSupport
import NIOCore
import NIOPosix
import XCTest

/// Transparent capture for real: two network namespaces of the test's own joined by a veth
/// pair, the capture rules installed by `luxy iptables --apply` in the "pod" one, Luxy there
/// as the excluded UID 1337, and unmodified clients (curl) on either side. The remote
/// service and the pod's application are `luxy` processes answering with `echo`, which
/// shows the request as it arrived: the header a plugin added on the way is there only if the
/// connection went through Luxy's chain.
///
/// Needs root and `ip netns` (iproute2) and iptables (scripts/install-deps installs both);
/// skipped with the reason where the machine has not got them.
final class TransparentCaptureTests: XCTestCase {
    private var group: MultiThreadedEventLoopGroup!
    private var lab: NamespaceLab?
    private var children: [LuxyChildProcess] = []

    override func setUp() async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    override func tearDown() async throws {
        for child in children { child.remove() }
        children = []
        // Deleting the namespaces takes their veth ends and rules with them, pass or fail.
        await lab?.remove()
        lab = nil
        try await group.shutdownGracefully()
    }

    static let podAddress = "10.77.0.1"
    static let remoteAddress = "10.77.0.2"
    static let podAddress6 = "fd77::1"
    static let remoteAddress6 = "fd77::2"
    static let proxyUID = 1337

    /// The namespaces, the remote service on 9000, the pod's application on 8080 and the
    /// sidecar (`sidecar` config) in the pod as UID 1337; the rules not yet applied.
    private func startPod(sidecar: String, plugins: [String: String]) async throws -> LuxyChildProcess {
        let lab = try await NamespaceLab.make()
        self.lab = lab
        let setpriv = try ExternalTool.find("setpriv")
        _ = try await start(echoServer(port: 9000), in: lab.remote)
        _ = try await start(echoServer(port: 8080), in: lab.pod)
        return try await start(sidecar, plugins: plugins, in: lab.pod,
                               as: [setpriv.path, "--reuid=\(Self.proxyUID)", "--regid=\(Self.proxyUID)", "--clear-groups"])
    }

    private static let applyArguments = [
        "iptables", "--apply", "--proxy-uid", "\(proxyUID)", "--proxy-gid", "\(proxyUID)",
        "--inbound-port", "15006", "--outbound-port", "15001",
    ]

    /// `curl` run in `namespace`, never through a proxy from the environment.
    private func curl(in namespace: String, _ url: String) async throws -> ExternalTool.Output {
        let curl = try ExternalTool.find("curl")
        return try await XCTUnwrap(lab).run(in: namespace, [curl.path, "-sSg", "--noproxy", "*", "--max-time", "10", url])
    }

    func testOutboundAndInboundTrafficIsCapturedAndCleanRemovesTheRules() async throws {
        _ = try ExternalTool.find("iptables-save")
        let sidecar = try await startPod(sidecar: sidecarConfig(), plugins: Self.markPlugins)
        let lab = try XCTUnwrap(self.lab)

        // Someone else's rule in a chain Luxy jumps from: it must survive apply and clean.
        let foreign = try await lab.run(in: lab.pod, ["iptables", "-t", "nat", "-A", "OUTPUT", "-p", "udp",
                                                      "--dport", "5353", "-j", "RETURN"])
        XCTAssertEqual(foreign.status, 0, foreign.stderr)
        let apply = Self.applyArguments
        let applied = try await lab.run(in: lab.pod, [BuiltLuxyBinary.path] + apply)
        XCTAssertEqual(applied.status, 0, applied.stderr)
        let firstRules = try await lab.natRules(in: lab.pod)
        XCTAssertTrue(firstRules.contains("-A LUXY_OUTPUT -m owner --uid-owner 1337 -j RETURN"), firstRules)
        XCTAssertTrue(firstRules.contains("-A LUXY_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006"), firstRules)
        // Applying again leaves the same rules: no second jump from PREROUTING or OUTPUT.
        let again = try await lab.run(in: lab.pod, [BuiltLuxyBinary.path] + apply)
        XCTAssertEqual(again.status, 0, again.stderr)
        let secondRules = try await lab.natRules(in: lab.pod)
        XCTAssertEqual(secondRules, firstRules)
        XCTAssertEqual(secondRules.components(separatedBy: "-A OUTPUT -p tcp -j LUXY_OUTPUT").count - 1, 1, secondRules)

        // Outbound: an unmodified client in the pod dials the remote service's own address.
        let outbound = try await curl(in: lab.pod, "http://\(Self.remoteAddress):9000/outbound")
        XCTAssertEqual(outbound.status, 0, outbound.stderr + sidecar.logText)
        XCTAssertTrue(outbound.stdout.contains(#""x-luxy-chain":"outbound""#), outbound.stdout)
        // Lua saw the original destination as the downstream local address.
        XCTAssertTrue(outbound.stdout.contains(#""x-original-destination":"\#(Self.remoteAddress):9000""#),
                      outbound.stdout)

        // Inbound: a client outside the pod dials the application's port; Luxy's inbound chain
        // runs and Luxy hands the request to the application at its original destination.
        let inbound = try await curl(in: lab.remote, "http://\(Self.podAddress):8080/inbound")
        XCTAssertEqual(inbound.status, 0, inbound.stderr + sidecar.logText)
        XCTAssertTrue(inbound.stdout.contains(#""x-luxy-chain":"inbound""#), inbound.stdout)
        XCTAssertTrue(inbound.stdout.contains(#""x-original-destination":"\#(Self.podAddress):8080""#),
                      inbound.stdout)

        // Clean: Luxy's chains and jumps are gone, the table is as before.
        let cleaned = try await lab.run(in: lab.pod, [BuiltLuxyBinary.path, "iptables", "--clean"])
        XCTAssertEqual(cleaned.status, 0, cleaned.stderr)
        let after = try await lab.natRules(in: lab.pod)
        XCTAssertFalse(after.contains("LUXY"), after)
        XCTAssertTrue(after.contains("-A OUTPUT -p udp -m udp --dport 5353 -j RETURN"), after)

        // Without the rules the same client reaches the service directly: no plugin header.
        let direct = try await curl(in: lab.pod, "http://\(Self.remoteAddress):9000/direct")
        XCTAssertEqual(direct.status, 0, direct.stderr)
        XCTAssertFalse(direct.stdout.contains("x-luxy-chain"), direct.stdout)
    }

    /// The same capture with tcp listeners: the bytes pass Luxy's tcp chains, whose plugin
    /// sees the original destination as `conn:destinationAddress()` and writes it into the
    /// request line, and the passthrough cluster connects to it.
    func testTCPListenersCaptureBothWaysToTheOriginalDestination() async throws {
        _ = try await startPod(sidecar: sidecarConfig(protocol: "tcp"), plugins: Self.tcpMarkPlugins)
        let lab = try XCTUnwrap(self.lab)
        let applied = try await lab.run(in: lab.pod, [BuiltLuxyBinary.path] + Self.applyArguments)
        XCTAssertEqual(applied.status, 0, applied.stderr)

        let outbound = try await curl(in: lab.pod, "http://\(Self.remoteAddress):9000/tcp")
        XCTAssertEqual(outbound.status, 0, outbound.stderr)
        XCTAssertTrue(outbound.stdout.contains(#""path":"/tcp-outbound-\#(Self.remoteAddress):9000""#), outbound.stdout)
        let inbound = try await curl(in: lab.remote, "http://\(Self.podAddress):8080/tcp")
        XCTAssertEqual(inbound.status, 0, inbound.stderr)
        XCTAssertTrue(inbound.stdout.contains(#""path":"/tcp-inbound-\#(Self.podAddress):8080""#), inbound.stdout)

        let cleaned = try await lab.run(in: lab.pod, [BuiltLuxyBinary.path, "iptables", "--clean"])
        XCTAssertEqual(cleaned.status, 0, cleaned.stderr)
    }

    /// IPv6: the rules written by `--ipv6` with ip6tables, and the original destination read
    /// with `IP6T_SO_ORIGINAL_DST` by listeners on `[::]`.
    func testIPv6TrafficIsCapturedBothWays() async throws {
        let sidecar = try await startPod(sidecar: sidecarConfig(anyAddress: "[::]"), plugins: Self.markPlugins)
        let lab = try XCTUnwrap(self.lab)
        let applied = try await lab.run(in: lab.pod, [BuiltLuxyBinary.path] + Self.applyArguments + ["--ipv6"])
        XCTAssertEqual(applied.status, 0, applied.stderr)

        let outbound = try await curl(in: lab.pod, "http://[\(Self.remoteAddress6)]:9000/outbound")
        XCTAssertEqual(outbound.status, 0, outbound.stderr + sidecar.logText)
        XCTAssertTrue(outbound.stdout.contains(#""x-luxy-chain":"outbound""#), outbound.stdout)
        XCTAssertTrue(outbound.stdout.contains(#""x-original-destination":"[\#(Self.remoteAddress6)]:9000""#),
                      outbound.stdout)
        let inbound = try await curl(in: lab.remote, "http://[\(Self.podAddress6)]:8080/inbound")
        XCTAssertEqual(inbound.status, 0, inbound.stderr + sidecar.logText)
        XCTAssertTrue(inbound.stdout.contains(#""x-luxy-chain":"inbound""#), inbound.stdout)
        XCTAssertTrue(inbound.stdout.contains(#""x-original-destination":"[\#(Self.podAddress6)]:8080""#),
                      inbound.stdout)
        // IPv4 reaches the same dual-stack listeners as `::ffff:` mapped addresses; its
        // original destination is still found (in the IPv4 NAT table).
        let mapped = try await curl(in: lab.pod, "http://\(Self.remoteAddress):9000/outbound")
        XCTAssertEqual(mapped.status, 0, mapped.stderr + sidecar.logText)
        XCTAssertTrue(mapped.stdout.contains(#""x-original-destination":"\#(Self.remoteAddress):9000""#),
                      mapped.stdout)

        let cleaned = try await lab.run(in: lab.pod, [BuiltLuxyBinary.path, "iptables", "--clean", "--ipv6"])
        XCTAssertEqual(cleaned.status, 0, cleaned.stderr)
        let after = try await lab.run(in: lab.pod, ["ip6tables-save", "-t", "nat"])
        XCTAssertFalse(after.stdout.contains("LUXY"), after.stdout)
    }

    // MARK: Processes

    private func start(_ yaml: String, plugins: [String: String] = [:], in namespace: String,
                       as user: [String] = []) async throws -> LuxyChildProcess {
        let ip = try ExternalTool.find("ip")
        let child = try await LuxyChildProcess(yaml: yaml, plugins: plugins,
                                               launcher: [ip.path, "netns", "exec", namespace] + user, group: group)
        children.append(child)
        let running = await waitUntil(timeout: .seconds(20), interval: .milliseconds(20)) {
            child.logText.contains("luxy running") || !child.process.isRunning
        }
        XCTAssertTrue(running && child.process.isRunning, "luxy did not start in \(namespace): \(child.logText)")
        guard running, child.process.isRunning else { throw XCTSkip("luxy did not start: \(child.logText)") }
        return child
    }

    private func echoServer(port: Int) -> String {
        """
        workers: 1
        listeners:
          - name: service
            direction: inbound
            protocol: http
            address: "[::]:\(port)"
            virtual_hosts:
              - domains: ["*"]
                routes:
                  - { name: echo, match: { prefix: / }, echo: true }
        """
    }

    /// Istio's two capture listeners: both restore the original destination and send the
    /// request there through the passthrough cluster.
    /// `anyAddress`: `0.0.0.0` for IPv4 capture, `[::]` for IPv6.
    private func sidecarConfig(protocol proto: String = "http", anyAddress: String = "0.0.0.0") -> String {
        let routing = proto == "http" ? """
                virtual_hosts:
                  - domains: ["*"]
                    routes:
                      - { name: passthrough, match: { prefix: / }, cluster: passthrough }
            """ : "    cluster: passthrough"
        return """
        workers: 1
        modules_dir: {{modules}}
        listeners:
          - name: outbound
            direction: outbound
            protocol: \(proto)
            address: "\(anyAddress):15001"
            original_destination: true
        \(routing)
          - name: inbound
            direction: inbound
            protocol: \(proto)
            address: "\(anyAddress):15006"
            original_destination: true
        \(routing)
        clusters:
          - name: passthrough
            type: original_destination
            connect_timeout: 2s
        chains:
          outbound-\(proto):
            - { name: outbound-mark, priority: 1 }
          inbound-\(proto):
            - { name: inbound-mark, priority: 1 }
        """
    }

    /// Rewrites `/tcp` in the request line to `/tcp-<direction>-<original destination>`.
    private static let tcpMarkPlugins = [
        "outbound-mark": """
            function on_downstream_data(conn, data)
              return (data:gsub("^GET /tcp ", "GET /tcp-outbound-" .. conn:destinationAddress() .. " "))
            end
            """,
        "inbound-mark": """
            function on_downstream_data(conn, data)
              return (data:gsub("^GET /tcp ", "GET /tcp-inbound-" .. conn:destinationAddress() .. " "))
            end
            """,
    ]

    private static let markPlugins = [
        "outbound-mark": """
            function envoy_on_request(h)
              h:headers():add('x-luxy-chain', 'outbound')
              h:headers():add('x-original-destination', h:streamInfo():downstreamLocalAddress())
            end
            """,
        "inbound-mark": """
            function envoy_on_request(h)
              h:headers():add('x-luxy-chain', 'inbound')
              h:headers():add('x-original-destination', h:streamInfo():downstreamLocalAddress())
            end
            """,
    ]
}
