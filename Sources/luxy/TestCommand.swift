import ArgumentParser
import Foundation
import LuxyPluginTest

/// `luxy test [PATH…]`: runs the `*_test.lua` plugin tests offline (no network, no ports), in
/// the production sandbox and handle API with an in-memory request.
struct TestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run plugin tests (*_test.lua) offline; see docs/testing-plugins.md.",
        discussion: "PATH is a test file or a folder searched for *_test.lua. Without a PATH: plugins/ and modules/ beside the config file.")

    @Argument(help: "Test files or folders.")
    var paths: [String] = []

    @Option(name: .shortAndLong, help: "The config file whose folder's plugins/ and modules/ are tested when no PATH is given.")
    var config = "luxy.yaml"

    @Option(help: "Write a JUnit XML report to this file.")
    var junit: String?

    func run() async throws {
        let runner = PluginTestRunner(paths: paths.isEmpty ? defaultPaths() : paths)
        if runner.paths.isEmpty {
            printError("luxy test: no plugins/ or modules/ beside \(config); name test files or folders: luxy test PATH…")
            throw ExitCode(1)
        }
        let files: [String]
        do {
            files = try runner.testFiles()
        } catch {
            printError("luxy test: \(error)")
            throw ExitCode(1)
        }
        if files.isEmpty { printError("luxy test: no *_test.lua under \(runner.paths.joined(separator: ", "))") }
        let report = try await runner.run(files: files) { result in print(result.summaryLine) }
        if let junit {
            do {
                try report.junitXML.write(toFile: junit, atomically: true, encoding: .utf8)
            } catch {
                printError("luxy test: cannot write \(junit): \(error.localizedDescription)")
                throw ExitCode(1)
            }
        }
        print("\(report.summaryLine) (\(String(format: "%.2f", report.seconds)) s)")
        if report.failed > 0 { throw ExitCode(1) }
    }

    /// `plugins/` and `modules/` beside the config file, those that exist.
    private func defaultPaths() -> [String] {
        let folder = (config as NSString).deletingLastPathComponent
        return ["plugins", "modules"].map { folder.isEmpty ? $0 : folder + "/" + $0 }
            .filter { FileManager.default.fileExists(atPath: $0) }
    }
}
