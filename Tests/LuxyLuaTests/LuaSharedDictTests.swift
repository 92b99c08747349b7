import Dispatch
import Foundation
import LuxyConfig
import NIOConcurrencyHelpers
import XCTest

@testable import LuxyLua

/// A clock tests move by hand, for TTLs.
final class ManualClock: Sendable {
    private let nanoseconds = NIOLockedValueBox<UInt64>(1_000_000_000)
    func now() -> UInt64 { nanoseconds.withLockedValue { $0 } }
    func advance(seconds: Double) { nanoseconds.withLockedValue { $0 += UInt64(seconds * 1e9) } }
}

final class LuaSharedDictTests: LuaTestCase {
    private let clock = ManualClock()
    private var platform: LuaPlatform!

    override func setUp() {
        super.setUp()
        let clock = self.clock
        platform = LuaPlatform(clock: { clock.now() })
        vm = try! LuaVM(limits: LuaLimits(instructionBudget: 1_000_000, memoryBytes: 16 << 20), platform: platform)
    }

    func testOperationsFollowOpenRestySemantics() throws {
        try check("""
            local d = luxy.shared("ops")
            assert(d:get("a") == nil)
            local ok, err, forcible = d:set("a", "x")
            assert(ok == true and err == nil and forcible == false)
            assert(d:get("a") == "x")
            local added, why = d:add("a", "y")
            assert(added == false and why == "exists", tostring(why))
            assert(d:add("b", 1) == true)
            assert(d:incr("b", 2) == 3)
            assert(math.type(d:incr("b", 0.5)) == "float")
            local v, e = d:incr("missing", 1)
            assert(v == nil and e == "not found")
            assert(d:incr("counter", 1, 10) == 11)
            local nv, ne = d:incr("a", 1)
            assert(nv == nil and ne == "not a number")
            assert(d:cas("a", "x", "z") == true and d:get("a") == "z")
            local swapped, current = d:cas("a", "x", "w")
            assert(swapped == false and current == "z")
            assert(d:cas("fresh", nil, true) == true and d:get("fresh") == true)
            d:delete("a")
            assert(d:get("a") == nil)
            d:set("b", nil)
            assert(d:get("b") == nil)
            local keys = d:keys(0)
            table.sort(keys)
            assert(#keys == 2 and keys[1] == "counter" and keys[2] == "fresh", table.concat(keys, ","))
            assert(#d:keys(1) == 1)
            assert(not pcall(d.set, d, "t", {}), "tables cannot be shared")
            assert(not pcall(function() luxy.shared = nil end), "the luxy table is read-only")
            assert(luxy.shared("ops"):get("counter") == 11, "the same name is the same dictionary")
            """)
    }

    func testBadArgumentsNameTheScriptLine() throws {
        let script = try load("function on_request(h)\n  luxy.shared('x'):set({}, 1)\nend")
        let error = failure(run(script))
        XCTAssertTrue(error?.message.hasPrefix("plugins/test.lua:2: set: the key must be a string") == true,
                      error?.message ?? "")
    }

    func testValuesExpireAfterTheirTTL() throws {
        let script = try load("""
            local d = luxy.shared("ttl")
            function on_request(h)
              if h:headers():get("x-step") == "set" then
                d:set("short", "v", 5)
                d:set("long", "v", 60)
                d:set("forever", "v")
                assert(d:incr("n", 1, 0, 5) == 1)
              else
                h:logInfo(tostring(d:get("short")) .. tostring(d:get("long")) .. tostring(d:get("forever"))
                          .. tostring(d:get("n")) .. #d:keys(0))
              end
            end
            """)
        host.requestHeaders.add("x-step", "set")
        assertCompleted(run(script))
        host.requestHeaders.remove("x-step")
        clock.advance(seconds: 4.9)
        assertCompleted(run(script))
        clock.advance(seconds: 0.2)
        assertCompleted(run(script))
        XCTAssertEqual(host.logs.map(\.1), ["vvv14", "nilvvnil2"])
        XCTAssertEqual(platform.sharedDictStatistics().first?.expirations, 2)
    }

