import Foundation
import XCTest

@testable import LuxyLua

/// `docs/luxy.d.lua`, the editor annotations: it compiles, and it names every host method and
/// module function a script can call, so it cannot fall behind the API unnoticed.
final class EditorAnnotationsTests: XCTestCase {
    private var repository: URL {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url
    }

    func testAnnotationsCompile() throws {
        let luac = ["/usr/bin/luac5.4", "/usr/local/bin/luac5.4"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let luac else { throw XCTSkip("luac5.4 is not installed (scripts/install-deps installs lua5.4)") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: luac)
        process.arguments = ["-p", repository.appendingPathComponent("docs/luxy.d.lua").path]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, message)
    }

    func testEveryMethodIsAnnotated() throws {
        let text = try String(contentsOf: repository.appendingPathComponent("docs/luxy.d.lua"), encoding: .utf8)
        for kind in LuaObjectKind.allCases where kind != .chunkIterator {
            XCTAssertTrue(text.contains("---@class \(kind.typeName)\n"), "no class \(kind.typeName)")
        }
        for method in LuaMethod.allCases where !method.isMetamethod && !method.isHostInternal && method.kind != .chunkIterator {
            XCTAssertTrue(text.contains(":\(method.luaName)("), "\(method.kind.typeName):\(method.luaName) is not annotated")
        }
        for function in LuaModuleFunction.allCases {
            XCTAssertTrue(text.contains(".\(function.luaName)("), "\(function.module.rawValue).\(function.luaName) is not annotated")
        }
        let luarc = try Data(contentsOf: repository.appendingPathComponent("examples/.luarc.json"))
        let settings = try XCTUnwrap(try JSONSerialization.jsonObject(with: luarc) as? [String: Any])
        XCTAssertEqual(settings["workspace.library"] as? [String], ["../docs/luxy.d.lua"])
    }
}
