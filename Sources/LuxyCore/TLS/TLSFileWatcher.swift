import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// Polls the `stat` of a few files (following symlinks, so a Kubernetes `..data` swap counts)
/// and calls `onChange` when any of them changed. Polling rather than inotify: certificate
/// files change rarely, a watch on a file is lost when it is renamed over, and a poll every
/// second of a handful of files costs nothing. Runs on a task of its own, never an event loop.
final class TLSFileWatcher: Sendable {
    private let task: NIOLockedValueBox<Task<Void, Never>?> = NIOLockedValueBox(nil)

    /// `onChange` returns false when the files could not be used yet (e.g. the key is written
    /// but not the certificate): the same change is then reported again on the next poll.
    init(files: [String], interval: Duration, onChange: @escaping @Sendable () -> Bool) {
        let files = Array(Set(files)).sorted()
        let started = Task.detached {
            var seen = Self.fingerprint(files)
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled else { return }
                let now = Self.fingerprint(files)
                if now != seen, onChange() { seen = now }
            }
        }
        task.withLockedValue { $0 = started }
    }

    func stop() {
        task.withLockedValue { $0?.cancel() }
    }

    /// Inode, size and modification time of each file; an unreadable file counts as a value too.
    static func fingerprint(_ files: [String]) -> [Int] {
        files.flatMap { path -> [Int] in
            var info = stat()
            guard stat(path, &info) == 0 else { return [-1, -1, -1, -1] }
            return [Int(info.st_ino), Int(info.st_size), Int(info.st_mtim.tv_sec), Int(info.st_mtim.tv_nsec)]
        }
    }
}