    func testLeastRecentlyUsedEntriesGoAtTheEntryAndByteBounds() throws {
        platform.configureSharedDicts(["small": LuaSharedDictCapacity(maxEntries: 3, maxBytes: 1000),
                                       "bytes": LuaSharedDictCapacity(maxEntries: 100, maxBytes: 30)])
        try check("""
            local d = luxy.shared("small")
            d:set("a", 1); d:set("b", 2); d:set("c", 3)
            assert(d:get("a") == 1)          -- a is now the most recently used
            local ok, err, forcible = d:set("d", 4)
            assert(ok and forcible == true, "an entry was evicted")
            assert(d:get("b") == nil and d:get("a") == 1 and d:get("c") == 3 and d:get("d") == 4)

            local bytes = luxy.shared("bytes")
            assert(bytes:set("k1", string.rep("x", 10)))   -- 12 bytes
            assert(bytes:set("k2", string.rep("x", 10)))   -- 24 bytes
            assert(select(3, bytes:set("k3", string.rep("x", 10))) == true)
            assert(bytes:get("k1") == nil and bytes:get("k2") ~= nil and bytes:get("k3") ~= nil)
            local fits, why = bytes:set("huge", string.rep("x", 100))
            assert(fits == false and why == "no memory")
            """)
        let stats = Dictionary(uniqueKeysWithValues: platform.sharedDictStatistics().map { ($0.name, $0) })
        XCTAssertEqual(stats["small"]?.evictions, 1)
        XCTAssertEqual(stats["small"]?.entries, 3)
        XCTAssertEqual(stats["bytes"]?.evictions, 1)
        XCTAssertEqual(stats["bytes"]?.bytes, 24)
    }

    /// Two VMs on two threads, as two event loops' VMs are, add to one key 100,000 times in all.
    func testTwoWorkersIncrementingOneKeyLoseNoUpdate() throws {
        let platform = LuaPlatform()
        let perWorker = 50_000
        let source = """
            local d = luxy.shared("hits")
            for i = 1, \(perWorker) do d:incr("n", 1, 0) end
            """
        let failures = NIOLockedValueBox<[String]>([])
        let started = DispatchTime.now().uptimeNanoseconds
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            do {
                let vm = try LuaVM(limits: LuaLimits(instructionBudget: 100_000_000, memoryBytes: 16 << 20),
                                   platform: platform)
                defer { vm.close() }
                _ = try vm.loadScript(name: "w\(worker)", chunkName: "plugins/w\(worker).lua", source: source,
                                      config: .null)
            } catch {
                failures.withLockedValue { $0.append("\(error)") }
            }
        }
        let elapsed = DispatchTime.now().uptimeNanoseconds - started
        XCTAssertEqual(failures.withLockedValue { $0 }, [])
        XCTAssertEqual(platform.sharedDict(named: "hits").get("n"), .integer(2 * perWorker))
        // The same loop on one worker, for comparison: what contention adds.
        let alone = try LuaVM(limits: LuaLimits(instructionBudget: 100_000_000, memoryBytes: 16 << 20), platform: platform)
        defer { alone.close() }
        let aloneStarted = DispatchTime.now().uptimeNanoseconds
        _ = try alone.loadScript(name: "alone", chunkName: "plugins/alone.lua", source: source, config: .null)
        let aloneElapsed = DispatchTime.now().uptimeNanoseconds - aloneStarted
        XCTAssertEqual(platform.sharedDict(named: "hits").get("n"), .integer(3 * perWorker),
                       "the two workers' 100,000 and the lone worker's 50,000")
        // Wall time per incr with both workers at it (Lua call, lock, table update), for the docs.
        print("luxy.shared incr under two workers: \(elapsed / UInt64(perWorker)) ns per call in each worker; \(aloneElapsed / UInt64(perWorker)) ns alone")
    }
}
