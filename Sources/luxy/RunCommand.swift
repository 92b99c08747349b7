import ArgumentParser
import Dispatch
import Logging
import LuxyAdmin
import LuxyCore
import LuxyPlugins
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// `luxy run`: serve until SIGTERM or SIGINT, then drain. SIGHUP and file changes reload.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Run the proxy.")

    @Option(name: .shortAndLong, help: "The config file.")
    var config = "luxy.yaml"

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    @Flag(inversion: .prefixedNo, help: "Reload when the config file, plugins/ or modules/ change.")
    var watch = true

    func run() async throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "luxy")
        // Before anything binds: a SIGTERM that comes as soon as a port accepts must find its
        // handler (by default it would kill the process without a drain). The stream buffers
        // a signal that arrives while starting, and it is handled once the proxy runs.
        let signals = SignalStream.make([SIGHUP, SIGTERM, SIGINT])

        let snapshot: ConfigurationSnapshot
        do {
            snapshot = try ConfigurationSnapshot.load(configFile: config)
        } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        let workers = snapshot.configuration.workers ?? System.coreCount
        let group = MultiThreadedEventLoopGroup(numberOfThreads: workers)
        let server = try await ProxyServer(group: group, logger: logger)
        let runtime = LuxyRuntime(configFile: config, server: server, logger: logger)
        do {
            try await runtime.reload()
        } catch {
            try? await group.shutdownGracefully()
            throw ExitCode(1)
        }
        var admin: AdminServer?
        if let address = snapshot.configuration.admin {
            admin = try await AdminServer.start(host: address.host, port: address.port, group: group,
                                                runtime: runtime, logger: logger)
        }
        let watcher = ReloadWatcher(runtime: runtime, logger: logger)
        if watch {
            try await watcher.start()
        }
        logger.info("luxy running", metadata: ["workers": "\(workers)", "pid": "\(getpid())"])

        var stopSignal: Int32 = 0
        for await signal in signals {
            if signal == SIGHUP {
                logger.info("SIGHUP: reloading")
                _ = try? await runtime.reload()
                continue
            }
            stopSignal = signal
            break
        }
        await watcher.stop()
        let drain = snapshot.configuration.limits.drainTimeoutMilliseconds
        logger.info("stopping: draining in-flight requests", metadata: ["signal": "\(stopSignal)", "drain_ms": "\(drain)"])
        await admin?.close()
        await server.shutdown(drainTimeout: .milliseconds(drain))
        try await group.shutdownGracefully()
        await runtime.flushAccessLogs()
        logger.info("stopped")
    }
}

func printError(_ message: String) {
    FileHandle.standardErrorWrite(message + "\n")
}

enum FileHandle {
    static func standardErrorWrite(_ text: String) {
        var text = text
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    }
}
