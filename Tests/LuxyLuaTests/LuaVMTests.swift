import LuxyConfig
import XCTest

@testable import LuxyLua

final class LuaVMTests: LuaTestCase {
    func testBothEntryPointSpellings() throws {
        let envoy = try load("function envoy_on_request(h) h:logInfo('envoy req') end\nfunction envoy_on_response(h) h:logInfo('envoy resp') end")
        let luxy = try load("function on_request(h) h:logInfo('req') end", name: "luxy")
        let none = try load("x = 1", name: "none")
        XCTAssertTrue(envoy.handlesRequest)
        XCTAssertTrue(envoy.handlesResponse)
        XCTAssertTrue(luxy.handlesRequest)
        XCTAssertFalse(luxy.handlesResponse)
        XCTAssertFalse(none.handlesRequest)
        assertCompleted(run(envoy, .request))
        assertCompleted(run(envoy, .response))
        assertCompleted(run(luxy, .request))
        assertCompleted(run(luxy, .response))  // nothing to run
        assertCompleted(run(none, .request))
        XCTAssertEqual(host.logs.map(\.1), ["envoy req", "envoy resp", "req"])
        XCTAssertEqual(host.logs.first?.0, .info)
    }

    func testScriptsWithSameGlobalsAreIsolated() throws {
        let a = try load("name = 'a'\nfunction envoy_on_request(h) h:logInfo(name) end", name: "a")
        let b = try load("name = 'b'\nfunction envoy_on_request(h) h:logInfo(name) end", name: "b")
        assertCompleted(run(a))
        assertCompleted(run(b))
        XCTAssertEqual(host.logs.map(\.1), ["a", "b"])
        // _G is the script's own environment, and the shared globals stay out of reach.
        let c = try load("x = 1\nassert(_G.x == 1)\nassert(getmetatable(_G) == false)\nassert(string ~= nil)", name: "c")
        XCTAssertFalse(c.handlesRequest)
    }

    func testPluginsCannotTamperWithEachOthersLibraries() throws {
        let spy = try load("""
            string.upper = function() return 'spied' end
            table.concat = nil
            assert(getmetatable('') == false, 'the string metatable is hidden')
            function envoy_on_request(h) h:logInfo(string.upper('a')) end
            """, name: "spy")
        let victim = try load("function envoy_on_request(h) h:logInfo(string.upper('a') .. table.concat({'b'}) .. ('c'):upper()) end",
                              name: "victim")
        assertCompleted(run(spy))
        assertCompleted(run(victim))
        XCTAssertEqual(host.logs.map(\.1), ["spied", "AbC"])
    }

    func testSandbox() throws {
        try check("""
            assert(io == nil, 'io')
            assert(debug == nil, 'debug')
            assert(package == nil, 'package')
            assert(type(require) == 'function', 'require reaches lib/ and the built-in modules only')
            assert(dofile == nil and loadfile == nil, 'dofile/loadfile')
            assert(os.execute == nil and os.exit == nil and os.getenv == nil and os.remove == nil, 'os')
            assert(type(os.time()) == 'number' and type(os.clock()) == 'number' and type(os.date()) == 'string')
            assert(string.dump == nil, 'dump')
            assert(type(string.format) == 'function' and type(table.concat) == 'function')
            assert(type(math.floor) == 'function' and type(utf8.char) == 'function' and type(coroutine.wrap) == 'function')
            assert(load('return 1 + 1')() == 2)
            local f, err = load('\\27Lua\\84\\0\\25\\147\\13\\10\\26\\10')
            assert(f == nil and err:find('binary'), tostring(err))
            local f2, err2 = load('return 1', 'x', 'b')
            assert(f2 ~= nil, tostring(err2))
            assert(type(collectgarbage('count')) == 'number')
            assert(not pcall(collectgarbage), 'collect must be refused')
            assert(not pcall(collectgarbage, 'stop'))
            local ok, e = pcall(function() return require('os') end)
            assert(not ok and e:find("module 'os' not found"), e)
            assert(EnvoyTimestampResolution.MILLISECOND == 0)
            """)
        // load() without an env sees the script's own globals.
        try check("secret = 42\nassert(load('return secret')() == 42)")
    }

