import LuxyConfig
import XCTest

@testable import LuxyLua

/// `luxy.queue` between two VMs of one platform, as two loops' VMs are: each item enqueued
/// reaches the one consumer once; a full queue refuses and counts; the newest VM consumes.
final class LuaSharedQueueHostTests: XCTestCase {
    private let limits = LuaLimits(instructionBudget: 1_000_000, memoryBytes: 16 << 20)

    private func makeVM(_ platform: LuaPlatform, _ name: String, consumer: Bool) throws -> LuaVM {
        let vm = try LuaVM(limits: limits, platform: platform)
        _ = try vm.loadScript(name: name, chunkName: "plugins/\(name).lua", source: """
            local q = luxy.queue("work", {max_length = 3})
            local seen = luxy.shared("seen")
            \(consumer ? """
            q:consume(function()
              for item in function() return q:dequeue() end do seen:incr(item, 1, 0) end
              seen:incr("wakeups_\(name)", 1, 0)
            end)
            """ : "")
            function on_request(h) end
            """, config: .null)
        return vm
    }

    func testEveryItemReachesTheNewestConsumerOnceAndAFullQueueRefuses() throws {
        let platform = LuaPlatform()
        let older = try makeVM(platform, "older", consumer: true)
        let newer = try makeVM(platform, "newer", consumer: true)
        defer { older.close(); newer.close() }
        let olderHost = FakeBackgroundHost()
        let newerHost = FakeBackgroundHost()
        older.startBackgroundWork(host: olderHost)
        newer.startBackgroundWork(host: newerHost)
        let queue = platform.sharedQueue(named: "work", maxLength: nil)

        XCTAssertTrue(queue.enqueue(.string(Array("a".utf8))))
        XCTAssertTrue(queue.enqueue(.string(Array("b".utf8))))
        XCTAssertTrue(queue.enqueue(.string(Array("c".utf8))))
        XCTAssertFalse(queue.enqueue(.string(Array("d".utf8))), "max_length 3")
        olderHost.runWoken()
        newerHost.runWoken()
        XCTAssertTrue(queue.enqueue(.string(Array("e".utf8))))
        newerHost.runWoken()

        let seen = platform.sharedDict(named: "seen")
        for item in ["a", "b", "c", "e"] { XCTAssertEqual(seen.get(item), .integer(1), item) }
        XCTAssertNil(seen.get("d"))
        XCTAssertNil(seen.get("wakeups_older"), "the VM that registered last consumes")
        XCTAssertEqual(seen.get("wakeups_newer"), .integer(2))
        XCTAssertEqual(queue.statistics.rejected, 1)

        // The newer one retires: the older one does not take over by itself.
        newer.stopBackgroundWork()
        XCTAssertTrue(queue.enqueue(.string(Array("f".utf8))))
        olderHost.runWoken()
        newerHost.runWoken()
        XCTAssertNil(seen.get("f"))
        XCTAssertEqual(queue.length, 1)
    }
}
