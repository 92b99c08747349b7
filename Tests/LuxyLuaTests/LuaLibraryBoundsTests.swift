import Foundation
import LuxyConfig
import XCTest

@testable import LuxyLua

/// Library functions that loop in C as long as their arguments say (docs/lua-api.md's review
/// table): each is charged to the instruction budget and fails the phase with it, fast,
/// instead of keeping the loop for hours as stock Lua does.
final class LuaLibraryBoundsTests: LuaTestCase {
    func testLibraryLoopsThatStockLuaRunsForHoursFailWithTheBudget() throws {
        vm = try LuaVM(limits: LuaLimits(instructionBudget: 1_000_000, memoryBytes: 16 << 20))
        let calls = [
            "table.move({}, 1, 2^40, 2)",
            "table.move({}, 1, 2^40, 0)",
            "table.remove(setmetatable({}, {__len = function() return math.maxinteger end}), 1)",
            "table.insert(setmetatable({}, {__len = function() return 2^50 end}), 1, 'x')",
            "table.concat(setmetatable({}, {__index = rawlen}), '', 1, 2^40)",
            // The same through pcall: the budget error cannot be caught and retried.
            "while true do pcall(table.move, {}, 1, 2^40, 2) end",
        ]
        for (i, call) in calls.enumerated() {
            let script = try load("function on_request(h)\n  \(call)\n  h:logInfo('unreachable')\nend", name: "lib\(i)")
            let start = ContinuousClock.now
            let e = try XCTUnwrap(failure(run(script)), call)
            XCTAssertLessThan(ContinuousClock.now - start, .seconds(2), call)
            XCTAssertTrue(e.message.contains("instruction budget exceeded"), "\(call): \(e.message)")
            XCTAssertEqual(e.line, 2, call)
        }
        XCTAssertTrue(host.logs.isEmpty)
    }

    func testCallsAreChargedForTheArgumentsTheyMove() throws {
        // One `g(...)` copies 100,000 values; one `table.unpack` over a proxy calls __index a
        // million times without running an instruction. Counted by instructions alone, a
        // budget of 1,000,000 took hours of CPU.
        vm = try LuaVM(limits: LuaLimits(instructionBudget: 1_000_000, memoryBytes: 64 << 20))
        let loops = [
            """
            local t = {} for i = 1, 100000 do t[i] = i end
            local function g(...) end
            local function spin(...) while true do g(...) end end
            spin(table.unpack(t))
            """,
            """
            local t = {} for i = 1, 100000 do t[i] = i end
            local function spin(...) while true do select('#', ...) end end
            spin(table.unpack(t))
            """,
            "while true do table.unpack(setmetatable({}, {__index = rawlen}), 1, 999000) end",
            "local s = string.rep('x', 900000) while true do string.byte(s, 1, -1) end",
        ]
        for (i, body) in loops.enumerated() {
            let script = try load("function on_request(h)\n\(body)\nend", name: "args\(i)")
            let start = ContinuousClock.now
            let e = try XCTUnwrap(failure(run(script)), body)
            XCTAssertLessThan(ContinuousClock.now - start, .seconds(5), body)
            XCTAssertTrue(e.message.contains("instruction budget exceeded"), "\(body): \(e.message)")
        }
        // Ordinary calls still fit the budget as before.
        try check("""
            local function add(...) local s = 0 for _, v in ipairs({...}) do s = s + v end return s end
            local total = 0
            for i = 1, 10000 do total = total + add(i, 1, 2) end
            assert(total == 10000 * 10001 / 2 + 30000)
            assert(select('#', table.unpack({1, 2, 3})) == 3)
            """)
    }

