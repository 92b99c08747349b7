import LuxyConfig
import XCTest

@testable import LuxyLua

/// `require`: libraries of the lib folder, loaded once per VM, and the errors of a missing or
/// cyclic require, at the line of the require call.
final class LuaRequireTests: LuaTestCase {
    private func useLibraries(_ sources: [String: String], slice: Int = LuaLimits.defaultInstructionSlice) throws {
        vm.close()
        let libraries = sources.map { name, source in
            let file = name.replacingOccurrences(of: ".", with: "/") + ".lua"
            return LuaLibrary(name: name, chunkName: "lib/\(file)", path: "/srv/lib/\(file)", source: source)
        }
        vm = try LuaVM(limits: LuaLimits(instructionBudget: 1_000_000, memoryBytes: 16 << 20, instructionSlice: slice),
                       libraries: libraries)
    }

    func testLibraryLoadsOncePerVMAndIsSharedByScripts() throws {
        try useLibraries([
            "util.greet": "loads = (loads or 0) + 1\nlocal M = {count = 0}\nfunction M.hello(n) M.count = M.count + 1 return 'hello ' .. n end\nM.loads = function() return loads end\nreturn M",
        ])
        let a = try load("local g = require('util.greet')\nfunction on_request(h) h:logInfo(g.hello('a')) end", name: "a")
        let b = try load("local g = require('util.greet')\nfunction on_request(h) h:logInfo(g.hello('b') .. ' ' .. g.count .. ' ' .. g.loads()) end",
                         name: "b")
        assertCompleted(run(a))
        assertCompleted(run(b))
        XCTAssertEqual(host.logs.map(\.1), ["hello a", "hello b 2 1"])
        XCTAssertEqual(vm.requires().map(\.name), ["util.greet", "util.greet"])
        XCTAssertEqual(vm.requires().first?.requirer, "plugins/a.lua")
        XCTAssertEqual(vm.requires().first?.line, 1)
    }

    func testLibraryGlobalsStayInTheLibrary() throws {
        try useLibraries(["leaky": "secret = 1\nreturn nil"])
        try check("assert(require('leaky') == true)\nassert(secret == nil)")
    }

    func testMissingRequireNamesTheCallersLine() throws {
        XCTAssertThrowsError(try load("local x = 1\nlocal nope = require('nope')")) { error in
            let message = (error as? LuaScriptError)?.message ?? ""
            XCTAssertTrue(message.hasPrefix("plugins/test.lua:2: module 'nope' not found"), message)
        }
    }

    func testCyclicRequireNamesTheCycleAndLine() throws {
        try useLibraries(["a": "local b = require('b')\nreturn {}", "b": "\nlocal a = require('a')\nreturn {}"])
        XCTAssertThrowsError(try load("require('a')")) { error in
            let message = (error as? LuaScriptError)?.message ?? ""
            XCTAssertEqual(message, "lib/b.lua:2: cyclic require of 'a' (a -> b -> a)")
        }
        // The failed load left nothing half-loaded behind: the next require fails the same way.
        XCTAssertThrowsError(try load("require('b')", name: "again")) { error in
            XCTAssertEqual((error as? LuaScriptError)?.message, "lib/a.lua:1: cyclic require of 'b' (b -> a -> b)")
        }
    }

    func testRequireInsidePhaseAndLibraryErrorsReport() throws {
        try useLibraries(["broken": "local x = nil\nreturn x.field"])
        let script = try load("function on_request(h) local ok, e = pcall(require, 'broken') h:logInfo(tostring(e)) end")
        assertCompleted(run(script))
        XCTAssertEqual(host.logs.map(\.1), ["lib/broken.lua:2: attempt to index a nil value (local 'x')"])
    }

    func testLibraryLoopIsHeldToTheBudget() throws {
        try useLibraries(["spin": "while true do end"])
        XCTAssertThrowsError(try load("require('spin')")) { error in
            XCTAssertTrue((error as? LuaScriptError)?.message.contains("instruction budget exceeded") == true, "\(error)")
        }
    }

    /// A library whose top level runs longer than a slice, required inside a phase: the phase
    /// yields to the loop in the middle of the require and goes on where it stopped.
    func testRequireInPhaseSpansSlices() throws {
        try useLibraries(["slow": "local n = 0\nfor i = 1, 200000 do n = n + i end\nreturn {sum = n}"], slice: 50_000)
        let script = try load("function on_request(h) h:logInfo(tostring(require('slow').sum)) end")
        let stream = LuaHTTPStream(vm: vm, host: host)
        var outcome: LuaPhaseOutcome?
        stream.run(script, phase: .request) { outcome = $0 }
        let ticks = host.runTicks()
        assertCompleted(outcome)
        XCTAssertEqual(host.logs.map(\.1), ["20000100000"])
        XCTAssertGreaterThan(ticks, 1, "the phase gave the loop back while the library loaded")
    }
}
