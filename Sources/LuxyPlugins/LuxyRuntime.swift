import Foundation
import Logging
import LuxyConfig
import LuxyCore
import LuxyLua

/// The running configuration: loads a snapshot, installs it on the proxy as a generation,
/// and remembers what is active and what last went wrong. Every trigger — start-up, a file
/// change, SIGHUP, `POST /reload` — comes through `reload()`, one at a time.
public actor LuxyRuntime {
    public struct Status: Sendable {
        public var generation: Int
        public var snapshot: ConfigurationSnapshot?
        public var lastError: String?
        public var counters: ReloadCounters
    }

    public struct ReloadCounters: Sendable {
        public var attempted = 0
        public var succeeded = 0
        public var failed = 0
        /// Reloads that found nothing changed and so built no generation.
        public var unchanged = 0
        public var lastSuccess: Date?
    }

    public struct ReloadOutcome: Sendable, Equatable {
        public var generation: Int
        /// False when the files were the same as the running snapshot: nothing was built.
        public var changed: Bool

        public init(generation: Int, changed: Bool) {
            self.generation = generation
            self.changed = changed
        }
    }

    public let configFile: String
    public let server: ProxyServer
    /// What scripts share across loops and generations: shared dictionaries, queues, metrics.
    public nonisolated let platform: LuaPlatform
    private let logger: Logger
    private(set) var snapshot: ConfigurationSnapshot?
    private var lastError: String?
    private var counters = ReloadCounters()
    private var inFlight: Task<ReloadOutcome, Error>?

    public init(configFile: String, server: ProxyServer, logger: Logger, platform: LuaPlatform = LuaPlatform()) {
        self.configFile = configFile
        self.server = server
        self.platform = platform
        self.logger = logger
    }

    /// Loads the files and, when they differ from the running snapshot, installs them as a
    /// new generation. On failure the running generation stays and the error is kept for
    /// the admin API. Concurrent calls run one after another.
    @discardableResult
    public func reload() async throws -> ReloadOutcome {
        let previous = inFlight
        let task = Task {
            _ = await previous?.result
            return try await self.performReload()
        }
        inFlight = task
        return try await task.value
    }

    private func performReload() async throws -> ReloadOutcome {
        counters.attempted += 1
        do {
            let snapshot = try ConfigurationSnapshot.load(configFile: configFile)
            if let running = self.snapshot, snapshot.hasSameContent(as: running) {
                counters.unchanged += 1
                let generation = await server.generation
                logger.info("reload: nothing changed",
                            metadata: ["generation": "\(generation)", "content_hash": "\(running.contentHash)"])
                return ReloadOutcome(generation: generation, changed: false)
            }
            platform.metrics.setMaxSeries(snapshot.configuration.limits.luaMetricMaxSeries)
            let factory = LuaStageChainFactory(plan: snapshot.plan, logger: logger, platform: platform)
            let generation = try await server.install(snapshot.configuration, stages: factory)
            platform.configure(snapshot.configuration)
            self.snapshot = snapshot
            lastError = nil
            counters.succeeded += 1
            counters.lastSuccess = Date()
            logger.info("configuration installed\n\(snapshot.plan.describe(generation: generation))",
                        metadata: ["generation": "\(generation)", "content_hash": "\(snapshot.contentHash)"])
            return ReloadOutcome(generation: generation, changed: true)
        } catch {
            counters.failed += 1
            lastError = "\(error)"
            // At start-up nothing runs yet: say so, rather than promise a generation that is not there.
            let consequence = self.snapshot == nil ? "nothing is running" : "the running generation keeps serving"
            logger.error("configuration rejected; \(consequence)\n\(error)")
            throw error
        }
    }

    /// Writes the access-log lines the writers still gather: once the loops stopped, before
    /// the process exits, so the last requests keep their lines.
    public func flushAccessLogs() async {
        await AccessLogSink.flushAll()
    }

    public func status() async -> Status {
        Status(generation: await server.generation, snapshot: snapshot, lastError: lastError, counters: counters)
    }

    /// Folders whose changes should trigger a reload: the config file's, the plugins, modules
    /// and lib folders of the running configuration (with lib's sub-folders), and the folders
    /// of its `!file` secrets (a mounted Secret's `..data` swap happens in its folder).
    public func watchedDirectories() -> [String] {
        let file = snapshot?.configuration.sourceFile
            ?? URL(fileURLWithPath: configFile, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath)).path
        var directories = [(file as NSString).deletingLastPathComponent]
        if let configuration = snapshot?.configuration {
            directories.append(configuration.pluginsDirectory)
            directories.append(configuration.modulesDirectory)
            if !configuration.libDirectory.isEmpty { directories.append(configuration.libDirectory) }
            directories.append(contentsOf: ChainPlan.libraryFolders(under: configuration.libDirectory))
            directories += configuration.secretFiles.map { ($0 as NSString).deletingLastPathComponent }
        }
        return directories
    }
}
