import XCTest

@testable import LuxyConfig

/// The keys of shared libraries and JSON (`lib_dir`, `limits.lua_max_json_bytes`), and the
/// messages for typos and tabs.
final class PluginLibrariesConfigTests: XCTestCase {
    private static let file = "/etc/luxy/luxy.yaml"

    func testLibDirDefaultsBesideTheConfigAndResolvesRelativePaths() throws {
        XCTAssertEqual(try ConfigurationLoader.parse(yaml: "", file: Self.file).libDirectory, "/etc/luxy/lib")
        let config = try ConfigurationLoader.parse(yaml: "lib_dir: ../shared/lua\n", file: Self.file)
        XCTAssertEqual(config.libDirectory, "/etc/shared/lua")
        XCTAssertThrowsError(try ConfigurationLoader.parse(yaml: "lib_dir: ''\n", file: Self.file)) { error in
            XCTAssertEqual("\(error)", "/etc/luxy/luxy.yaml:1:10: 'lib_dir' must not be empty")
        }
    }

    func testMaxJSONBytes() throws {
        XCTAssertEqual(LimitsConfiguration().luaMaxJSONBytes, 1_048_576)
        let limits = try ConfigurationLoader.parse(yaml: "limits:\n  lua_max_json_bytes: 4096\n", file: Self.file).limits
        XCTAssertEqual(limits.luaMaxJSONBytes, 4096)
        XCTAssertThrowsError(try ConfigurationLoader.parse(yaml: "limits:\n  lua_max_json_bytes: 0\n", file: Self.file)) {
            XCTAssertEqual("\($0)", "/etc/luxy/luxy.yaml:2:23: 'lua_max_json_bytes' must be a positive integer")
        }
    }

    func testUnknownKeysSuggestTheNearestKnownOne() {
        XCTAssertThrowsError(try ConfigurationLoader.parse(yaml: "limits:\n  lua_max_jsn_bytes: 1\nworker: 2\n",
                                                           file: Self.file)) { error in
            XCTAssertEqual("\(error)", """
            /etc/luxy/luxy.yaml:2:3: unknown key 'lua_max_jsn_bytes' in limits (did you mean 'lua_max_json_bytes'?)
            /etc/luxy/luxy.yaml:3:1: unknown key 'worker' at top level (did you mean 'workers'?)
            """)
        }
        XCTAssertNil(NameSuggestion.closest(to: "colour", among: ConfigurationWalker.topLevelKeys))
    }

    func testTabIndentationIsNamed() {
        XCTAssertThrowsError(try ConfigurationLoader.parse(yaml: "limits:\n\tlua_max_json_bytes: 1\n", file: Self.file)) {
            XCTAssertEqual("\($0)", "/etc/luxy/luxy.yaml:2:1: tabs are not allowed for indentation in YAML")
        }
        // A tab inside a value is no indentation, and fine.
        XCTAssertNoThrow(try ConfigurationLoader.parse(yaml: "plugins_dir: \"a\tb\"\n", file: Self.file))
    }
}
