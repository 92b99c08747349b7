import Foundation
import LuxyLua
import LuxyTestSupport
import NIOPosix
import XCTest

/// `luxy.queue` on a real proxy with two loops: every VM enqueues, one consumer takes each
/// item exactly once; a full queue refuses and counts.
final class LuaSharedQueueTests: IntegrationTestCase {
    func testItemsFromBothLoopsReachOneConsumerExactlyOnce() async throws {
        let plugin = LuaPlugin("producer", """
            local ids = luxy.shared("ids")
            local seen = luxy.shared("seen")
            -- Each VM (one per loop) numbers itself when its top-level code runs.
            local vm = ids:incr("vms", 1, 0)
            local q = luxy.queue("work", {max_length = 1000})
            q:consume(function()
              while true do
                local item = q:dequeue()
                if item == nil then break end
                seen:incr(item, 1, 0)
                seen:incr("consumed_by_" .. vm, 1, 0)
              end
            end)
            local tiny = luxy.queue("tiny", {max_length = 2})
            function on_request(h)
              local path = h:headers():get(":path")
              assert(q:enqueue(vm .. path))
              h:respond({[":status"] = "200", ["x-vm"] = tostring(vm),
                         ["x-tiny"] = tostring(tiny:enqueue(path))}, "")
            end
            """)
        let proxy = try await startLuaProxy([plugin], workers: 2)
        // Clients on a group of their own: on the proxy's group they would take every other
        // loop from its round robin, leaving the accepted connections all on the same loop.
        let clients = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let port = await proxy.port("inbound")
        var vms = Set<String>()
        var tinyAnswers: [String] = []
        for i in 0..<20 {
            let connection = try await TestHTTPConnection.connect(port: port, group: clients)
            let response = try await connection.request("GET", "/r\(i)")
            await connection.close()
            vms.insert(response.header("x-vm") ?? "")
            tinyAnswers.append(response.header("x-tiny") ?? "")
        }
        try await clients.shutdownGracefully()
        XCTAssertEqual(vms.count, 2, "requests were served by both loops' VMs")
        XCTAssertEqual(tinyAnswers.filter { $0 == "true" }.count, 2)
        XCTAssertEqual(tinyAnswers.filter { $0 == "false" }.count, 18)

        let seen = proxy.runtime.platform.sharedDict(named: "seen")
        try await eventually("the consumer to take every item") {
            let keys = seen.keys(limit: 0).filter { !$0.hasPrefix("consumed_by_") }
            return keys.count == 20
        }
        for key in seen.keys(limit: 0) where !key.hasPrefix("consumed_by_") {
            XCTAssertEqual(seen.get(key), .integer(1), "\(key) consumed once")
        }
        let consumers = seen.keys(limit: 0).filter { $0.hasPrefix("consumed_by_") }
        XCTAssertEqual(consumers.count, 1, "one consumer for the process: \(consumers)")
        let stats = proxy.runtime.platform.sharedQueueStatistics()
        XCTAssertEqual(stats.first { $0.name == "tiny" }?.rejected, 18)
        XCTAssertEqual(stats.first { $0.name == "work" }?.length, 0)
    }
}