    func testALongListMakesEveryCallOfThePhaseCharged() throws {
        // A phase's calls are charged for what they move only once it ran a hook step (1,000
        // instructions) or a library function returned a long list. These phases run about
        // 800 instructions; their 200 calls moving 10,000 values each are over the budget,
        // the memory the lists take (charged too) is not.
        // No slices: a slice ended by the memory charge of the list's stack would arm the
        // charge too, and hide what is checked here.
        vm = try LuaVM(limits: LuaLimits(instructionBudget: 250_000, memoryBytes: 64 << 20, instructionSlice: 0))
        let lists = [
            "table.unpack({}, 1, 10000)",
            "string.byte(string.rep('x', 10000), 1, -1)",
            "utf8.codepoint(string.rep('x', 10000), 1, -1)",
            "string.unpack(string.rep('b', 10000), string.rep('x', 10000))",
        ]
        for (i, list) in lists.enumerated() {
            let script = try load("""
                local function g(...) end
                local function moves(...) for i = 1, 200 do g(...) end end
                function on_request(h)
                  moves(\(list))
                  h:logInfo('unreachable')
                end
                """, name: "list\(i)")
            let e = try XCTUnwrap(failure(run(script)), list)
            XCTAssertTrue(e.message.contains("instruction budget exceeded"), "\(list): \(e.message)")
        }
        // A coroutine the phase made before the list existed charges its calls all the same.
        let script = try load("""
            local function g(...) end
            function on_request(h)
              local moves = coroutine.wrap(function(...) for i = 1, 200 do g(...) end end)
              moves(table.unpack({}, 1, 10000))
              h:logInfo('unreachable')
            end
            """, name: "coroutine")
        let e = try XCTUnwrap(failure(run(script)))
        XCTAssertTrue(e.message.contains("instruction budget exceeded"), e.message)
        XCTAssertTrue(host.logs.isEmpty)
        // Short lists are not charged more than before.
        try check("local function g(...) end for i = 1, 50 do g(table.unpack({1, 2, 3}), string.byte('abc', 1, -1)) end")
    }

