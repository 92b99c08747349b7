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

    func run(_ arguments: [String], timeout: Duration = .seconds(30)) async throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        // Drain both pipes while the process runs, so a chatty tool cannot fill one and stall.
        let collector = OutputCollector()
        out.fileHandleForReading.readabilityHandler = { collector.append($0.availableData, error: false) }
        err.fileHandleForReading.readabilityHandler = { collector.append($0.availableData, error: true) }
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
                return
            }
            let seconds = Double(timeout.components.seconds)
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                if process.isRunning { process.terminate() }
            }
        }
        out.fileHandleForReading.readabilityHandler = nil
        err.fileHandleForReading.readabilityHandler = nil
        collector.append(out.fileHandleForReading.readDataToEndOfFile(), error: false)
        collector.append(err.fileHandleForReading.readDataToEndOfFile(), error: true)
        let (stdout, stderr) = collector.text
        return Output(status: status, stdout: stdout, stderr: stderr)
    }
}

private final class OutputCollector: @unchecked Sendable {
    // Test-only: the pipes' handlers run on Foundation's queues, never on an event loop.
    private let lock = NSLock()
    private var out = Data()
    private var err = Data()

    func append(_ data: Data, error: Bool) {
        lock.lock()
        defer { lock.unlock() }
        if error { err.append(data) } else { out.append(data) }
    }

    var text: (String, String) {
        lock.lock()
        defer { lock.unlock() }
        return (String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
    }
}
