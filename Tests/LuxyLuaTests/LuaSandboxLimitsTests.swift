import Foundation
import LuxyConfig
import XCTest

@testable import LuxyLua

/// What the count hook cannot interrupt: C code called from Lua. Pattern matching runs under
/// a step budget, and finalizers (which Lua runs with hooks off) and to-be-closed handlers
/// are refused.
final class LuaSandboxLimitsTests: LuaTestCase {
    /// Backtracks for about 30^8 steps in stock Lua: the loop would never come back.
    static let catastrophic = "string.rep('a', 30), '(.-)(.-)(.-)(.-)(.-)(.-)(.-)(.-)b'"

    func testCatastrophicPatternFailsThePhaseInEveryPatternFunction() throws {
        // A budget far above the pattern's, so the pattern's own budget is what fires.
        vm = try LuaVM(limits: LuaLimits(instructionBudget: 100_000_000, memoryBytes: 16 << 20))
        let calls = [
            "string.find(\(Self.catastrophic))",
            "string.match(\(Self.catastrophic))",
            "for _ in string.gmatch(\(Self.catastrophic)) do end",
            "string.gsub(\(Self.catastrophic), 'x')",
            "string.gsub(string.rep('a', 30), '(.-)(.-)(.-)(.-)(.-)(.-)(.-)(.-)b', function() end)",
            "local s = string.rep('a', 30) s:find('(.-)(.-)(.-)(.-)(.-)(.-)(.-)(.-)b')",
            "local s = string.rep('a', 30) s:match('.*.*.*.*.*.*.*.*b')",
            "local s = string.rep('a', 30) for _ in s:gmatch('%a*%a*%a*%a*%a*%a*%a*%a*b') do end",
            "local s = string.rep('a', 30) s:gsub('[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*[a-z]*b', '')",
            // A plugin's own copy of the library, and the method, reach the same functions.
            "local find = string.find string = nil find(\(Self.catastrophic))",
        ]
        for (i, call) in calls.enumerated() {
            let script = try load("function on_request(h)\n  \(call)\n  h:logInfo('unreachable')\nend", name: "p\(i)")
            let e = try XCTUnwrap(failure(run(script)), call)
            XCTAssertTrue(e.message.contains("pattern too complex (step budget of "), "\(call): \(e.message)")
            XCTAssertEqual(e.line, 2, call)
        }
        XCTAssertTrue(host.logs.isEmpty)

        // The VM is usable afterwards.
        try check("assert(string.find('key=value', '(%w+)=(%w+)') == 1)")
    }

    func testPatternWorkCountsAgainstTheInstructionBudget() throws {
        // Catching the error does not buy more time: every step is charged to the phase.
        vm = try LuaVM(limits: LuaLimits(instructionBudget: 5_000_000, memoryBytes: 16 << 20))
        let swallow = try load("""
            function on_request(h)
              while true do pcall(string.find, \(Self.catastrophic)) end
            end
            """)
        let e = try XCTUnwrap(failure(run(swallow)))
        XCTAssertTrue(e.message.contains("instruction budget exceeded"), e.message)

        // Nor do many calls that each stay under the pattern budget: about 300,000 steps
        // against a phase budget of 100,000.
        vm = try LuaVM(limits: LuaLimits(instructionBudget: 100_000, memoryBytes: 16 << 20))
        let linear = try load("function on_request(h)\n  local s = string.rep('a ', 100000):gsub('%s', '')\nend", name: "linear")
        let e2 = try XCTUnwrap(failure(run(linear)))
        XCTAssertTrue(e2.message.contains("instruction budget exceeded"), e2.message)
        XCTAssertEqual(e2.line, 2)
    }

