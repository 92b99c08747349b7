import Foundation
import LuxyTestSupport
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

    /// Writes `files` (paths relative to the folder, folders made as needed); `{{modules}}` in
    /// them is the repository's modules folder.
    func write(_ files: [String: String]) throws {
        for (relative, text) in files {
            let file = (path as NSString).appendingPathComponent(relative)
            try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try text.replacingOccurrences(of: "{{modules}}", with: TestProxy.repositoryModules)
                .write(toFile: file, atomically: true, encoding: .utf8)
        }
    }

    func read(_ relativePath: String) throws -> String {
        try String(contentsOfFile: "\(path)/\(relativePath)", encoding: .utf8)
    }

    /// `luxy ARGS` with this folder as the working directory.
    func luxy(_ arguments: [String]) throws -> LuxyCommandRunner.Outcome {
        try LuxyCommandRunner(workingDirectory: path).run(arguments)
    }

    /// `luxy check --config luxy.yaml` in this folder.
    func check() throws -> LuxyCommandRunner.Outcome {
        try luxy(["check", "--config", "luxy.yaml"])
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
