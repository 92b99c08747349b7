import LuxyTestSupport
import NIOCore
import XCTest

/// Envoy's `bodyChunks()`: chunks as they arrive, with backpressure and no buffering limit;
/// the head continues when iteration starts, so headers are fixed and `respond()` raises.
final class LuaBodyChunksTests: IntegrationTestCase {
    /// 100 MB, over any buffering limit, through a script that counts: it sees every byte
    /// in many chunks, the upstream gets all of it, and the process (proxy, client and
    /// upstream, which only counts) grows by far less than the body while it passes.
    func testHundredMegabyteRequestStreamsThroughACountingScript() async throws {
        let script = """
            function on_request(h)
              local chunks, bytes = 0, 0
              for chunk in h:bodyChunks() do
                chunks = chunks + 1
                bytes = bytes + chunk:length()
              end
              h:logInfo("streamed chunks=" .. chunks .. " bytes=" .. bytes .. " many=" .. tostring(chunks > 10))
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("count", script)], limits: "limits:\n  max_buffered_body_bytes: 1048576")
        let client = try await connect(proxy)
        let total = 100 * 1024 * 1024
        let piece = ByteBuffer(repeating: UInt8(ascii: "x"), count: 1024 * 1024)
        let rssBefore = ResidentMemory.bytes()
        var rssPeak = rssBefore
        try await client.send("POST /sink/upload HTTP/1.1\r\nhost: x\r\ncontent-length: \(total)\r\n\r\n")
        for _ in 0..<100 {
            try await client.send(piece)
            rssPeak = max(rssPeak, ResidentMemory.bytes())
        }
        let response = try await client.readResponse(timeout: .seconds(120))
        XCTAssertEqual(response.status, 200, response.body)
        XCTAssertTrue(proxy.logs.contains("streamed chunks="), "\(proxy.logs.all.map(\.line))")
        XCTAssertTrue(proxy.logs.contains("bytes=\(total) many=true"), "\(proxy.logs.all.map(\.line))")
        XCTAssertEqual(try onlyRequest(upstream).bodyByteCount, total)
        let growth = rssPeak - rssBefore
        XCTAssertLessThan(growth, 16 * 1024 * 1024, "RSS grew by \(growth / 1024) KiB while 100 MiB passed")
    }

    func testSetBytesOnAChunkChangesWhatTheUpstreamReceives() async throws {
        let proxy = try await startLuaProxy([LuaPlugin("upper", upperCasingChunks(in: "on_request"))])
        let client = try await connect(proxy)
        let response = try await client.request("POST", "/up", body: "hello world")
        XCTAssertEqual(response.status, 200, response.body)
        XCTAssertEqual(try onlyRequest(upstream).body, "HELLO WORLD")
    }

    /// With fail-open off, the request fails 500 and the log names file:line.
    func testHeadersModifiedAfterStreamingStartedRaises() async throws {
        let script = """
            function on_request(h)
              for chunk in h:bodyChunks() do end
              h:headers():add("x-late", "1")
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("late", script)])
        let client = try await connect(proxy)
        let response = try await client.request("POST", "/late", body: "abc")
        XCTAssertEqual(response.status, 500, response.body)
        XCTAssertTrue(proxy.logs.contains("late.lua:3: header map can no longer be modified"),
                      "\(proxy.logs.all.map(\.line))")
    }

    func testRespondAfterStreamingAndChunkOutOfScopeAndOrderingErrorsRaise() async throws {
        let script = """
            function on_request(h)
              local kept
              for chunk in h:bodyChunks() do
                local okb, eb = pcall(h.body, h)
                h:logInfo("inside: " .. tostring(eb))
                if kept == nil then kept = chunk end
              end
              local ok1, e1 = pcall(h.respond, h, {[":status"] = "403"}, "no")
              local ok2, e2 = pcall(kept.length, kept)
              local ok3, e3 = pcall(h.bodyChunks, h)
              h:logInfo("respond: " .. tostring(e1))
              h:logInfo("kept: " .. tostring(e2))
              h:logInfo("again: " .. tostring(e3))
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("order", script)])
        let client = try await connect(proxy)
        try await client.send("POST /o HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n")
        try await client.send("6\r\n world\r\n0\r\n\r\n")
        let response = try await client.readResponse()
        XCTAssertEqual(response.status, 200, response.body)
        let lines = "\(proxy.logs.all.map(\.line))"
        XCTAssertTrue(proxy.logs.contains("inside: cannot call body() after body streaming has started"), lines)
        XCTAssertTrue(proxy.logs.contains("respond: respond() cannot be called if headers have been continued"), lines)
        XCTAssertTrue(proxy.logs.contains("kept: object used outside of proper scope"), lines)
        XCTAssertTrue(proxy.logs.contains("again: cannot call bodyChunks after body processing has begun"), lines)
    }
}

/// The response phase streams too: chunks of the upstream's body reach the script as they
/// come, and the client gets every byte.
final class LuaResponseBodyChunksTests: IntegrationTestCase {
    /// A small response comes whole in one read, and the exchange has all of it before the
    /// response phase runs: the phase still streams it through `bodyChunks()` (here changing
    /// each chunk) and reads it with `body()`, as it would a response still arriving.
    func testASmallResponseReadWholeStreamsThroughTheResponsePhase() async throws {
        let proxy = try await startLuaProxy([LuaPlugin("upper", upperCasingChunks(in: "on_response"))])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/small")
        XCTAssertEqual(response.status, 200, response.body)
        XCTAssertTrue(response.body.hasPrefix("GET /SMALL\n"), response.body)
    }

    func testASmallResponseReadWholeIsWholeForBody() async throws {
        let measure = """
            function on_response(h)
              h:headers():add("x-body-length", tostring(h:body():length()))
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("measure", measure)])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/small")
        XCTAssertEqual(response.status, 200, response.body)
        XCTAssertTrue(response.body.hasPrefix("GET /small\n"), response.body)
        XCTAssertEqual(response.header("x-body-length"), "\(response.body.utf8.count)")
    }

    func testTwentyMegabyteResponseStreamsThroughACountingScript() async throws {
        let script = """
            function on_response(h)
              local chunks, bytes = 0, 0
              for chunk in h:bodyChunks() do
                chunks = chunks + 1
                bytes = bytes + chunk:length()
              end
              h:logInfo("response chunks=" .. chunks .. " bytes=" .. bytes .. " many=" .. tostring(chunks > 10))
            end
            """
        let proxy = try await startLuaProxy([LuaPlugin("count", script)], limits: "limits:\n  max_buffered_body_bytes: 1048576")
        let client = try await connect(proxy)
        let total = 20 * 1024 * 1024
        try await client.send("GET /bytes/\(total) HTTP/1.1\r\nhost: x\r\n\r\n")
        let response = try await client.readResponse(timeout: .seconds(60))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.body.utf8.count, total, "every byte reaches the client, over the buffering limit")
        try await eventually("the script's count in the log") { proxy.logs.contains("response chunks=") }
        XCTAssertTrue(proxy.logs.contains("bytes=\(total) many=true"), "\(proxy.logs.all.map(\.line))")
    }
}

/// A script that upper-cases each body chunk as it streams through `phase` (`on_request` or
/// `on_response`).
private func upperCasingChunks(in phase: String) -> String {
    """
    function \(phase)(h)
      for chunk in h:bodyChunks() do
        chunk:setBytes(string.upper(chunk:getBytes(0, chunk:length())))
      end
    end
    """
}