    func testLinearScanOfALargeBodyFitsTheDefaults() throws {
        vm = try LuaVM(limits: LuaLimits())
        try check("""
            local body = string.rep('{"user":"x","password":"hunter2"} ', 30000)
            assert(#body > 1000000)
            local masked, n = body:gsub('"password":"[^"]*"', '"password":"***"')
            assert(n == 30000, n)
            assert(not masked:find('hunter2', 1, true))
            local words = 0
            for _ in body:gmatch('%a+') do words = words + 1 end
            assert(words == 120000, words)
            """)
    }

    func testPatternFunctionsBehaveAsStockLua() throws {
        try check("""
            -- find: init, negative init, plain, no specials, anchors, captures
            assert(select('#', string.find('hello world', 'o w')) == 2)
            local a, b = string.find('hello world', 'o', 6)
            assert(a == 8 and b == 8)
            a, b = string.find('hello', 'l', -2)
            assert(a == 4 and b == 4)
            assert(string.find('hello', 'l', 10) == nil)
            a, b = string.find('a.b.c', '.', 2, true)
            assert(a == 2 and b == 2)
            assert(string.find('a+b', '+', 1, true) == 2)
            assert(string.find('abc', '^b') == nil and string.find('abc', '^a') == 1)
            assert(string.find('abc', 'c$') == 3 and string.find('abc', 'b$') == nil)
            assert(string.find('a$b', '$b') == 2)
            local s, e, k, v = string.find('  key = value', '(%w+)%s*=%s*(%w+)')
            assert(s == 3 and e == 13 and k == 'key' and v == 'value')
            a, b = string.find('abc', '', 4)
            assert(a == 4 and b == 3)
            assert(string.find('a\\0b', '%z') == 2)

            -- match: captures, position captures, back-references, optional items
            assert(string.match('2024-05-17', '(%d+)-(%d+)-(%d+)') == '2024')
            local y, m, d = string.match('2024-05-17', '(%d+)-(%d+)-(%d+)')
            assert(y == '2024' and m == '05' and d == '17')
            local p1, p2 = string.match('hello', '()ll()')
            assert(p1 == 3 and p2 == 5)
            assert(string.match([[say "hi" now]], '(["\\'])(.-)%1') == '"')
            assert(select(2, string.match([[say 'hi' now]], '(["\\'])(.-)%1')) == 'hi')
            assert(string.match('color', 'colou?r') == 'color' and string.match('colour', 'colou?r') == 'colour')
            assert(string.match('  trim me  ', '^%s*(.-)%s*$') == 'trim me')
            assert(string.match('x = [[a]]', '%[%[(.-)%]%]') == 'a')
            assert(string.match('abc', '[^%a]') == nil)
            assert(string.match('a-z', '[%-]') == '-')
            assert(string.match('Bearer abc.def', '^Bearer%s+([%w%.%-_]+)$') == 'abc.def')

            -- %b and %f
            assert(string.match('f(a(b)c) d', '%b()') == '(a(b)c)')
            assert(string.match('f(a(b c', '%b()') == nil)
            assert(string.gsub('THE (quick) fox', '%f[%a]%a+', 'W') == 'W (W) W')
            local n = select(2, string.gsub('the cat sat', '%f[%w]%w+', ''))
            assert(n == 3)

            -- gmatch: pairs, init, empty matches
            local t = {}
            for k, v in string.gmatch('a=1, b=2, c=3', '(%w+)=(%w+)') do t[#t + 1] = k .. v end
            assert(table.concat(t, ' ') == 'a1 b2 c3')
            t = {}
            for w in ('one two three'):gmatch('%a+', 5) do t[#t + 1] = w end
            assert(table.concat(t, ',') == 'two,three')
            local count = 0
            for _ in string.gmatch('abc', '') do count = count + 1 end
            assert(count == 4)
            for p in string.gmatch('ab', '()') do count = count + p end
            assert(count == 4 + 1 + 2 + 3)

            -- gsub: string (with %0, %1, %%), number, table, function, max, anchor
            assert(string.gsub('hello world', 'o', '0') == 'hell0 w0rld')
            assert(string.gsub('hello', '(l)(l)', '%2%1[%0]%%') == 'hell[ll]%o')
            assert(string.gsub('abc', '%w', '%0%0') == 'aabbcc')
            assert(string.gsub('a b', '%a', 7) == '7 7')
            local r, c = string.gsub('$name is $age', '%$(%w+)', {name = 'Ann', age = 30})
            assert(r == 'Ann is 30' and c == 2)
            assert(string.gsub('$x $y', '%$(%w+)', {x = false}) == '$x $y')
            r, c = string.gsub('a,b,,c', '[^,]+', function(w) return w:upper() end)
            assert(r == 'A,B,,C' and c == 3)
            assert(string.gsub('abc', '%w', function(ch) if ch == 'b' then return nil end return '.' end) == '.b.')
            assert(string.gsub('hello', '()', function(p) return p end) == '1h2e3l4l5o6')
            r, c = string.gsub('aaaa', 'a', 'b', 2)
            assert(r == 'bbaa' and c == 2)
            assert(string.gsub('aaa', '^a', 'b') == 'baa')
            assert(string.gsub('abc', '', '-') == '-a-b-c-')
            assert(('x y'):gsub('%s', '_') == 'x_y')
            assert(string.gsub('hello world', '(%w+) (%w+)', '%2 %1') == 'world hello')

            -- up to 32 captures; errors as in stock Lua
            assert(select('#', string.match('a', ('()'):rep(32))) == 32)
            local function fails(f, ...)
              local ok, err = pcall(f, ...)
              assert(not ok, 'expected an error')
              return err
            end
            assert(fails(string.match, 'a', ('()'):rep(33)):find('too many captures', 1, true))
            assert(fails(string.find, 'a', '[a'):find("malformed pattern (missing ']')", 1, true))
            assert(fails(string.find, 'a', 'a%'):find("malformed pattern (ends with '%')", 1, true))
            assert(fails(string.find, 'a', '%b'):find("missing arguments to '%b'", 1, true))
            assert(fails(string.find, 'a', '%fa'):find("missing '[' after '%f' in pattern", 1, true))
            assert(fails(string.match, 'a', '(a'):find('unfinished capture', 1, true))
            assert(fails(string.match, 'a', 'a)'):find('invalid pattern capture', 1, true))
            assert(fails(string.match, 'aa', '(a)%2'):find('invalid capture index %2', 1, true))
            assert(fails(string.gsub, 'a', 'a', '%9'):find('invalid capture index %9', 1, true))
            assert(fails(string.gsub, 'a', 'a', '%x'):find("invalid use of '%' in replacement string", 1, true))
            assert(fails(string.gsub, 'a', 'a', {a = {}}):find('invalid replacement value (a table)', 1, true))
            assert(fails(string.gsub, 'a', 'a', true):find('string/function/table expected, got boolean', 1, true))
            assert(fails(string.match, string.rep('a', 300), string.rep('a?', 300)) :find('pattern too complex', 1, true))
            """)
    }

