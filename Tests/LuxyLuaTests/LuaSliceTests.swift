import Foundation
import LuxyConfig
import XCTest

@testable import LuxyLua

/// The instruction budget in slices: a phase gives its loop back after each slice (the host
/// resumes it on a later tick) until the budget is spent, and then fails as before.
final class LuaSliceTests: LuaTestCase {
    /// Streams of phases still running: a stream that goes away ends its phase.
    private var streams: [LuaHTTPStream] = []

    private func keep(_ stream: LuaHTTPStream) -> LuaHTTPStream {
        streams.append(stream)
        return stream
    }

    override func tearDown() {
        streams.removeAll()
        super.tearDown()
    }

    func testPhaseOverBudgetGivesTheLoopBackEverySliceThenFailsWithTheBudgetError() throws {
        vm = try LuaVM(limits: LuaLimits(instructionBudget: 5_000_000, memoryBytes: 16 << 20, instructionSlice: 500_000))
        let spinner = try load("function on_request(h)\n  while true do end\nend")
        var outcome: LuaPhaseOutcome?
        keep(LuaHTTPStream(vm: vm, host: host)).run(spinner, phase: .request) { outcome = $0 }
        XCTAssertNil(outcome, "the first slice ends without using the budget")
        XCTAssertEqual(host.pendingTicks.count, 1)
        let ticks = host.runTicks()
        // 5,000,000 / 500,000 slices, give or take the hook's granularity.
        XCTAssertTrue((8...11).contains(ticks), "\(ticks) ticks")
        let e = try XCTUnwrap(failure(outcome))
        XCTAssertTrue(e.message.hasPrefix("plugins/test.lua:2: instruction budget exceeded"), e.message)
        XCTAssertEqual(e.line, 2)
        XCTAssertTrue(host.pendingTicks.isEmpty)
    }

    func testWorkLongerThanASliceCompletesAcrossTicksAndMixesWithHostWaits() throws {
        vm = try LuaVM(limits: LuaLimits(instructionBudget: 50_000_000, memoryBytes: 16 << 20, instructionSlice: 100_000))
        host.httpCallMode = .deferred
        let script = try load("""
            function on_request(h)
              local n = 0
              for i = 1, 200000 do n = n + i end
              local headers, body = h:httpCall('c', {[':method'] = 'GET', [':path'] = '/', [':authority'] = 'a'}, '', 1000)
              for i = 1, 200000 do n = n + 1 end
              h:logInfo(tostring(n) .. ' ' .. headers[':status'] .. ' ' .. body)
            end
            """)
        var outcome: LuaPhaseOutcome?
        keep(LuaHTTPStream(vm: vm, host: host)).run(script, phase: .request) { outcome = $0 }
        var ticks = host.runTicks()
        XCTAssertNil(outcome)
        XCTAssertEqual(host.pendingHTTPCalls.count, 1, "the phase reached httpCall after some slices")
        XCTAssertGreaterThan(ticks, 0)
        host.pendingHTTPCalls.removeFirst()()
        ticks += host.runTicks()
        assertCompleted(outcome)
        XCTAssertEqual(host.logs.last?.1, "\(200_000 * 200_001 / 2 + 200_000) 201 pong")
        XCTAssertGreaterThan(ticks, 4)
    }

    func testAScriptsOwnYieldIsStillAnUnexpectedYield() throws {
        vm = try LuaVM(limits: LuaLimits(instructionBudget: 1_000_000, memoryBytes: 16 << 20, instructionSlice: 100_000))
        let script = try load("function on_request(h)\n  for i = 1, 500000 do end\n  coroutine.yield()\nend")
        let e = try XCTUnwrap(failure(run(script)))
        XCTAssertTrue(e.message.contains("script performed an unexpected yield"), e.message)
    }

    func testWhereThePhaseCannotYieldItRunsOnForTwoSlicesAtMost() throws {
        vm = try LuaVM(limits: LuaLimits(instructionBudget: 20_000_000, memoryBytes: 16 << 20, instructionSlice: 100_000))
        // A sort comparator (a C call boundary) cannot give the loop back: it runs past the
        // slice, and a small sort still completes.
        let small = try load("""
            function on_request(h)
              local t = {}
              for i = 1, 200 do t[i] = (i * 7919) % 2003 end
              table.sort(t, function(a, b) for _ = 1, 50 do end return a < b end)
              h:logInfo(tostring(t[1] <= t[2]))
            end
            """, name: "small")
        var outcome: LuaPhaseOutcome?
        keep(LuaHTTPStream(vm: vm, host: host)).run(small, phase: .request) { outcome = $0 }
        let ticks = host.runTicks()
        assertCompleted(outcome)
        XCTAssertEqual(host.logs.last?.1, "true")
        XCTAssertLessThanOrEqual(ticks, 2)
        // A large one (some 20000 * log2(20000) comparators of about ten instructions) would
        // hold the loop for many slices: two slices past the end of its own, it fails as over
        // budget, long before the budget itself is used up.
        let large = try load("""
            function on_request(h)
              local t = {}
              for i = 1, 20000 do t[i] = (i * 7919) % 20011 end
              table.sort(t, function(a, b) for _ = 1, 50 do end return a < b end)
            end
            """, name: "large")
        var largeOutcome: LuaPhaseOutcome?
        keep(LuaHTTPStream(vm: vm, host: host)).run(large, phase: .request) { largeOutcome = $0 }
        _ = host.runTicks()
        let e = try XCTUnwrap(failure(largeOutcome))
        XCTAssertTrue(e.message.contains("instruction budget exceeded"), e.message)
        // At load time (the main thread) there are no slices either.
        _ = try load("for i = 1, 1000000 do end", name: "toplevel")
    }

