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
    static let proxyUID = 1337

    func testOutboundAndInboundTrafficIsCapturedAndCleanRemovesTheRules() async throws {
        let lab = try await NamespaceLab.make()
        self.lab = lab
        let curl = try ExternalTool.find("curl")
        _ = try ExternalTool.find("iptables-save")
        let setpriv = try ExternalTool.find("setpriv")

        // The remote service, and the pod's application on 8080: echo what arrives.
        let remote = try await start(echoServer(port: 9000), in: lab.remote)
        let app = try await start(echoServer(port: 8080), in: lab.pod)
        // The sidecar, as the UID the rules leave alone.
        let sidecar = try await start(sidecarConfig(), plugins: Self.markPlugins, in: lab.pod,
                                      as: [setpriv.path, "--reuid=\(Self.proxyUID)", "--regid=\(Self.proxyUID)",
                                           "--clear-groups"])
        _ = (remote, app, sidecar)

        // Someone else's rule in a chain Luxy jumps from: it must survive apply and clean.
        let foreign = try await lab.run(in: lab.pod, ["iptables", "-t", "nat", "-A", "OUTPUT", "-p", "udp",
                                                      "--dport", "5353", "-j", "RETURN"])
        XCTAssertEqual(foreign.status, 0, foreign.stderr)
        let apply = ["iptables", "--apply", "--proxy-uid", "\(Self.proxyUID)", "--proxy-gid", "\(Self.proxyUID)",
                     "--inbound-port", "15006", "--outbound-port", "15001"]
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
        let outbound = try await lab.run(in: lab.pod, [curl.path, "-sS", "--noproxy", "*", "--max-time", "10",
                                                      "http://\(Self.remoteAddress):9000/outbound"])
        XCTAssertEqual(outbound.status, 0, outbound.stderr + sidecar.logText)
        XCTAssertTrue(outbound.stdout.contains(#""x-luxy-chain":"outbound""#), outbound.stdout)
        // Lua saw the original destination as the downstream local address.
        XCTAssertTrue(outbound.stdout.contains(#""x-original-destination":"\#(Self.remoteAddress):9000""#),
                      outbound.stdout)

        // Inbound: a client outside the pod dials the application's port; Luxy's inbound chain
        // runs and Luxy hands the request to the application at its original destination.
        let inbound = try await lab.run(in: lab.remote, [curl.path, "-sS", "--noproxy", "*", "--max-time", "10",
                                                        "http://\(Self.podAddress):8080/inbound"])
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
        let direct = try await lab.run(in: lab.pod, [curl.path, "-sS", "--noproxy", "*", "--max-time", "10",
                                                    "http://\(Self.remoteAddress):9000/direct"])
        XCTAssertEqual(direct.status, 0, direct.stderr)
        XCTAssertFalse(direct.stdout.contains("x-luxy-chain"), direct.stdout)
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
            address: 0.0.0.0:\(port)
            virtual_hosts:
              - domains: ["*"]
                routes:
                  - { name: echo, match: { prefix: / }, echo: true }
        """
    }

    /// Istio's two capture listeners: both restore the original destination and send the
    /// request there through the passthrough cluster.
    private func sidecarConfig() -> String {
        """
        workers: 1
        modules_dir: {{modules}}
        listeners:
          - name: outbound
            direction: outbound
            protocol: http
            address: 0.0.0.0:15001
            original_destination: true
            virtual_hosts:
              - domains: ["*"]
                routes:
                  - { name: passthrough, match: { prefix: / }, cluster: passthrough }
          - name: inbound
            direction: inbound
            protocol: http
            address: 0.0.0.0:15006
            original_destination: true
            virtual_hosts:
              - domains: ["*"]
                routes:
                  - { name: passthrough, match: { prefix: / }, cluster: passthrough }
        clusters:
          - name: passthrough
            type: original_destination
            connect_timeout: 2s
        chains:
          outbound-http:
            - { name: outbound-mark, priority: 1 }
          inbound-http:
            - { name: inbound-mark, priority: 1 }
        """
    }

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

/// Two network namespaces of one test run ("pod" and "remote", unique names) joined by a veth
/// pair, 10.77.0.1 in the pod and 10.77.0.2 outside it. Nothing of the host's own network is
/// touched: both veth ends live in the namespaces, which `remove` deletes with all they hold.
private struct NamespaceLab {
    let pod: String
    let remote: String
    let ip: ExternalTool

    /// Skips the test, with the reason, where namespaces can't be made.
    static func make() async throws -> NamespaceLab {
        guard getuid() == 0 else { throw XCTSkip("transparent capture needs root (ip netns, iptables)") }
        let ip = try ExternalTool.find("ip")
        let id = String(UInt32.random(in: 0...UInt32.max), radix: 16)
        let lab = NamespaceLab(pod: "luxy-pod-\(id)", remote: "luxy-remote-\(id)", ip: ip)
        let made = try await ip.run(["netns", "add", lab.pod])
        guard made.status == 0 else { throw XCTSkip("ip netns add is not allowed here: \(made.stderr)") }
        do {
            try await lab.must(["netns", "add", lab.remote])
            let podEnd = "lxa\(id)", remoteEnd = "lxb\(id)"
            // Created inside the pod namespace, so the host never holds either end.
            try await lab.must(["-n", lab.pod, "link", "add", podEnd, "type", "veth", "peer", "name", remoteEnd])
            try await lab.must(["-n", lab.pod, "link", "set", remoteEnd, "netns", lab.remote])
            try await lab.must(["-n", lab.pod, "addr", "add", "\(TransparentCaptureTests.podAddress)/24", "dev", podEnd])
            try await lab.must(["-n", lab.remote, "addr", "add", "\(TransparentCaptureTests.remoteAddress)/24",
                                "dev", remoteEnd])
            for (namespace, device) in [(lab.pod, podEnd), (lab.remote, remoteEnd), (lab.pod, "lo"), (lab.remote, "lo")] {
                try await lab.must(["-n", namespace, "link", "set", device, "up"])
            }
        } catch {
            await lab.remove()
            throw error
        }
        return lab
    }

    private func must(_ arguments: [String]) async throws {
        let result = try await ip.run(arguments)
        guard result.status == 0 else {
            throw NamespaceLabError(description: "ip \(arguments.joined(separator: " ")): \(result.stderr)")
        }
    }

    /// `command` run inside `namespace` (as root).
    func run(in namespace: String, _ command: [String]) async throws -> ExternalTool.Output {
        try await ip.run(["netns", "exec", namespace] + command, timeout: .seconds(30))
    }

    /// The namespace's nat table as iptables-save prints it, without its comments and packet
    /// counters (they change with traffic).
    func natRules(in namespace: String) async throws -> String {
        let saved = try await run(in: namespace, ["iptables-save", "-t", "nat"])
        return saved.stdout.split(separator: "\n").filter { !$0.hasPrefix("#") }
            .map { line in line.hasPrefix(":") ? String(line.split(separator: " ").first ?? "") : String(line) }
            .joined(separator: "\n")
    }

    func remove() async {
        _ = try? await ip.run(["netns", "del", pod])
        _ = try? await ip.run(["netns", "del", remote])
    }
}

private struct NamespaceLabError: Error, CustomStringConvertible {
    let description: String
}