    func testInstructionBudgetStopsLoopsAndLeavesVMUsable() throws {
        vm = try LuaVM(limits: LuaLimits(instructionBudget: 200_000, memoryBytes: 16 << 20))
        let loop = try load("function on_request(h)\n  while true do end\nend")
        let e = try XCTUnwrap(failure(run(loop)))
        XCTAssertTrue(e.message.contains("instruction budget exceeded"), e.message)
        XCTAssertEqual(e.line, 2)

        let swallow = try load("function on_request(h)\n while true do pcall(function() while true do end end) end\nend", name: "swallow")
        XCTAssertTrue(try XCTUnwrap(failure(run(swallow))).message.contains("instruction budget exceeded"))

        // The budget is per phase run, so a well-behaved phase afterwards is fine.
        let fine = try load("function on_request(h) local n = 0 for i = 1, 1000 do n = n + i end h:logInfo(tostring(n)) end", name: "fine")
        assertCompleted(run(fine))
        assertCompleted(run(fine))
        XCTAssertEqual(host.logs.map(\.1), ["500500", "500500"])

        XCTAssertThrowsError(try load("while true do end", name: "toplevel")) { error in
            XCTAssertTrue((error as? LuaScriptError)?.message.contains("instruction budget exceeded") ?? false)
        }
    }

    func testBudgetSpansResumesOfOnePhase() throws {
        // Each slice is well under the budget; four together are not.
        vm = try LuaVM(limits: LuaLimits(instructionBudget: 100_000, memoryBytes: 16 << 20))
        host.httpCallMode = .deferred
        let script = try load("""
            local function slice() for i = 1, 30000 do end end
            local function call(h) h:httpCall('c', {[':method'] = 'GET', [':path'] = '/', [':authority'] = 'c'}, nil, 100) end
            function on_request(h)
              slice() call(h) slice() call(h) slice() call(h) slice()
              h:logInfo('unreachable')
            end
            """)
        var outcome: LuaPhaseOutcome?
        let stream = LuaHTTPStream(vm: vm, host: host)
        stream.run(script, phase: .request) { outcome = $0 }
        while outcome == nil, !host.pendingHTTPCalls.isEmpty {
            host.pendingHTTPCalls.removeFirst()()
        }
        XCTAssertEqual(host.httpCalls.count, 3)
        XCTAssertTrue(try XCTUnwrap(failure(outcome)).message.contains("instruction budget exceeded"))
        XCTAssertTrue(host.logs.isEmpty)
    }

    func testMemoryCapFailsThePhaseAndLeavesVMUsable() throws {
        vm = try LuaVM(limits: LuaLimits(instructionBudget: 10_000_000, memoryBytes: 8 << 20))
        let hog = try load("function on_request(h) local s = string.rep('x', 64 * 1024 * 1024) h:logInfo(#s) end")
        let e = try XCTUnwrap(failure(run(hog)))
        XCTAssertTrue(e.message.contains("not enough memory"), e.message)

        let tables = try load("function on_request(h) local t = {} for i = 1, 1e7 do t[i] = {i} end end", name: "tables")
        XCTAssertTrue(try XCTUnwrap(failure(run(tables))).message.contains("not enough memory"))

        let fine = try load("function on_request(h) h:logInfo(string.rep('y', 3)) end", name: "fine")
        assertCompleted(run(fine))
        XCTAssertEqual(host.logs.map(\.1), ["yyy"])
        XCTAssertLessThan(vm.memoryInUse, 8 << 20)
    }

