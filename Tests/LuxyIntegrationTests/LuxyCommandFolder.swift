import Foundation
import XCTest

/// A temporary folder to run the built `luxy` in, as a user would in their project: skips the
/// test when the binary is not built, and is removed by `remove()`.
struct LuxyCommandFolder {
    let path: String

    init(_ prefix: String) throws {
        guard FileManager.default.isExecutableFile(atPath: BuiltLuxyBinary.path) else {
            throw XCTSkip("\(BuiltLuxyBinary.path) is not built")
        }
        path = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path + "/plugins", withIntermediateDirectories: true)
    }

    func write(_ relativePath: String, _ text: String) throws {
        try text.write(toFile: "\(path)/\(relativePath)", atomically: true, encoding: .utf8)
    }

    func read(_ relativePath: String) throws -> String {
        try String(contentsOfFile: "\(path)/\(relativePath)", encoding: .utf8)
    }

    /// `luxy ARGS` with this folder as the working directory.
    func luxy(_ arguments: [String]) throws -> LuxyCommandRunner.Outcome {
        try LuxyCommandRunner(workingDirectory: path).run(arguments)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
