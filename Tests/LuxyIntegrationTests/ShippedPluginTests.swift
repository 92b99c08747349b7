import Foundation
import XCTest

/// The `*_test.lua` files shipped beside the built-in modules and the example plugins pass
/// under `luxy test`: this is how CI runs them (a failing plugin test fails the suite here).
final class ShippedPluginTests: XCTestCase {
    /// `luxy ARGS` in the repository's root.
    private func luxy(_ arguments: [String]) throws -> LuxyCommandRunner.Outcome {
        guard FileManager.default.isExecutableFile(atPath: BuiltLuxyBinary.path) else {
            throw XCTSkip("\(BuiltLuxyBinary.path) is not built")
        }
        return try LuxyCommandRunner(workingDirectory: BuiltLuxyBinary.repository.path).run(arguments)
    }

    func testModulesAndExamplesPassLuxyTest() throws {
        let result = try luxy(["test", "modules", "examples"])
        XCTAssertEqual(result.status, 0, result.all)
        XCTAssertFalse(result.stdout.contains("FAIL"), result.all)
        // Every module and every example plugin has tests of its own.
        for folder in ["modules", "examples/quickstart/plugins", "examples/token-auth/plugins", "examples/tcp-inspect/plugins",
                       "examples/cookbook/plugins"] {
            let scripts = try FileManager.default.contentsOfDirectory(
                atPath: BuiltLuxyBinary.repository.appendingPathComponent(folder).path)
            for script in scripts where script.hasSuffix(".lua") && !script.hasSuffix("_test.lua") {
                let test = String(script.dropLast(4)) + "_test.lua"
                XCTAssertTrue(scripts.contains(test), "\(folder)/\(script) has no \(test)")
                XCTAssertTrue(result.stdout.contains("\(folder)/\(test):"), "\(folder)/\(test) did not run\n\(result.all)")
            }
        }
    }

    /// The cookbook's config chains every recipe and passes `luxy check`.
    func testTheCookbookConfigChecks() throws {
        let result = try luxy(["check", "--config", "examples/cookbook/luxy.yaml"])
        XCTAssertEqual(result.status, 0, result.all)
        let recipes = try FileManager.default.contentsOfDirectory(
            atPath: BuiltLuxyBinary.repository.appendingPathComponent("examples/cookbook/plugins").path)
            .filter { $0.hasSuffix(".lua") && !$0.hasSuffix("_test.lua") }
        for recipe in recipes {
            XCTAssertTrue(result.stdout.contains("plugins/\(recipe)"), "\(recipe) is not in a chain\n\(result.all)")
        }
    }

    /// docs/cookbook.md shows the code that is tested: each `plugins/NAME.lua` block is the file.
    func testTheCookbookPageShowsTheTestedFiles() throws {
        let root = BuiltLuxyBinary.repository
        let page = try String(contentsOf: root.appendingPathComponent("docs/cookbook.md"), encoding: .utf8)
        let folder = root.appendingPathComponent("examples/cookbook/plugins")
        let files = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".lua") }
        XCTAssertFalse(files.isEmpty)
        for file in files {
            let source = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            let shown = "`plugins/\(file)`:\n\n```lua\n\(source.trimmingCharacters(in: .newlines))\n```"
            XCTAssertTrue(page.contains(shown), "docs/cookbook.md does not show examples/cookbook/plugins/\(file) as it is")
        }
    }
}