    func testSyntaxErrorReportsChunkAndLine() {
        let source = "local x = 1\nfunction on_request(h)\n  x = = 2\nend"
        XCTAssertThrowsError(try vm.loadScript(name: "x", chunkName: "plugins/x.lua", source: source, config: .null)) { error in
            let e = error as! LuaScriptError
            XCTAssertTrue(e.message.hasPrefix("plugins/x.lua:3:"), e.message)
            XCTAssertEqual(e.line, 3)
            XCTAssertEqual(e.chunkName, "plugins/x.lua")
        }
        let checked = LuaVM.check(chunkName: "plugins/x.lua", source: source)
        XCTAssertEqual(checked?.line, 3)
        XCTAssertNil(LuaVM.check(chunkName: "plugins/ok.lua", source: "function on_request(h) end"))
        XCTAssertNotNil(LuaVM.check(chunkName: "plugins/bin.lua", source: "\u{1B}Lua"))
    }

    func testRuntimeErrorInTopLevelCodeIsThrown() {
        XCTAssertThrowsError(try load("local a = 1\nfoo()\n", name: "top")) { error in
            let e = error as! LuaScriptError
            XCTAssertEqual(e.message, "plugins/top.lua:2: attempt to call a nil value (global 'foo')")
            XCTAssertEqual(e.line, 2)
            XCTAssertNotNil(e.traceback)
        }
    }

    func testRuntimeErrorInOnRequestFailsWithLine() throws {
        let script = try load("function on_request(h)\n  local t = nil\n  return t.x\nend", name: "rt")
        let e = try XCTUnwrap(failure(run(script)))
        XCTAssertTrue(e.message.hasPrefix("plugins/rt.lua:3:"), e.message)
        XCTAssertEqual(e.line, 3)
        XCTAssertTrue(e.traceback?.contains("plugins/rt.lua:3") ?? false, e.traceback ?? "")
        let thrown = try load("function on_request(h) error({code = 1}) end", name: "tbl")
        XCTAssertEqual(try XCTUnwrap(failure(run(thrown))).message, "(error object is a table value)")
    }

    func testLineParsing() {
        XCTAssertEqual(LuaScriptError(message: "plugins/a.lua:12: boom", chunkName: "plugins/a.lua").line, 12)
        XCTAssertEqual(LuaScriptError(message: "...ong/name.lua:7: boom", chunkName: "x").line, 7)
        XCTAssertNil(LuaScriptError(message: "boom: 12", chunkName: "x").line)
        XCTAssertEqual(LuaScriptError(message: "boom", chunkName: "x", traceback: "stack traceback:\n\tx.lua:4: in function").line, 4)
    }

    func testConfigIsConvertedToLua() throws {
        let config: ConfigValue = .map([
            (key: "count", value: .int(5)),
            (key: "ratio", value: .double(0.5)),
            (key: "name", value: .string("n")),
            (key: "token", value: .secret("s3cret")),
            (key: "on", value: .bool(true)),
            (key: "gone", value: .null),
            (key: "list", value: .array([.string("a"), .string("b")])),
            (key: "nested", value: .map([(key: "deep", value: .int(1))])),
        ])
        let script = try load("""
            assert(math.type(config.count) == 'integer' and config.count == 5)
            assert(math.type(config.ratio) == 'float' and config.ratio == 0.5)
            assert(config.name == 'n' and config.token == 's3cret' and config.on == true)
            assert(config.gone == nil)
            assert(#config.list == 2 and config.list[1] == 'a')
            assert(config.nested.deep == 1)
            function on_request(h) assert(rawequal(h:config(), config)) end
            """, config: config)
        assertCompleted(run(script))
        let empty = try load("assert(config == nil)\nfunction on_request(h) assert(h:config() == nil) end", name: "empty")
        assertCompleted(run(empty))
    }

    func testCloseIsIdempotentAndFailsLaterRuns() throws {
        let script = try load("function on_request(h) end")
        vm.close()
        vm.close()
        XCTAssertNotNil(failure(run(script)))
        XCTAssertEqual(vm.memoryInUse, 0)
        XCTAssertThrowsError(try load("x = 1", name: "late"))
    }
}