    func testStringRepOfEmptyPiecesIsEmptyAtOnce() throws {
        let start = ContinuousClock.now
        try check("""
            assert(string.rep('', 2^40) == '')
            assert(string.rep('', 2^40, '') == '')
            assert(('').rep('', math.maxinteger) == '')
            """)
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(1))
    }

    func testStringRepOverTheMemoryCapFailsWithoutFillingIt() throws {
        vm = try LuaVM(limits: LuaLimits(instructionBudget: 1_000_000_000, memoryBytes: 16 << 20))
        try check("""
            local ok, err = pcall(string.rep, 'x', 2^40)
            assert(not ok and err:find('not enough memory', 1, true), err)
            ok, err = pcall(string.rep, 'xy', math.maxinteger)
            assert(not ok and err:find('resulting string too large', 1, true), err)
            """)
    }

    func testCopyingCountsAgainstTheBudget() throws {
        // Each `..` copies 2 MiB: a few instructions, but 2,000 MiB copied is work the
        // budget sees (a MiB allocated costs 131,072 instructions), so the loop ends long
        // before that.
        vm = try LuaVM(limits: LuaLimits(instructionBudget: 2_000_000, memoryBytes: 32 << 20))
        let copier = try load("""
            function on_request(h)
              local s = string.rep('x', 1 << 20)
              for i = 1, 1000 do local t = s .. s end
              h:logInfo('copied')
            end
            """)
        XCTAssertTrue(try XCTUnwrap(failure(run(copier))).message.contains("instruction budget exceeded"))
        XCTAssertTrue(host.logs.isEmpty)
    }

    func testLibraryFunctionsBehaveAsStockLua() throws {
        try check("""
            -- string.rep: separators, one copy, zero and negative counts
            assert(string.rep('ab', 3) == 'ababab')
            assert(string.rep('ab', 3, ',') == 'ab,ab,ab')
            assert(string.rep('ab', 1, ',') == 'ab')
            assert(string.rep('ab', 0, ',') == '' and string.rep('x', -1) == '')
            assert(string.rep('', 3, '-') == '--')
            assert(string.rep('x', 1000):len() == 1000 and not string.rep('x', 1000):find('[^x]'))
            assert(string.rep('abc', 100, '--') == ('abc--'):rep(99) .. 'abc')
            assert(#string.rep('z', 1 << 20, '') == 1 << 20)

            -- table.insert / remove
            local t = {1, 2, 3}
            table.insert(t, 4)
            table.insert(t, 1, 0)
            assert(table.concat(t, ',') == '0,1,2,3,4')
            assert(table.remove(t) == 4 and table.remove(t, 1) == 0)
            assert(table.concat(t, ',') == '1,2,3')
            assert(table.remove({}) == nil)
            assert(not pcall(table.insert, t, 9, 1))
            assert(select(2, pcall(table.insert, t, 1, 2, 3)):find("wrong number of arguments to 'insert'", 1, true))
            assert(select(2, pcall(table.remove, t, 7)):find('position out of bounds', 1, true))

            -- table.move: forwards, overlapping, into another table
            local a = {1, 2, 3, 4, 5}
            table.move(a, 1, 3, 3)
            assert(table.concat(a, ',') == '1,2,1,2,3')
            local b = table.move({1, 2, 3}, 1, 3, 2, {})
            assert(b[1] == nil and b[2] == 1 and b[4] == 3)
            assert(select(2, pcall(table.move, {}, -1, math.maxinteger, 1)):find('too many elements to move', 1, true))

            -- table.concat: ranges, numbers, errors; proxies with metamethods
            assert(table.concat({1, 'b', 3.5}, '-') == '1-b-3.5')
            assert(table.concat({'a', 'b', 'c'}, '', 2, 3) == 'bc')
            assert(table.concat({}, 'x') == '' and table.concat({'a'}, ',', 3, 2) == '')
            assert(select(2, pcall(table.concat, {1, {}, 3})):find("invalid value (at index 2) in table for 'concat'", 1, true))
            local proxy = setmetatable({}, {__index = function(_, i) return 'p' .. i end, __len = function() return 3 end})
            assert(table.concat(proxy, ',') == 'p1,p2,p3')
            """)
    }

    // MARK: load and loadScript: the script size limit and protected compiling

    func testLoadRefusesChunksOverTheScriptSizeLimit() throws {
        vm = try LuaVM(limits: LuaLimits(maxScriptBytes: 1000))
        try check("""
            local big = 'return 1' .. string.rep(' ', 2000)
            local f, err = load(big)
            assert(f == nil and err:find('chunk too large (2008 bytes; the script size limit is 1000)', 1, true), err)
            local pieces = 0
            f, err = load(function() pieces = pieces + 1; return string.rep(' ', 100) end)
            assert(f == nil and err:find('chunk too large', 1, true), err)
            assert(pieces == 11, pieces)
            local parts = {'return ', '4', '2'}
            f = load(function() return table.remove(parts, 1) end)
            assert(f() == 42)
            assert(load('return 7')() == 7)
            """)
    }

    func testScriptOverTheSizeLimitIsRefusedBeforeCompiling() throws {
        vm = try LuaVM(limits: LuaLimits(maxScriptBytes: 4096))
        let source = "function on_request(h) end\n" + String(repeating: "-- padding\n", count: 500)
        XCTAssertThrowsError(try load(source, name: "big")) { error in
            let e = error as! LuaScriptError
            XCTAssertEqual(e.message,
                           "plugins/big.lua: the script is \(source.utf8.count) bytes, over the limit of 4096 (limits.lua_max_script_bytes)")
        }
        XCTAssertNotNil(LuaVM.check(chunkName: "plugins/big.lua", source: source, limits: LuaLimits(maxScriptBytes: 4096)))
        XCTAssertNil(LuaVM.check(chunkName: "plugins/big.lua", source: source))
        // The VM goes on loading scripts that fit.
        XCTAssertTrue(try load("function on_request(h) end", name: "small").handlesRequest)
    }

    func testOutOfMemoryWhileCompilingIsAnError() throws {
        // The sandbox takes some 30 KiB; the script's constants and code need far more than
        // the 200 KiB cap. Compiling runs protected, with the cap on: an error, no abort().
        vm = try LuaVM(limits: LuaLimits(memoryBytes: 200 << 10, maxScriptBytes: 64 << 20))
        var source = "local t = {\n"
        for i in 0..<20_000 { source += "  'constant number \(i)',\n" }
        source += "}\nfunction on_request(h) end\n"
        XCTAssertThrowsError(try load(source, name: "huge")) { error in
            let e = error as! LuaScriptError
            XCTAssertTrue(e.message.hasPrefix("plugins/huge.lua: not enough memory to load the script (limits.lua_memory_bytes is 204800"),
                          e.message)
        }
        // Nothing of it is left behind: the VM loads and runs a small script.
        let small = try load("function on_request(h) h:logInfo('ok') end", name: "small")
        assertCompleted(run(small))
        XCTAssertEqual(host.logs.last?.1, "ok")
    }
}
