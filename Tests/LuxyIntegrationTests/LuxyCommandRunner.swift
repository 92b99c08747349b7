import Foundation
import XCTest

/// Runs the built `luxy` with arguments in a folder, as a user would, and collects what it
/// printed. Output goes through files, so no pipe can fill up and stall it.
struct LuxyCommandRunner {
    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
        var all: String { stdout + "\n--- stderr ---\n" + stderr }
    }

    let workingDirectory: String
    /// The build's own `luxy` unless a test installed one elsewhere.
    var executable = BuiltLuxyBinary.path

    func run(_ arguments: [String]) throws -> Outcome {
        let out = workingDirectory + "/.stdout-\(UUID().uuidString)"
        let err = workingDirectory + "/.stderr-\(UUID().uuidString)"
        _ = FileManager.default.createFile(atPath: out, contents: nil)
        _ = FileManager.default.createFile(atPath: err, contents: nil)
        defer {
            try? FileManager.default.removeItem(atPath: out)
            try? FileManager.default.removeItem(atPath: err)
        }
        let outHandle = try XCTUnwrap(FileHandle(forWritingAtPath: out))
        let errHandle = try XCTUnwrap(FileHandle(forWritingAtPath: err))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: workingDirectory)
        process.standardOutput = outHandle
        process.standardError = errHandle
        process.standardInput = FileHandle.nullDevice
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        if exited.wait(timeout: .now() + 30) == .timedOut {
            process.terminate()
            _ = exited.wait(timeout: .now() + 5)
            XCTFail("luxy \(arguments.joined(separator: " ")) did not exit within 30 s")
        }
        try outHandle.close()
        try errHandle.close()
        return Outcome(status: process.terminationStatus,
                       stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                       stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }
}
