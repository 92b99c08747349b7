import Foundation
import XCTest

/// The `*_test.lua` files shipped beside the built-in modules and the example plugins pass
/// under `luxy test`: this is how CI runs them (a failing plugin test fails the suite here).
final class ShippedPluginTests: XCTestCase {
    func testModulesAndExamplesPassLuxyTest() throws {
        guard FileManager.default.isExecutableFile(atPath: BuiltLuxyBinary.path) else {
            throw XCTSkip("\(BuiltLuxyBinary.path) is not built")
        }
        let result = try LuxyCommandRunner(workingDirectory: BuiltLuxyBinary.repository.path)
            .run(["test", "modules", "examples"])
        XCTAssertEqual(result.status, 0, result.all)
        XCTAssertFalse(result.stdout.contains("FAIL"), result.all)
        // Every module and every example plugin has tests of its own.
        for folder in ["modules", "examples/quickstart/plugins", "examples/token-auth/plugins", "examples/tcp-inspect/plugins"] {
            let scripts = try FileManager.default.contentsOfDirectory(
                atPath: BuiltLuxyBinary.repository.appendingPathComponent(folder).path)
            for script in scripts where script.hasSuffix(".lua") && !script.hasSuffix("_test.lua") {
                let test = String(script.dropLast(4)) + "_test.lua"
                XCTAssertTrue(scripts.contains(test), "\(folder)/\(script) has no \(test)")
                XCTAssertTrue(result.stdout.contains("\(folder)/\(test):"), "\(folder)/\(test) did not run\n\(result.all)")
            }
        }
    }
}
