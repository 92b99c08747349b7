import Foundation
import Logging

/// Reloads the runtime when the config file's folder, `plugins/` or `modules/` change, and
/// follows those folders when a reload moves them.
public actor ReloadWatcher {
    private let runtime: LuxyRuntime
    private let debounce: Duration
    private let logger: Logger
    private var watcher: FileChangeWatcher?
    private var directories: [String] = []

    public init(runtime: LuxyRuntime, debounce: Duration = .milliseconds(250), logger: Logger) {
        self.runtime = runtime
        self.debounce = debounce
        self.logger = logger
    }

    public func start() async throws {
        try watch(await runtime.watchedDirectories())
    }

    public func stop() {
        watcher?.stop()
        watcher = nil
    }

    private func watch(_ directories: [String]) throws {
        watcher?.stop()
        self.directories = directories
        watcher = try FileChangeWatcher(directories: directories, debounce: debounce) { [weak self] paths in
            guard let self else { return }
            Task { await self.filesChanged(paths) }
        }
        logger.info("watching for changes", metadata: ["directories": "\(directories.joined(separator: ", "))"])
    }

    private func filesChanged(_ paths: [String]) async {
        // Named so that a reload nobody expected can be traced to the file behind it.
        logger.info("files changed: reloading", metadata: ["files": "\(paths.joined(separator: ", "))"])
        _ = try? await runtime.reload()
        let now = await runtime.watchedDirectories()
        if now != directories { try? watch(now) }
    }
}
