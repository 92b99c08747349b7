import Foundation
import XCTest

/// Runs a command-line client (curl, h2load) with a hard time limit, without blocking a
/// Swift concurrency thread while it runs.
struct ExternalTool {
    struct Output {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    let path: String

    /// The tool at the first of `candidates` that exists, or the test is skipped.
    static func find(_ name: String) throws -> ExternalTool {
        for directory in ["/usr/bin", "/usr/local/bin", "/bin", "/usr/sbin", "/sbin"] {
            let path = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: path) { return ExternalTool(path: path) }
        }
        throw XCTSkip("\(name) is not installed")
    }

    /// Runs the tool on a thread of its own, which blocks in `poll` and `waitpid`: no Swift
    /// concurrency thread is held, and no dispatch source is involved. (Foundation's `Process`
    /// with pipe `readabilityHandler`s once crashed the test process in libdispatch's event
    /// loop while namespaced tools ran; this path has nothing of it.)
    func run(_ arguments: [String], timeout: Duration = .seconds(30)) async throws -> Output {
        let path = self.path
        return try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                continuation.resume(with: Result { try ToolRun.run(path: path, arguments: arguments, timeout: timeout) })
            }
            thread.start()
        }
    }
}

struct ExternalToolError: Error, CustomStringConvertible {
    let description: String
}

/// One run of a tool: `posix_spawn` with its stdout and stderr on pipes (stdin from
/// /dev/null), both pipes drained as it writes (a chatty tool cannot fill one and stall),
/// SIGTERM at the deadline and SIGKILL 5 s after.
private enum ToolRun {
    static func run(path: String, arguments: [String], timeout: Duration) throws -> ExternalTool.Output {
        var outPipe: [Int32] = [-1, -1]
        var errPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0 else { throw ExternalToolError(description: "pipe: errno \(errno)") }
        guard pipe(&errPipe) == 0 else {
            close(outPipe[0]); close(outPipe[1])
            throw ExternalToolError(description: "pipe: errno \(errno)")
        }
        // Close-on-exec, so a tool started at the same time by another task does not inherit
        // these pipes' write ends and keep them open (the tool gets its copies by dup2).
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
        close(outPipe[1])
        close(errPipe[1])
        guard spawned == 0 else {
            close(outPipe[0]); close(errPipe[0])
            throw ExternalToolError(description: "posix_spawn \(path): error \(spawned)")
        }

        var out: [UInt8] = []
        var err: [UInt8] = []
        var open = [outPipe[0], errPipe[0]]
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let clock = ContinuousClock()
        var deadline = clock.now + timeout
        var signalled: Int32 = 0
        while !open.isEmpty {
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            let left = deadline - clock.now
            let milliseconds = max(0, Int32(clamping: left.components.seconds * 1000
                + left.components.attoseconds / 1_000_000_000_000_000))
            let ready = poll(&fds, nfds_t(fds.count), milliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                break
            }
            if ready == 0 {
                // Out of time: SIGTERM, then SIGKILL; after that, stop waiting for output that
                // something the tool started may still hold open.
                guard signalled != SIGKILL else { break }
                signalled = signalled == 0 ? SIGTERM : SIGKILL
                kill(pid, signalled)
                deadline = clock.now + .seconds(5)
                continue
            }
            for fd in fds where fd.revents != 0 {
                let count = read(fd.fd, &buffer, buffer.count)
                if count > 0 {
                    if fd.fd == outPipe[0] { out += buffer[..<count] } else { err += buffer[..<count] }
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    close(fd.fd)
                    open.removeAll { $0 == fd.fd }
                }
            }
        }
        for fd in open { close(fd) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        // As Foundation's terminationStatus: the exit code, or the signal that ended it.
        let signal = status & 0x7f
        return ExternalTool.Output(status: signal == 0 ? (status >> 8) & 0xff : signal,
                                   stdout: String(decoding: out, as: UTF8.self),
                                   stderr: String(decoding: err, as: UTF8.self))
    }
}
