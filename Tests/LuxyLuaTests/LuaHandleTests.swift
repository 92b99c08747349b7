import LuxyConfig
import XCTest

@testable import LuxyLua

final class LuaHandleTests: LuaTestCase {
    func testHeadersGet() throws {
        try check("""
            local hs = h:headers()
            assert(hs:get(':path') == '/items')
            assert(hs:get('X-Multi') == 'a,b', tostring(hs:get('x-multi')))
            assert(hs:get('absent') == nil)
            """)
    }

    func testHeadersGetNumValuesAndGetAtIndex() throws {
        try check("""
            local hs = h:headers()
            assert(math.type(hs:getNumValues('x-multi')) == 'integer' and hs:getNumValues('x-multi') == 2)
            assert(hs:getNumValues('absent') == 0)
            assert(hs:getAtIndex('x-multi', 0) == 'a' and hs:getAtIndex('x-multi', 1) == 'b')
            assert(hs:getAtIndex('x-multi', 2) == nil and hs:getAtIndex('x-multi', -1) == nil)
            """)
    }

    func testHeadersAddReplaceRemove() throws {
        try check("""
            local hs = h:headers()
            hs:add('x-new', 'v1')
            hs:add('x-new', 'v2')
            hs:replace('x-multi', 'only')
            hs:remove('content-type')
            hs:replace('x-fresh', 'f')
            hs:setHttp1ReasonPhrase('Fine')
            """)
        let list = host.requestHeaders.list
        XCTAssertEqual(host.requestHeaders.values("x-new"), ["v1", "v2"])
        XCTAssertEqual(host.requestHeaders.values("x-multi"), ["only"])
        XCTAssertEqual(host.requestHeaders.values("x-fresh"), ["f"])
        XCTAssertFalse(list.contains { $0.0 == "content-type" })
    }

    func testHeadersIteration() throws {
        try check("""
            local seen = {}
            for k, v in pairs(h:headers()) do seen[#seen + 1] = k .. '=' .. v end
            assert(table.concat(seen, ';') == ':method=GET;:path=/items;:authority=svc;x-multi=a;x-multi=b;content-type=text/plain',
                   table.concat(seen, ';'))
            """)
    }

    func testResponseHeadersInResponsePhase() throws {
        try check("""
            assert(h:headers():get(':status') == '200')
            h:headers():add('x-resp', '1')
            """, phase: .response)
        XCTAssertEqual(host.responseHeaders.values("x-resp"), ["1"])
    }

    func testBodyLengthGetBytesSetBytes() throws {
        try check("""
            local b = h:body()
            assert(tostring(b:length()) == '5', tostring(b:length()))
            assert(b:getBytes(0, 5) == 'hello')
            assert(b:getBytes(1, 3) == 'ell')
            assert(b:getBytes(3, 2) == 'lo')
            assert(not pcall(b.getBytes, b, 3, 100), 'past the end raises, as in Envoy')
            assert(not pcall(b.getBytes, b, 10, 2))
            assert(not pcall(b.getBytes, b, -1, 2))
            local n = b:setBytes('bye')
            assert(math.type(n) == 'integer' and n == 3)
            assert(h:body():length() == 3 and h:body():getBytes(0, 3) == 'bye')
            assert(h:body(true):length() == 3)
            """)
        XCTAssertEqual(host.setBodies.count, 1)
        XCTAssertEqual(host.setBodies.first?.0, .request)
        XCTAssertEqual(host.requestBody, Array("bye".utf8))
    }

    func testBodyIsNilWithoutBody() throws {
        host.requestBody = nil
        try check("assert(h:body() == nil)")
    }

    func testBodyWaitsForTheHost() throws {
        host.bodyMode = .deferred
        let script = try load("function on_request(h) h:logInfo('len ' .. h:body():length()) end")
        var outcome: LuaPhaseOutcome?
        let stream = LuaHTTPStream(vm: vm, host: host)
        stream.run(script, phase: .request) { outcome = $0 }
        XCTAssertNil(outcome)
        XCTAssertEqual(host.pendingBodies.count, 1)
        host.pendingBodies.removeFirst()()
        assertCompleted(outcome)
        XCTAssertEqual(host.logs.map(\.1), ["len 5"])
    }

    func testBodyFailureRaises() throws {
        host.bodyFailure = "body too large"
        let script = try load("function on_request(h)\n  h:body()\nend")
        let e = try XCTUnwrap(failure(run(script)))
        XCTAssertEqual(e.message, "plugins/test.lua:2: body too large")
        XCTAssertEqual(e.line, 2)
    }

    func testBodyChunks() throws {
        try check("""
            local parts = {}
            for chunk in h:bodyChunks() do parts[#parts + 1] = chunk:getBytes(0, chunk:length()) end
            assert(#parts == 1 and parts[1] == 'hello', #parts)
            """)
        host.bodyMode = .deferred
        host.responseBody = nil
        let script = try load("function on_response(h) local n = 0 for c in h:bodyChunks() do n = n + 1 end h:logInfo('n ' .. n) end",
                              name: "chunks")
        var outcome: LuaPhaseOutcome?
        LuaHTTPStream(vm: vm, host: host).run(script, phase: .response) { outcome = $0 }
        XCTAssertNil(outcome)
        host.pendingBodies.removeFirst()()
        assertCompleted(outcome)
        XCTAssertEqual(host.logs.map(\.1), ["n 0"])
    }

