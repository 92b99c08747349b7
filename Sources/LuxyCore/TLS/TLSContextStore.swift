import LuxyConfig
import Logging
import NIOConcurrencyHelpers
import NIOSSL

/// The live `NIOSSLContext`s of one listener's or one cluster's `tls:`. Contexts are built
/// off the event loops (BoringSSL reads files and parses PEM), kept in a lightly locked box,
/// and swapped when the files change: new handshakes take the new context, connections
/// already open keep theirs, and no generation is made for it.
public final class TLSContextStore: Sendable {
    public enum Source: Sendable, Equatable {
        case listener(ListenerTLSConfiguration)
        case cluster(ClusterTLSConfiguration)

        var files: [String] {
            switch self {
            case .listener(let tls): return tls.files
            case .cluster(let tls): return tls.files
            }
        }
    }

    /// One context per certificate, found by SNI name; the first certificate answers the rest.
    struct ServerContexts: Sendable {
        var fallback: NIOSSLContext
        var byName: [String: NIOSSLContext]
        /// `*.example.com` entries, by the suffix `.example.com`.
        var wildcards: [(suffix: String, context: NIOSSLContext)]
    }

    enum Contexts: Sendable {
        case server(ServerContexts)
        case client(NIOSSLContext)
    }

    public let source: Source
    private let current: NIOLockedValueBox<Contexts>
    private let reloads = NIOLockedValueBox((succeeded: 0, failed: 0))
    private let watcher: NIOLockedValueBox<TLSFileWatcher?> = NIOLockedValueBox(nil)
    private let logger: Logger

    /// Loads the files now (blocking I/O: call it off the event loops); throws what is wrong
    /// with them, naming the file.
    public init(source: Source, logger: Logger, pollInterval: Duration? = .seconds(1)) throws {
        self.source = source
        self.logger = logger
        self.current = NIOLockedValueBox(try Self.makeContexts(source))
        if let pollInterval {
            let watcher = TLSFileWatcher(files: source.files, interval: pollInterval) { [weak self] in
                self?.reload() ?? true
            }
            self.watcher.withLockedValue { $0 = watcher }
        }
    }

    /// Rebuilds the contexts from the files; on failure the old ones stay in use.
    @discardableResult
    public func reload() -> Bool {
        do {
            let contexts = try Self.makeContexts(source)
            current.withLockedValue { $0 = contexts }
            reloads.withLockedValue { $0.succeeded += 1 }
            logger.info("TLS certificates reloaded", metadata: ["files": "\(source.files.joined(separator: ", "))"])
            return true
        } catch {
            reloads.withLockedValue { $0.failed += 1 }
            logger.warning("TLS certificates changed but cannot be loaded; keeping the previous ones",
                           metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Successful and failed reloads since start.
    public var reloadCounts: (succeeded: Int, failed: Int) { reloads.withLockedValue { $0 } }

    public func stop() {
        watcher.withLockedValue { $0?.stop() }
    }

    /// The context for a server handshake that asked for `serverName` (SNI).
    func serverContext(for serverName: String?) -> NIOSSLContext? {
        guard case .server(let contexts) = current.withLockedValue({ $0 }) else { return nil }
        guard let name = serverName?.lowercased() else { return contexts.fallback }
        if let exact = contexts.byName[name] { return exact }
        if let dot = name.firstIndex(of: ".") {
            let suffix = String(name[dot...])
            if let match = contexts.wildcards.first(where: { $0.suffix == suffix }) { return match.context }
        }
        return contexts.fallback
    }

    var clientContext: NIOSSLContext? {
        guard case .client(let context) = current.withLockedValue({ $0 }) else { return nil }
        return context
    }
}