    func testGCMetamethodsAreRefused() throws {
        try check("""
            local function fails(...)
              local ok, err = pcall(setmetatable, ...)
              assert(not ok, 'expected an error')
              return err
            end
            assert(fails({}, {__gc = function() while true do end end}):find('__gc metamethods are not allowed', 1, true))
            assert(fails({}, {__gc = true}):find('__gc metamethods are not allowed', 1, true))
            -- setmetatable works as before otherwise
            local t = setmetatable({}, {__index = function(_, k) return k .. '!' end})
            assert(t.x == 'x!')
            assert(setmetatable(t, nil) == t and getmetatable(t) == nil)
            setmetatable(t, {__metatable = 'locked'})
            local ok, err = pcall(setmetatable, t, {})
            assert(not ok and err:find('cannot change a protected metatable', 1, true), err)
            assert(not pcall(setmetatable, 1, {}))
            assert(not pcall(setmetatable, {}, 1))
            """)

        // A __gc added to a metatable after setmetatable does not make a finalizer: Lua only
        // marks an object when its metatable is set. Closing the VM (which runs every pending
        // finalizer, with hooks off) must come back.
        let late = try load("""
            local mt = {}
            kept = setmetatable({}, mt)
            dropped = setmetatable({}, mt)
            mt.__gc = function() while true do end end
            dropped = nil
            assert(not pcall(setmetatable, {}, mt), 'the metatable now has __gc')
            """, name: "late")
        _ = late
        let closed = DispatchSemaphore(value: 0)
        let box = VMBox(vm)
        Thread.detachNewThread {
            box.vm.close()
            closed.signal()
        }
        XCTAssertEqual(closed.wait(timeout: .now() + 10), .success, "closing the VM ran a finalizer that loops")
    }

