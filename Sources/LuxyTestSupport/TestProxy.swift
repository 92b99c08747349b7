import Foundation
import Logging
import LuxyConfig
import LuxyCore
import LuxyPlugins
import NIOCore
import NIOPosix

/// A real Luxy on 127.0.0.1 for tests: a config and its plugins written to a fresh temporary
/// folder, installed on a `ProxyServer` exactly as `luxy run` does.
public final class TestProxy: Sendable {
    public let directory: String
    public let server: ProxyServer
    public let runtime: LuxyRuntime
    public let logs: TestLogCapture

    /// The repository's `modules/`, so tests run the modules Luxy ships.
    public static let repositoryModules: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("modules").path
    }()

    /// `yaml` may say `modules_dir: {{modules}}`; plugins are written to `plugins/NAME.lua`.
    public static func start(yaml: String, plugins: [String: String] = [:], group: EventLoopGroup) async throws
        -> TestProxy {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("luxy-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory + "/plugins", withIntermediateDirectories: true)
        for (name, source) in plugins {
            try source.write(toFile: "\(directory)/plugins/\(name).lua", atomically: true, encoding: .utf8)
        }
        let configFile = directory + "/luxy.yaml"
        try yaml.replacingOccurrences(of: "{{modules}}", with: repositoryModules)
            .write(toFile: configFile, atomically: true, encoding: .utf8)
        let logs = TestLogCapture()
        // `workers:` picks the number of event loops, as `luxy run` does: a config that says
        // `workers: 1` gets a group of its own with one loop, so every connection meets the
        // same pools and Lua VM.
        var ownGroup: MultiThreadedEventLoopGroup?
        if let workers = (try? ConfigurationSnapshot.load(configFile: configFile))?.configuration.workers,
           workers != Array(group.makeIterator()).count {
            ownGroup = MultiThreadedEventLoopGroup(numberOfThreads: workers)
        }
        let server = try await ProxyServer(group: ownGroup ?? group, logger: logs.logger)
        let runtime = LuxyRuntime(configFile: configFile, server: server, logger: logs.logger)
        try await runtime.reload()
        return TestProxy(directory: directory, server: server, runtime: runtime, logs: logs, ownGroup: ownGroup)
    }

    private let ownGroup: MultiThreadedEventLoopGroup?

    private init(directory: String, server: ProxyServer, runtime: LuxyRuntime, logs: TestLogCapture,
                 ownGroup: MultiThreadedEventLoopGroup?) {
        self.directory = directory
        self.server = server
        self.runtime = runtime
        self.logs = logs
        self.ownGroup = ownGroup
    }

    /// The port a listener is bound to (configs use port 0).
    public func port(_ listener: String) async -> Int {
        await server.listenerAddresses()[listener]?.port ?? 0
    }

    public func writePlugin(_ name: String, _ source: String) throws {
        try source.write(toFile: "\(directory)/plugins/\(name).lua", atomically: true, encoding: .utf8)
    }

    public func writeConfig(_ yaml: String) throws {
        try yaml.replacingOccurrences(of: "{{modules}}", with: Self.repositoryModules)
            .write(toFile: directory + "/luxy.yaml", atomically: true, encoding: .utf8)
    }

    public func stop() async {
        await server.shutdown(drainTimeout: .seconds(1))
        try? await ownGroup?.shutdownGracefully()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
