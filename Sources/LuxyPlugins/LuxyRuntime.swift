import Foundation
import Logging
import LuxyConfig
import LuxyCore

/// The running configuration: loads a snapshot, installs it on the proxy as a generation,
/// and remembers what is active and what last went wrong.
public actor LuxyRuntime {
    public struct Status: Sendable {
        public var generation: Int
        public var snapshot: ConfigurationSnapshot?
        public var lastError: String?
    }

    public let configFile: String
    public let server: ProxyServer
    private let logger: Logger
    private(set) var snapshot: ConfigurationSnapshot?
    private var lastError: String?

    public init(configFile: String, server: ProxyServer, logger: Logger) {
        self.configFile = configFile
        self.server = server
        self.logger = logger
    }

    /// Loads and installs the config file. On failure the running generation (if any) stays,
    /// and the error is kept for the admin API.
    @discardableResult
    public func reload() async throws -> Int {
        do {
            let snapshot = try ConfigurationSnapshot.load(configFile: configFile)
            let factory = LuaStageChainFactory(plan: snapshot.plan, logger: logger)
            let generation = try await server.install(snapshot.configuration, stages: factory)
            self.snapshot = snapshot
            lastError = nil
            logger.info("configuration installed\n\(snapshot.plan.describe(generation: generation))",
                        metadata: ["generation": "\(generation)"])
            return generation
        } catch {
            lastError = "\(error)"
            logger.error("configuration rejected; the running generation keeps serving\n\(error)")
            throw error
        }
    }

    public func status() async -> Status {
        Status(generation: await server.generation, snapshot: snapshot, lastError: lastError)
    }
}
