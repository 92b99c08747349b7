import Foundation
import XCTest

/// Two network namespaces of one test run ("pod" and "remote", unique names) joined by a veth
/// pair, 10.77.0.1 in the pod and 10.77.0.2 outside it. Nothing of the host's own network is
/// touched: both veth ends live in the namespaces, which `remove` deletes with all they hold.
struct NamespaceLab {
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
            // IPv6 too, usable at once (no duplicate address detection to wait for).
            try await lab.must(["-n", lab.pod, "addr", "add", "\(TransparentCaptureTests.podAddress6)/64", "dev", podEnd,
                                "nodad"])
            try await lab.must(["-n", lab.remote, "addr", "add", "\(TransparentCaptureTests.remoteAddress6)/64",
                                "dev", remoteEnd, "nodad"])
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