    func testTrailers() throws {
        try check("assert(h:trailers() == nil)")
        host.requestTrailers = FakeHeaderMap([("grpc-status", "0")])
        try check("""
            local t = h:trailers()
            assert(t:get('grpc-status') == '0')
            t:add('x-t', '1')
            """)
        XCTAssertEqual(host.requestTrailers?.values("x-t"), ["1"])
    }

    func testMetadata() throws {
        try check("""
            local md = h:metadata()
            assert(md:get('team') == 'edge')
            assert(md:get('limits').rps == 10 and math.type(md:get('limits').rps) == 'integer')
            assert(md:get('limits').burst[2] == 2.5)
            assert(md:get('absent') == nil)
            local keys = {}
            for k, v in pairs(md) do keys[#keys + 1] = k end
            assert(table.concat(keys, ',') == 'team,limits')
            """)
    }

    func testStreamInfoAndConnection() throws {
        try check("""
            local si = h:streamInfo()
            assert(si:protocol() == 'HTTP/2')
            assert(si:downstreamLocalAddress() == '10.0.0.1:8080')
            assert(si:downstreamRemoteAddress() == '10.0.0.2:5555')
            assert(si:downstreamDirectRemoteAddress() == '10.0.0.2:5555')
            assert(si:requestedServerName() == 'svc.local')
            assert(h:connection():ssl() == nil)
            """)
    }

    func testDynamicMetadataGetSetPairs() throws {
        try check("""
            local dm = h:streamInfo():dynamicMetadata()
            assert(dm:get('f') == nil)
            dm:set('f', 'k', 'v')
            dm:set('f', 'n', 3)
            dm:set('g', 'x', {1, 2})
            assert(dm:get('f').k == 'v' and dm:get('f').n == 3 and dm:get('g').x[2] == 2)
            local names = {}
            for name, t in pairs(dm) do names[#names + 1] = name; assert(type(t) == 'table') end
            table.sort(names)
            assert(table.concat(names, ',') == 'f,g')
            """)
    }

    func testLogLevels() throws {
        try check("h:logTrace('t') h:logDebug('d') h:logInfo('i') h:logWarn('w') h:logErr('e') h:logCritical('c') h:logInfo(42)")
        XCTAssertEqual(host.logs.map(\.0), [.trace, .debug, .info, .warn, .error, .critical, .info])
        XCTAssertEqual(host.logs.map(\.1), ["t", "d", "i", "w", "e", "c", "42"])
    }

    func testBase64AndTimestamps() throws {
        try check("""
            assert(h:base64Escape('hello') == 'aGVsbG8=')
            assert(h:base64Escape('') == '')
            assert(h:base64Escape('\\0\\255\\1') == 'AP8B')
            local ts = h:timestamp()
            assert(math.type(ts) == 'integer' and ts > 1600000000000, tostring(ts))
            assert(h:timestamp(EnvoyTimestampResolution.MILLISECOND) >= ts)
            local s = h:timestampString()
            assert(s:match('^%d+$') and #s == 13, s)
            assert(#h:timestampString(EnvoyTimestampResolution.MICROSECOND) == 16)
            """)
    }

    func testLuxyAdditions() throws {
        try check("""
            assert(h:route() == 'items-route')
            assert(h:service() == 'items')
            assert(h:cluster() == 'items-cluster')
            assert(h:upstream() == '10.1.1.1:9000')
            assert(h:direction() == 'inbound')
            assert(h:isHTTP2() == true)
            assert(h:protocol() == 'HTTP/2')
            """)
        host.upstreamTarget = nil
        host.routeName = nil
        host.streamInfo.protocolName = "HTTP/1.1"
        try check("assert(h:upstream() == nil and h:route() == nil and h:isHTTP2() == false)")
    }

    func testCountsAreIntegers() throws {
        try check("""
            assert(tostring(h:body():length()) == '5')
            assert(tostring(h:headers():getNumValues('x-multi')) == '2')
            assert(tostring(h:body():setBytes('abcd')) == '4')
            """)
    }

    func testBadSelfAndBadArguments() throws {
        let script = try load("function on_request(h)\n  h.headers()\nend")
        let e = try XCTUnwrap(failure(run(script)))
        XCTAssertTrue(e.message.hasPrefix("plugins/test.lua:2: calling 'headers' on bad self"), e.message)
        try check("""
            local ok, err = pcall(h.headers(h).get, h:headers(), nil)
            assert(not ok and err:find("bad argument #1 to 'get'"), err)
            -- headers() is the handle itself; requestHeaders() is a map of its own, no handle.
            local ok2, err2 = pcall(h.body, h:requestHeaders())
            assert(not ok2 and err2:find('bad self'), err2)
            assert(rawequal(h:headers(), h) and rawequal(h:streamInfo(), h))
            assert(getmetatable(h) == false)
            """)
    }
}
