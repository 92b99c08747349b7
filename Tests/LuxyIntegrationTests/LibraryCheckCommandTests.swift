import Foundation
import LuxyTestSupport
import XCTest

/// `luxy check` with a lib folder: the `libraries:` list, and missing or cyclic requires as
/// errors at the file:line of the require call.
final class LibraryCheckCommandTests: CheckCommandTestCase {
    /// Writes `files` and a config running plugin `main`, then runs `luxy check` on it.
    private func check(_ files: [String: String]) throws -> LuxyCommandRunner.Outcome {
        let yaml = PortZeroEchoConfig.echoListener + "\nchains:\n  inbound-http:\n    - name: main\n"
        try folder.write(files.merging(["luxy.yaml": yaml]) { $1 })
        return try folder.check()
    }

    func testLibrariesAreListedWithTheirRequirers() throws {
        let result = try check([
            "plugins/main.lua": "local s = require('text.slug')\nlocal json = require('cjson')\nfunction on_request(h) end\n",
            "lib/text/slug.lua": "local b = require('luxy.base64')\nreturn {}\n",
            "lib/unused.lua": "return {}\n",
        ])
        XCTAssertEqual(result.status, 0, result.all)
        XCTAssertTrue(result.stdout.contains("libraries:"), result.all)
        XCTAssertTrue(result.stdout.contains("  text.slug  (lib/text/slug.lua)  required by plugins/main.lua:1"),
                      result.all)
        XCTAssertTrue(result.stdout.contains("  unused  (lib/unused.lua)  not required at load"), result.all)
        XCTAssertTrue(result.stdout.contains("  cjson  (built-in)  required by plugins/main.lua:2"), result.all)
        XCTAssertTrue(result.stdout.contains("  luxy.base64  (built-in)  required by lib/text/slug.lua:1"), result.all)
    }

    func testMissingRequireFailsWithFileAndLine() throws {
        let result = try check(["plugins/main.lua": "-- uses a helper\nlocal h = require('helpers')\n"])
        XCTAssertEqual(result.status, 1, result.all)
        XCTAssertTrue(result.stderr.contains("\(folder.path)/plugins/main.lua:2: module 'helpers' not found"), result.all)
    }

    func testCyclicRequireFailsWithFileAndLine() throws {
        let result = try check([
            "plugins/main.lua": "require('a')\n",
            "lib/a.lua": "return require('b')\n",
            "lib/b.lua": "local x = 1\nreturn require('a')\n",
        ])
        XCTAssertEqual(result.status, 1, result.all)
        XCTAssertTrue(result.stderr.contains("\(folder.path)/lib/b.lua:2: cyclic require of 'a' (a -> b -> a)"),
                      result.all)
    }

    func testBrokenUnusedLibraryFailsTheCheck() throws {
        let result = try check(["plugins/main.lua": "function on_request(h) end\n", "lib/bad.lua": "return {\n"])
        XCTAssertEqual(result.status, 1, result.all)
        XCTAssertTrue(result.stderr.contains("\(folder.path)/lib/bad.lua:2:"), result.all)
    }
}
