import LuxyConfig
import XCTest

@testable import LuxyLua

final class LuaTimerTests: LuaTestCase {
    private var background: FakeBackgroundHost!

    override func setUp() {
        super.setUp()
        background = FakeBackgroundHost()
    }

    private func count(_ key: String) -> LuaSharedValue? {
        vm.luxyState.platform.sharedDict(named: "t").get(key)
    }

    func testATimerRunsRepeatedlyOnlyOnceStartedAndStopsWhenItsGenerationRetires() throws {
        _ = try load("""
            local t = luxy.shared("t")
            luxy.timer.every(0.5, function() t:incr("every", 1, 0) end)
            luxy.timer.after(0.25, function() t:incr("after", 1, 0) end)
            """)
        XCTAssertTrue(background.scheduled.isEmpty)
        vm.startBackgroundWork(host: background)
        XCTAssertEqual(background.scheduled.map(\.seconds), [0.5, 0.25])
        for _ in 0..<3 { background.fireDue() }
        XCTAssertEqual(count("every"), .integer(3))
        XCTAssertEqual(count("after"), .integer(1), "after runs once")
        vm.stopBackgroundWork()
        background.fireDue()
        XCTAssertEqual(count("every"), .integer(3), "a retired generation's timer does not run")
    }

    /// A script loaded into a VM whose background work runs already (a `luxy test` file's VM,
    /// which takes plugins one after another) has its timer start as it loads.
    func testATimerMadeWhileBackgroundWorkRunsStartsAsItsScriptLoads() throws {
        vm.startBackgroundWork(host: background)
        _ = try load("""
            local t = luxy.shared("t")
            luxy.timer.every(2, function() t:incr("late", 1, 0) end)
            """)
        XCTAssertEqual(background.scheduled.map(\.seconds), [2])
        background.fireDue()
        XCTAssertEqual(count("late"), .integer(1))
    }

    func testAnErrorIsLoggedWithItsLineAndTheTimerGoesOnUnlessToldToStop() throws {
        _ = try load("""
            local t = luxy.shared("t")
            luxy.timer.every(1, function()
              t:incr("runs", 1, 0)
              error("boom")
            end)
            luxy.timer.every(1, function() t:incr("stopping", 1, 0); error("once") end, {stop_on_error = true})
            """)
        vm.startBackgroundWork(host: background)
        for _ in 0..<3 { background.fireDue() }
        XCTAssertEqual(count("runs"), .integer(3))
        XCTAssertEqual(count("stopping"), .integer(1))
        XCTAssertTrue(background.logs.contains { $0.contains("plugins/test.lua:4: boom") }, "\(background.logs)")
    }

    func testALoopingCallbackGivesTheLoopBackEverySliceAndFailsOnTheBudget() throws {
        vm = try LuaVM(limits: LuaLimits(instructionBudget: 2_000_000, memoryBytes: 16 << 20, instructionSlice: 100_000))
        _ = try load("""
            luxy.timer.every(1, function() while true do end end)
            """)
        vm.startBackgroundWork(host: background)
        background.scheduled.removeFirst().run()
        XCTAssertFalse(background.pendingTicks.isEmpty, "the callback's slice ended and gave the loop back")
        var slices = 0
        while !background.pendingTicks.isEmpty {
            background.pendingTicks.removeFirst()()
            slices += 1
        }
        XCTAssertGreaterThan(slices, 10)
        XCTAssertTrue(background.logs.contains { $0.contains("instruction budget exceeded") }, "\(background.logs)")
        XCTAssertEqual(background.scheduled.count, 1, "the timer was scheduled again")
    }

    func testTimersAreMadeAtTopLevelOnly() throws {
        let script = try load("function on_request(h) luxy.timer.after(1, function() end) end")
        let error = failure(run(script))
        XCTAssertTrue(error?.message.contains("timers are made by a script's top-level code") == true,
                      error?.message ?? "")
        XCTAssertThrowsError(try load("luxy.timer.every(0, function() end)", name: "zero"))
    }

    func testACallbackWaitsForHTTPCallAndCancelStopsTheTimer() throws {
        _ = try load("""
            local t = luxy.shared("t")
            local timer
            timer = luxy.timer.every(1, function()
              local headers = luxy.httpCall("collector", {[":method"] = "POST", [":path"] = "/v1", [":authority"] = "c"},
                                            "batch", 1000)
              t:set("status", headers[":status"])
              luxy.httpCall("collector", {[":method"] = "POST", [":path"] = "/v1", [":authority"] = "c"}, "async",
                            {asynchronous = true})
              timer:cancel()
            end)
            """)
        vm.startBackgroundWork(host: background)
        background.fireDue()
        XCTAssertEqual(count("status"), .string(Array("202".utf8)))
        XCTAssertEqual(background.calls, ["collector batch", "collector async"])
        XCTAssertTrue(background.scheduled.isEmpty, "cancelled from its own callback")
        let phase = try load("function on_request(h) luxy.httpCall('collector', {}, '', 10) end", name: "phase")
        XCTAssertTrue(failure(run(phase))?.message.contains("in a phase, use handle:httpCall") == true)
    }

    func testLuxyLogTakesEveryLevelNameAndRefusesOthers() throws {
        vm.startBackgroundWork(host: background)
        _ = try load("""
            for _, level in ipairs({"trace", "debug", "info", "warn", "err", "error", "critical"}) do
              luxy.log(level, level)
            end
            """)
        XCTAssertEqual(background.logs, [
            "trace plugins/test.lua: trace", "debug plugins/test.lua: debug", "info plugins/test.lua: info",
            "warn plugins/test.lua: warn", "error plugins/test.lua: err", "error plugins/test.lua: error",
            "critical plugins/test.lua: critical",
        ])
        XCTAssertThrowsError(try load("luxy.log('fatal', 'x')", name: "fatal")) { error in
            XCTAssertTrue("\(error)".contains("the level must be trace, debug, info, warn, err or critical"), "\(error)")
        }
    }
}
