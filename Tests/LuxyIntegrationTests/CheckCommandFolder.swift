import Foundation
import LuxyTestSupport
import XCTest

/// A temporary folder with a config and its scripts, and `luxy check` (the built binary) run
/// in it, for the CLI tests of what the check reports.
struct CheckCommandFolder {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "luxy-check-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path + "/plugins", withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Writes `files` (paths relative to the folder, made as needed); `{{modules}}` in them is
    /// the repository's modules folder.
    func write(_ files: [String: String]) throws {
        for (relative, text) in files {
            let file = (path as NSString).appendingPathComponent(relative)
            try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try text.replacingOccurrences(of: "{{modules}}", with: TestProxy.repositoryModules)
                .write(toFile: file, atomically: true, encoding: .utf8)
        }
    }

    func check() throws -> LuxyCommandRunner.Outcome {
        try LuxyCommandRunner(workingDirectory: path).run(["check", "--config", "luxy.yaml"])
    }
}

/// A CLI test with a fresh `CheckCommandFolder` per test, skipped when `luxy` is not built.
class CheckCommandTestCase: XCTestCase {
    var folder: CheckCommandFolder!

    override func setUpWithError() throws {
        guard FileManager.default.isExecutableFile(atPath: BuiltLuxyBinary.path) else {
            throw XCTSkip("\(BuiltLuxyBinary.path) is not built")
        }
        folder = try CheckCommandFolder()
    }

    override func tearDownWithError() throws {
        folder?.remove()
    }
}
