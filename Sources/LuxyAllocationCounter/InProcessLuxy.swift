import Foundation
import Logging
import LuxyCore
import LuxyPlugins
import NIOCore

/// Luxy in this process, installed on a `ProxyServer` the way `luxy run` does, with the bench's
/// config (bench/luxy-subject.sh): one listener on 127.0.0.1, every path routed to one cluster
/// whose only endpoint is the upstream, and the scenario's `inbound-http` chain.
///
/// The logger drops everything below critical, so that no log line is formatted or stored in
/// the middle of a count.
struct InProcessLuxy {
    /// The checkout this file is in: the bench plugins and the shipped modules are read from it.
    static let repository: URL = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }()

    let server: ProxyServer
    let port: Int
    private let directory: String

    static func start(scenario: Scenario, upstreamPort: Int, group: EventLoopGroup) async throws -> InProcessLuxy {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("luxy-alloc-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let config = directory + "/luxy.yaml"
        try yaml(scenario: scenario, upstreamPort: upstreamPort).write(toFile: config, atomically: true, encoding: .utf8)
        var logger = Logger(label: "luxy.alloc-counter")
        logger.logLevel = .critical
        let server = try await ProxyServer(group: group, logger: logger)
        let runtime = LuxyRuntime(configFile: config, server: server, logger: logger)
        try await runtime.reload()
        guard let port = await server.listenerAddresses()["bench"]?.port else {
            throw HarnessError("the bench listener did not bind")
        }
        return InProcessLuxy(server: server, port: port, directory: directory)
    }

    func stop() async {
        await server.shutdown(drainTimeout: .seconds(1))
        try? FileManager.default.removeItem(atPath: directory)
    }

    private static func yaml(scenario: Scenario, upstreamPort: Int) -> String {
        """
        workers: 1
        plugins_dir: \(repository.appendingPathComponent("bench/plugins").path)
        modules_dir: \(repository.appendingPathComponent("modules").path)
        listeners:
          - name: bench
            direction: inbound
            protocol: http
            address: 127.0.0.1:0
            virtual_hosts:
              - name: all
                routes:
                  - match: { prefix: / }
                    cluster: backend
        clusters:
          - name: backend
        \(scenario.clusterYAML(upstreamPort: upstreamPort))
            max_idle_connections: 128
        chains:
          inbound-http:
        \(scenario.chainYAML)
        """
    }
}