    func testCloseMetamethodsAreRefused() throws {
        try check("""
            local ok, err = pcall(setmetatable, {}, {__close = function() end})
            assert(not ok and err:find('__close metamethods are not allowed', 1, true), err)
            ok, err = pcall(setmetatable, {}, {__close = false})
            assert(not ok and err:find('__close metamethods are not allowed', 1, true), err)
            -- A to-be-closed variable needs a value with __close (or nil/false): nothing else.
            ok, err = pcall(load('local x <close> = {}'))
            assert(not ok and err:find('non-closable value', 1, true), err)
            ok, err = pcall(load('local x <close> = nil local y <close> = false'))
            assert(ok, err)
            -- Host objects and strings have no __close either.
            ok, err = pcall(load('local x <close> = ...'), h)
            assert(not ok and err:find('non-closable value', 1, true), err)
            """)
    }

    func testCloseAddedToAMetatableLaterStaysUnderTheInstructionBudget() throws {
        // Lua looks __close up when `local x <close>` runs, so one added to the metatable
        // after setmetatable is still called: as Lua code, with the count hook on.
        vm = try LuaVM(limits: LuaLimits(instructionBudget: 200_000, memoryBytes: 16 << 20))
        let onReturn = try load("""
            function on_request(h)
              local mt = {}
              local t = setmetatable({}, mt)
              mt.__close = function() while true do end end
              local x <close> = t
            end
            """)
        XCTAssertTrue(try XCTUnwrap(failure(run(onReturn))).message.contains("instruction budget exceeded"))
        let onError = try load("""
            function on_request(h)
              local mt = {}
              local t = setmetatable({}, mt)
              rawset(mt, '__close', function() while true do end end)
              local x <close> = t
              error('boom')
            end
            """, name: "on-error")
        XCTAssertNotNil(failure(run(onError)))
        let onCoroutineClose = try load("""
            function on_request(h)
              local mt = {}
              local t = setmetatable({}, mt)
              mt.__close = function() while true do end end
              local co = coroutine.create(function()
                local x <close> = t
                coroutine.yield()
              end)
              coroutine.resume(co)
              local ok, err = coroutine.close(co)
              h:logInfo(tostring(ok) .. ' ' .. tostring(err))
            end
            """, name: "co")
        // The close fails with the budget, and so does the phase at its next call: the budget
        // is spent, coroutine.close cannot catch that.
        let e = try XCTUnwrap(failure(run(onCoroutineClose)))
        XCTAssertTrue(e.message.contains("instruction budget exceeded"), e.message)
        XCTAssertTrue(host.logs.isEmpty, "\(host.logs)")
        try check("h:logInfo('still usable')")
        XCTAssertEqual(host.logs.last?.1, "still usable")
    }
}

/// Hands the VM to the thread that closes it; nothing else touches the VM meanwhile.
private final class VMBox: @unchecked Sendable {
    let vm: LuaVM
    init(_ vm: LuaVM) { self.vm = vm }
}
