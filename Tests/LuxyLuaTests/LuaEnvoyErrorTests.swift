import LuxyConfig
import XCTest

@testable import LuxyLua

/// Envoy's argument checks and error texts, as a script probing with `pcall` sees them. Each
/// expected message is Envoy's (`lua_filter.cc`, `wrappers.cc`), so the same script behaves the
/// same under both proxies.
final class LuaEnvoyErrorTests: LuaTestCase {
    private let pseudo = "{[':method'] = 'GET', [':path'] = '/', [':authority'] = 'c'}"

    /// Runs `call` (a Lua expression) under pcall and asserts it raised `message`.
    private func assertRaises(_ call: String, _ message: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try check("""
            local ok, err = pcall(function() return \(call) end)
            assert(not ok, 'expected an error')
            assert(err:find([==[\(message)]==], 1, true), err)
            """, file: file, line: line)
    }

    func testHTTPCallChecks() throws {
        host.knownClusters = ["c"]
        try assertRaises("h:httpCall('missing', \(pseudo), nil, 100)", "http call cluster invalid. Must be configured")
        try assertRaises("h:httpCall('c', {[':path'] = '/'}, nil, 100)",
                         "http call headers must include ':path', ':method', and ':authority'")
        try assertRaises("h:httpCall('c', \(pseudo), nil, 100, 'yes')",
                         "http call asynchronous flag must be 'true', 'false', or empty")
        try assertRaises("h:httpCall('c', \(pseudo), nil, -1)", "http call timeout must be >= 0")
        try assertRaises("h:httpCall('c', \(pseudo), nil, {timeout_ms = -1})", "http call timeout must be >= 0")
        try assertRaises("h:httpCall('c', \(pseudo), nil, {bogus = 1})", "\"bogus\" is not valid key for httpCall() options")
        XCTAssertTrue(host.httpCalls.isEmpty, "no refused call was made")
    }

    func testHTTPCallWithoutATimeoutHasNone() throws {
        try check("""
            h:httpCall('c', \(pseudo), nil, 0)
            h:httpCall('c', \(pseudo), nil, {asynchronous = false})
            """)
        // Zero reaches the host as "none of its own" (the cluster's request timeout bounds it).
        XCTAssertEqual(host.httpCalls.map(\.timeout), [0, 0])
    }

    func testRespondChecks() throws {
        try assertRaises("h:respond({[':status'] = '99'}, 'x')", ":status must be between 200-599")
        try assertRaises("h:respond({['x-a'] = '1'}, 'x')", ":status must be between 200-599")
        let script = try load("""
            function envoy_on_response(h)
              local ok, err = pcall(h.respond, h, {[':status'] = '200'}, 'x')
              assert(not ok and err:find('respond not currently supported in the response path', 1, true), err)
            end
            """)
        assertCompleted(run(script, .response))
    }

    /// Envoy's `ModifyDuringIteration` / `ModifyAfterIteration` (lua_filter's wrappers_test.cc).
    func testHeadersCannotChangeWhileAPairsLoopIsOpen() throws {
        let message = "header map cannot be modified while iterating"
        for (index, change) in ["m:add('x-a', '1')", "m:replace('x-a', '1')", "m:remove('x-a')", "m:setHttp1ReasonPhrase('Fine')"].enumerated() {
            try check("""
                local m = h:headers()
                local ok, err
                for k, v in pairs(m) do ok, err = pcall(function() \(change) end) end
                assert(not ok and err:find('\(message)', 1, true), tostring(err))
                -- The loop ran to its end: the map can change again.
                m:add('x-after-\(index)', '1')
                assert(m:get('x-after-\(index)') == '1')
                """)
        }
    }

    func testABrokenLoopKeepsTheMapLockedUntilThePhaseEnds() throws {
        try check("""
            local m = h:headers()
            for k in pairs(m) do break end
            local ok, err = pcall(m.add, m, 'x-a', '1')
            assert(not ok and err:find('header map cannot be modified while iterating', 1, true), tostring(err))
            ok, err = pcall(pairs, m)
            assert(not ok and err:find('cannot create a second iterator before completing the first', 1, true), tostring(err))
            -- Another headers() object is the same map, as in Envoy.
            ok = pcall(function() h:headers():replace('x-a', '1') end)
            assert(not ok)
            """)
        // The next phase starts unlocked.
        try check("h:headers():add('x-b', '1')", phase: .response)
    }

    func testTimestampResolutions() throws {
        try check("""
            assert(type(h:timestamp()) == 'number')
            assert(h:timestamp(EnvoyTimestampResolution.MILLISECOND) > 1e12)
            assert(#h:timestampString(EnvoyTimestampResolution.MICROSECOND) >= 16)
            assert(#h:timestampString() == 13)
            """)
        try assertRaises("h:timestamp(EnvoyTimestampResolution.MICROSECOND)", "timestamp format must be MILLISECOND.")
        try assertRaises("h:timestampString(7)", "timestamp format must be MILLISECOND or MICROSECOND.")
    }

    func testGetBytesOutOfRangeRaises() throws {
        try check("""
            local body = h:body()
            assert(body:getBytes(0, 5) == 'hello' and body:getBytes(5, 0) == '')
            """)
        let message = "index/length must be >= 0 and (index + length) must be <= buffer size"
        try assertRaises("h:body():getBytes(3, 3)", message)
        try assertRaises("h:body():getBytes(-1, 1)", message)
        try assertRaises("h:body():getBytes(6, 0)", message)
    }

    func testDynamicMetadataHoldsCopiesOfPlainValues() throws {
        try check("""
            local meta = h:streamInfo():dynamicMetadata()
            local t = {user = 'a', roles = {'x', 'y'}, nested = {deep = true}}
            meta:set('auth', 'claims', t)
            t.user = 'changed'
            local got = meta:get('auth')
            assert(got.claims.user == 'a', 'set() keeps a copy')
            got.claims.user = 'mutated'
            assert(meta:get('auth').claims.user == 'a', 'get() hands out a copy')
            assert(meta:get('auth').claims.roles[2] == 'y' and meta:get('auth').claims.nested.deep == true)
            """)
        try assertRaises("h:streamInfo():dynamicMetadata():set('f', 'k', function() end)",
                         "unexpected type 'function' in dynamicMetadata")
        try assertRaises("h:streamInfo():dynamicMetadata():set('f', 'k', {1, 2, x = 3})",
                         "either a list or a map, not both")
    }

    func testSetHTTP1ReasonPhraseReachesTheResponseHeaders() throws {
        let script = try load("function envoy_on_response(h) h:headers():setHttp1ReasonPhrase('Very OK') end")
        assertCompleted(run(script, .response))
        XCTAssertEqual(host.responseHeaders.reasonPhrase, "Very OK")
    }
}