    func testACoroutineTheScriptMadePassesTheEndOfItsSliceUpToThePhase() throws {
        vm = try LuaVM(limits: LuaLimits(instructionBudget: 5_000_000, memoryBytes: 16 << 20, instructionSlice: 100_000))
        let work = try load("""
            function on_request(h)
              local inner = coroutine.wrap(function(a)
                local n = 0
                for k = 1, 300000 do n = n + 1 end
                coroutine.yield(n + a)
                return 'done'
              end)
              local outer = coroutine.create(function() return inner(1), inner() end)
              local ok, first, second = coroutine.resume(outer)
              h:logInfo(tostring(ok) .. ' ' .. first .. ' ' .. second)
            end
            """)
        var outcome: LuaPhaseOutcome?
        keep(LuaHTTPStream(vm: vm, host: host)).run(work, phase: .request) { outcome = $0 }
        XCTAssertNil(outcome)
        XCTAssertGreaterThan(host.runTicks(), 2, "the slices of the inner coroutine reached the loop")
        assertCompleted(outcome)
        XCTAssertEqual(host.logs.last?.1, "true 300001 done")

        let spinner = try load("function on_request(h)\n  coroutine.wrap(function() while true do end end)()\nend", name: "spin")
        outcome = nil
        keep(LuaHTTPStream(vm: vm, host: host)).run(spinner, phase: .request) { outcome = $0 }
        let ticks = host.runTicks()
        XCTAssertTrue((40...52).contains(ticks), "\(ticks) ticks")
        XCTAssertTrue(try XCTUnwrap(failure(outcome)).message.contains("instruction budget exceeded"))
    }

    func testCoroutinesBehaveAsStockLua() throws {
        try check("""
            local co = coroutine.create(function(a, b)
              local c = coroutine.yield(a + b)
              local d, e = coroutine.yield(c * 2)
              return d + e, 'end'
            end)
            local ok, v = coroutine.resume(co, 1, 2)
            assert(ok and v == 3)
            ok, v = coroutine.resume(co, 10)
            assert(ok and v == 20)
            local ok2, sum, tag = coroutine.resume(co, 3, 4)
            assert(ok2 and sum == 7 and tag == 'end')
            assert(coroutine.status(co) == 'dead')
            local ok3, err = coroutine.resume(co)
            assert(not ok3 and err == 'cannot resume dead coroutine', err)
            local failing = coroutine.create(function() error({code = 7}) end)
            local ok4, obj = coroutine.resume(failing)
            assert(not ok4 and obj.code == 7)
            local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end)
            assert(gen() == 1 and gen() == 2 and gen() == 3)
            local ok5, err5 = pcall(coroutine.wrap(function() error('inside') end))
            assert(not ok5 and err5:find('inside', 1, true), err5)
            local ok6, err6 = pcall(coroutine.wrap(function() local x = nil; return x.y end))
            assert(not ok6 and err6:find('attempt to index', 1, true), err6)
            assert(not pcall(coroutine.resume, 42))
            assert(not pcall(coroutine.wrap, 42))
            assert(select('#', coroutine.resume(coroutine.create(function() return end))) == 1)
            -- A coroutine cannot resume itself or the running phase.
            local self_co
            self_co = coroutine.create(function() return coroutine.resume(self_co) end)
            local ok7, inner_ok, inner_err = coroutine.resume(self_co)
            assert(ok7 and not inner_ok and inner_err == 'cannot resume non-suspended coroutine', tostring(inner_err))
            """)
    }

    func testARequestEndingBetweenSlicesEndsThePhase() throws {
        vm = try LuaVM(limits: LuaLimits(instructionBudget: 10_000_000, memoryBytes: 16 << 20, instructionSlice: 100_000))
        let spinner = try load("function on_request(h)\n  while true do end\nend")
        var outcome: LuaPhaseOutcome?
        let stream = LuaHTTPStream(vm: vm, host: host)
        stream.run(spinner, phase: .request) { outcome = $0 }
        XCTAssertNil(outcome)
        stream.finish()
        let e = try XCTUnwrap(failure(outcome))
        XCTAssertTrue(e.message.contains("the request ended while the script was waiting"), e.message)
        XCTAssertEqual(host.runTicks(), 1, "the pending tick finds nothing to resume")
        // The VM serves the next request.
        try check("h:logInfo('next')")
        XCTAssertEqual(host.logs.last?.1, "next")
    }

