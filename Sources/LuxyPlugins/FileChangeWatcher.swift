import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// Watches folders with inotify and reports which files changed, debounced: a burst of
/// events (an editor's write-and-rename, a `git checkout` of ten files, the kubelet's
/// `..data` symlink swap) becomes one call of `onChange`. Files that are neither config nor
/// scripts — a log written into the config folder, an editor's swap or backup file — are
/// ignored (`FileChangeWatcher.isIgnored`).
///
/// Folders rather than files are watched, because editors and ConfigMap volumes replace a
/// file by renaming another over it, which a watch on the file itself would lose.
///
/// A folder that does not exist yet (a `plugins/` made after start-up) is watched through
/// its nearest existing parent until it appears, and from then on itself; one deleted and
/// made again is watched again.
///
/// Thread-safe: the inotify descriptor is read and its watches added only on the watcher's
/// own thread; `stop()` may be called from anywhere.
public final class FileChangeWatcher: Sendable {
    private let descriptor: Int32
    private let directories: [String]
    private let debounce: Duration
    private let onChange: @Sendable ([String]) -> Void
    private let state = NIOLockedValueBox(State())

    private struct State {
        var generation = 0
        var stopped = false
        /// The folder of each watch descriptor, to name the files events are about.
        var folders: [Int32: String] = [:]
        /// Paths changed since the last `onChange`, in the order first seen.
        var changed: [String] = []
    }

    /// Watches `directories` (missing ones are skipped). `onChange` runs on a background task
    /// with the paths that changed (a folder's own path for an event on the folder itself).
    public init(directories: [String], debounce: Duration = .milliseconds(250),
                onChange: @escaping @Sendable ([String]) -> Void) throws {
        let fd = inotify_init1(Int32(IN_CLOEXEC))
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        self.descriptor = fd
        self.directories = Array(Set(directories.map { URL(fileURLWithPath: $0).standardizedFileURL.path })).sorted()
        self.debounce = debounce
        self.onChange = onChange
        addWatches()
        let thread = Thread { [self] in readLoop() }
        thread.name = "luxy-file-watcher"
        thread.start()
    }

    /// The reader thread notices within its poll interval and closes the descriptor itself,
    /// so the number is never reused under a read still in progress.
    public func stop() {
        state.withLockedValue { $0.stopped = true }
    }

    /// Waits in poll(2) on its own thread — the control plane's, never an event loop's — and
    /// wakes every 250 ms to see whether it was stopped.
    private func readLoop() {
        defer { close(descriptor) }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !state.withLockedValue({ $0.stopped }) {
            var request = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&request, 1, 250)
            if ready < 0 && errno == EINTR { continue }
            if ready < 0 { return }
            if ready == 0 { continue }
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return }
            if state.withLockedValue({ $0.stopped }) { return }
            let paths = buffer.withUnsafeBytes { changedPaths(in: UnsafeRawBufferPointer(rebasing: $0[..<count])) }
            // Before the debounced reload reads the files: a folder that just appeared is
            // watched by then, so what is written into it next is not missed.
            addWatches()
            if !paths.isEmpty { schedule(paths) }
        }
    }

    private static let mask = UInt32(IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_ATTRIB
        | IN_DELETE_SELF | IN_MOVE_SELF)

    /// Each folder that exists, and for each one that does not, its nearest existing parent
    /// (whose IN_CREATE tells when it appears). Adding a watch that exists already only
    /// returns it again, so this runs after every batch of events: a folder made (or made
    /// again) since is picked up.
    private func addWatches() {
        var watched = Set<String>()
        for directory in directories {
            // A folder made between finding the parent and watching it raised no event on the
            // parent, and would never be watched: so look again after each watch, until the
            // nearest existing folder stays the same. Bounded by the path's depth.
            var previous: String?
            for _ in 0...directory.split(separator: "/").count {
                let path = Self.nearestExisting(directory)
                guard path != previous else { break }
                previous = path
                guard watched.insert(path).inserted else { continue }
                let watch = inotify_add_watch(descriptor, path, Self.mask)
                if watch >= 0 { state.withLockedValue { $0.folders[watch] = path } }
            }
        }
    }

    /// `directory` if it exists, else its nearest existing parent ("/" at worst).
    private static func nearestExisting(_ directory: String) -> String {
        var path = directory
        // Bounded by the path's depth: each step drops one component, down to "/".
        while !FileManager.default.fileExists(atPath: path), path != "/" {
            path = (path as NSString).deletingLastPathComponent
            if path.isEmpty { path = "/" }
        }
        return path
    }

    /// The paths of the events in `events` (a read of struct inotify_event records), but for
    /// the ignored files.
    private func changedPaths(in events: UnsafeRawBufferPointer) -> [String] {
        var paths: [String] = []
        var offset = 0
        let headerSize = MemoryLayout<inotify_event>.size
        while offset + headerSize <= events.count {
            let watch = events.loadUnaligned(fromByteOffset: offset, as: Int32.self)
            let nameLength = Int(events.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
            let nameBytes = events[(offset + headerSize)..<min(events.count, offset + headerSize + nameLength)]
            let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
            offset += headerSize + nameLength
            guard !Self.isIgnored(name) else { continue }
            let folder = state.withLockedValue { $0.folders[watch] } ?? "?"
            paths.append(name.isEmpty ? folder : (folder as NSString).appendingPathComponent(name))
        }
        return paths
    }

    /// Files whose changes never matter to a configuration: editors' swap, backup and probe
    /// files, hidden files (but the kubelet's `..data` swap of a ConfigMap volume), and logs.
    public static func isIgnored(_ name: String) -> Bool {
        if name.isEmpty || name.hasPrefix("..data") { return false }
        if name.hasPrefix(".") || name.hasSuffix("~") || name == "4913" { return true }
        if name.hasPrefix("#") && name.hasSuffix("#") { return true }
        let ignoredExtensions = ["swp", "swo", "swx", "tmp", "bak", "orig", "rej", "log"]
        let parts = name.lowercased().split(separator: ".")
        guard parts.count > 1 else { return false }
        // `proxy.log` and rotated `proxy.log.1` alike.
        return parts.dropFirst().contains { ignoredExtensions.contains(String($0)) }
    }

    private func schedule(_ paths: [String]) {
        let ticket = state.withLockedValue { state -> Int in
            state.generation += 1
            for path in paths where !state.changed.contains(path) { state.changed.append(path) }
            return state.generation
        }
        let debounce = self.debounce
        Task { [self] in
            try? await Task.sleep(for: debounce)
            let changed = state.withLockedValue { state -> [String]? in
                guard !state.stopped, state.generation == ticket else { return nil }
                defer { state.changed = [] }
                return state.changed
            }
            if let changed { onChange(changed) }
        }
    }
}