    /// How long one slice keeps the loop, per kind of work, in this (debug) build: the CPU
    /// time of the longest slice, so that other processes on a busy machine do not count.
    /// docs/lua-api.md has the figures of an optimized build.
    func testOneSliceStallsTheLoopForAShortTime() throws {
        let workloads = [
            ("tight loop", "while true do end"),
            ("arithmetic and tables", "local t = {} local i = 0 while true do i = i + 1 t[i % 1000 + 1] = i * 2 end"),
            ("gsub", "local s = string.rep('a b c ', 20000) while true do s:gsub('%s', '') end"),
            ("plain find", "local s = string.rep('a', 100000) while true do s:find('b') end"),
            ("string.rep and ..", "local s = string.rep('x', 1 << 16) while true do local t = s .. s .. string.rep('y', 1 << 16) end"),
            ("table.concat", "local t = {} for i = 1, 10000 do t[i] = 'item' .. i end while true do table.concat(t, ',') end"),
        ]
        var report: [String] = []
        for (name, body) in workloads {
            vm = try LuaVM(limits: LuaLimits(instructionBudget: 10_000_000, memoryBytes: 64 << 20))
            let script = try load("function on_request(h)\n  \(body)\nend", name: "w")
            var outcome: LuaPhaseOutcome?
            var longest = 0.0
            var slices = 1
            let stream = keep(LuaHTTPStream(vm: vm, host: host))
            longest = threadCPUTime { stream.run(script, phase: .request) { outcome = $0 } }
            while !host.pendingTicks.isEmpty, slices < 10_000 {
                let tick = host.pendingTicks.removeFirst()
                longest = max(longest, threadCPUTime(tick))
                slices += 1
            }
            XCTAssertTrue(try XCTUnwrap(failure(outcome)).message.contains("instruction budget exceeded"), name)
            XCTAssertGreaterThan(slices, 10, name)
            report.append("\(name): \(slices) slices, the longest \(String(format: "%.1f", longest * 1000)) ms of CPU")
            // 20 ms in an optimized build; the C shims run unoptimized here.
            XCTAssertLessThan(longest, 0.040, name)
        }
        print("slice stalls (budget 10,000,000, slice \(LuaLimits.defaultInstructionSlice)):\n  "
            + report.joined(separator: "\n  "))
    }

    private func threadCPUTime(_ work: () -> Void) -> Double {
        var start = timespec()
        var end = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &start)
        work()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &end)
        return Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
    }

    // MARK: The coroutine pool

    func testThePoolKeepsAtMostItsCapAfterABurstAndLuaMemoryComesBackDown() throws {
        vm = try LuaVM(limits: LuaLimits(instructionBudget: 1_000_000, memoryBytes: 64 << 20, maxIdleCoroutines: 16))
        host.httpCallMode = .deferred
        let script = try load("""
            function on_request(h)
              local scratch = {}
              for i = 1, 100 do scratch[i] = i end
              h:httpCall('c', {[':method'] = 'GET', [':path'] = '/', [':authority'] = 'a'}, '', 1000)
            end
            """)
        collectGarbage()
        let baseline = vm.memoryInUse
        // 500 phases at once, each holding its coroutine while its httpCall waits.
        var outcomes: [LuaPhaseOutcome?] = Array(repeating: nil, count: 500)
        for i in 0..<500 {
            let stream = LuaHTTPStream(vm: vm, host: host)
            streams.append(stream)
            stream.run(script, phase: .request) { outcomes[i] = $0 }
        }
        XCTAssertEqual(host.pendingHTTPCalls.count, 500)
        collectGarbage()
        let peak = vm.memoryInUse
        for deliver in host.pendingHTTPCalls { deliver() }
        host.pendingHTTPCalls.removeAll()
        XCTAssertTrue(outcomes.allSatisfy { if case .completed = $0 { true } else { false } })
        XCTAssertEqual(vm.idleCoroutines.count, 16)
        streams.removeAll()
        collectGarbage()
        let after = vm.memoryInUse
        print("coroutine pool: Lua memory \(baseline) before the burst, \(peak) at its peak, \(after) after")
        XCTAssertGreaterThan(peak - baseline, 500 * 1000, "each waiting phase holds a coroutine and its stack")
        XCTAssertLessThan(after - baseline, (peak - baseline) / 10, "the coroutines beyond the cap were collected")
        // And the kept ones serve the next requests.
        host.httpCallMode = .immediate
        assertCompleted(run(script))
        XCTAssertEqual(vm.idleCoroutines.count, 16)
    }

    private func collectGarbage() {
        vm.collectGarbage()
    }
}
