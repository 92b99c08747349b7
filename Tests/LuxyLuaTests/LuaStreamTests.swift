import LuxyConfig
import XCTest

@testable import LuxyLua

final class LuaStreamTests: LuaTestCase {
    func testHTTPCallImmediate() throws {
        try check("""
            local headers, body = h:httpCall('auth', {[':method'] = 'POST', [':path'] = '/check', [':authority'] = 'auth', ['X-Multi'] = {'1', '2'}},
                                             'ping', 250)
            assert(headers[':status'] == '201' and type(headers[':status']) == 'string')
            assert(headers['x-r'] == '2', tostring(headers['x-r']))
            assert(body == 'pong')
            """)
        let call = try XCTUnwrap(host.httpCalls.first)
        XCTAssertEqual(call.cluster, "auth")
        XCTAssertEqual(call.body, Array("ping".utf8))
        XCTAssertEqual(call.timeout, 250)
        XCTAssertFalse(call.async)
        XCTAssertEqual(call.headers.filter { $0.0 == "x-multi" }.map(\.1), ["1", "2"])
        XCTAssertEqual(call.headers.first { $0.0 == ":path" }?.1, "/check")
    }

    /// What decides whether closing a VM must wait for the loop's next tick
    /// (`LuaStageChainFactory`): a host call may end the last request of a retired generation.
    func testTheVMSaysItIsRunningDuringAHostCallAndNotAfter() throws {
        var runningInside: Bool?
        host.whileLogging = { [vm] in runningInside = vm.isRunning }
        try check("h:logInfo('x')")
        XCTAssertEqual(runningInside, true)
        XCTAssertFalse(vm.isRunning)
    }

    /// A generation's VM closed from a host call (its last request ended there: the onClose
    /// of `LuaStageChainFactory`) stays open until the call has unwound: the phase goes on and
    /// ends as it would have, and the VM closes when the deferred close runs.
    func testClosingTheVMFromAHostCallWaitsUntilTheCallHasUnwound() throws {
        var deferredCloses: [() -> Void] = []
        host.whileLogging = { [vm] in vm.close(orLater: { deferredCloses.append($0) }) }
        try check("h:logInfo('x')\nh:headers():add('x-after', 'closing')")
        XCTAssertFalse(vm.isClosed, "the VM was closed under a running host call")
        XCTAssertEqual(host.requestHeaders.values("x-after"), ["closing"])
        XCTAssertEqual(deferredCloses.count, 1)
        deferredCloses.removeFirst()()
        XCTAssertTrue(vm.isClosed)
        XCTAssertTrue(deferredCloses.isEmpty)
    }

    func testClosingTheVMOutsideLuaClosesItAtOnce() throws {
        try check("h:logInfo('x')")
        var deferred = false
        vm.close(orLater: { _ in deferred = true })
        XCTAssertTrue(vm.isClosed)
        XCTAssertFalse(deferred)
    }

    func testHTTPCallWaitsAndResumes() throws {
        host.httpCallMode = .deferred
        let script = try load("""
            function on_request(h)
              local headers, body = h:httpCall('c', {[':method'] = 'GET', [':path'] = '/', [':authority'] = 'c'}, nil, 100)
              h:headers():add('x-status', headers[':status'])
              h:logInfo(body)
            end
            """)
        var outcome: LuaPhaseOutcome?
        let stream = LuaHTTPStream(vm: vm, host: host)
        stream.run(script, phase: .request) { outcome = $0 }
        XCTAssertNil(outcome)
        XCTAssertTrue(host.logs.isEmpty)
        // Another request runs on the same VM while the first one waits.
        let other = try load("function on_request(h) h:logInfo('other') end", name: "other")
        assertCompleted(run(other))
        host.pendingHTTPCalls.removeFirst()()
        assertCompleted(outcome)
        XCTAssertEqual(host.logs.map(\.1), ["other", "pong"])
        XCTAssertEqual(host.requestHeaders.values("x-status"), ["201"])
    }

    func testHTTPCallOptionsAsynchronousAndDuplicates() throws {
        host.httpCallMode = .deferred
        try check("""
            assert(select('#', h:httpCall('c', {[':method'] = 'GET', [':path'] = '/', [':authority'] = 'c'}, 'b', 10, true)) == 0)
            assert(select('#', h:httpCall('c', {[':method'] = 'GET', [':path'] = '/', [':authority'] = 'c'}, nil, {asynchronous = true, timeout_ms = 5})) == 0)
            """)
        XCTAssertEqual(host.httpCalls.map(\.async), [true, true])
        XCTAssertEqual(host.httpCalls.map(\.timeout), [10, 5])

        host.httpCallMode = .immediate
        try check("""
            local headers = h:httpCall('c', {[':method'] = 'GET', [':path'] = '/', [':authority'] = 'c'}, nil, {return_duplicate_headers = true})
            assert(type(headers['x-r']) == 'table' and headers['x-r'][1] == '1' and headers['x-r'][2] == '2')
            assert(headers[':status'] == '201')
            local ok, err = pcall(h.httpCall, h, 'c', {[':method'] = 'GET', [':path'] = '/', [':authority'] = 'c'}, nil, {bogus = 1})
            assert(not ok and err:find('bogus'), err)
            """)
    }

    func testHTTPCallEmptyBodyIsNilAndFailureRaises() throws {
        host.httpCallResponse = LuaHTTPCallResponse(headers: [(":status", "204")], body: [])
        try check("local hd, b = h:httpCall('c', {[':method'] = 'GET', [':path'] = '/', [':authority'] = 'c'}, nil, 1)\nassert(hd[':status'] == '204' and b == nil)")
        host.httpCallFailure = "cluster 'c' not found"
        let script = try load("function on_request(h)\n\n  h:httpCall('c', {[':method'] = 'GET', [':path'] = '/', [':authority'] = 'c'}, nil, 1)\nend", name: "fail")
        let e = try XCTUnwrap(failure(run(script)))
        XCTAssertEqual(e.message, "plugins/fail.lua:3: cluster 'c' not found")
    }

    func testRespond() throws {
        let script = try load("""
            function on_request(h)
              h:respond({[':status'] = 403, ['Content-Type'] = 'text/plain'}, 'denied')
              h:logInfo('not reached')
            end
            """)
        guard case .responded = run(script) else { return XCTFail("expected responded") }
        let responded = try XCTUnwrap(host.responded)
        XCTAssertEqual(responded.body, Array("denied".utf8))
        XCTAssertEqual(responded.headers.first { $0.0 == ":status" }?.1, "403")
        XCTAssertEqual(responded.headers.first { $0.0 == "content-type" }?.1, "text/plain")
        XCTAssertTrue(host.logs.isEmpty)
    }

    func testRespondValidation() throws {
        for (i, headers) in ["{}", "{[':status'] = 99}", "{[':status'] = '600'}", "{[':status'] = 'abc'}"].enumerated() {
            let script = try load("function on_request(h) h:respond(\(headers), 'x') end", name: "bad\(i)")
            XCTAssertNotNil(failure(run(script)), headers)
        }
        let inResponse = try load("function on_response(h) h:respond({[':status'] = '200'}, '') end", name: "resp")
        let e = try XCTUnwrap(failure(run(inResponse, .response)))
        XCTAssertTrue(e.message.contains("respond not currently supported in the response path"), e.message)
        XCTAssertNil(host.responded)
        let ok = try load("function on_request(h) pcall(h.respond, h, {[':status'] = '200'}) end", name: "pcall")
        guard case .responded = run(ok) else { return XCTFail("respond inside pcall must still respond") }
    }

    func testHandleUsedOutsideItsScopeRaises() throws {
        let keep = try load("""
            function on_request(h) saved = h end
            function on_response(h)
              saved:headers()
            end
            """, name: "keep")
        let first = LuaHTTPStream(vm: vm, host: host)
        assertCompleted(run(keep, stream: first))
        // Even the same request's next phase may not use the request handle.
        XCTAssertTrue(try XCTUnwrap(failure(run(keep, .response, stream: first))).message
            .hasSuffix("object used outside of proper scope"))
        first.finish()
        // Same script environment: a later request of the same plugin finds the globals.
        let reuse = try load("""
            function on_request(h)
              if saved then saved:headers() end
              saved = h
            end
            """, name: "reuse")
        assertCompleted(run(reuse))
        let e = try XCTUnwrap(failure(run(reuse)))
        XCTAssertTrue(e.message.hasSuffix("object used outside of proper scope"), e.message)
        XCTAssertEqual(e.line, 2)

        let reuseHeaders = try load("""
            function on_request(h)
              if hs then return hs:get(':path') end
              hs = h:headers()
            end
            """, name: "reuse_headers")
        assertCompleted(run(reuseHeaders))
        XCTAssertTrue(try XCTUnwrap(failure(run(reuseHeaders))).message.hasSuffix("object used outside of proper scope"))
    }

    func testFinishedStreamRejectsRunsAndFailsAWaitingPhase() throws {
        host.bodyMode = .deferred
        let script = try load("function on_request(h) h:body() end")
        let stream = LuaHTTPStream(vm: vm, host: host)
        var outcomes: [LuaPhaseOutcome] = []
        stream.run(script, phase: .request) { outcomes.append($0) }
        XCTAssertTrue(outcomes.isEmpty)
        stream.finish()
        XCTAssertEqual(outcomes.count, 1)
        host.pendingBodies.removeFirst()()  // late completion is ignored
        XCTAssertEqual(outcomes.count, 1)
        stream.run(script, phase: .request) { outcomes.append($0) }
        XCTAssertEqual(outcomes.count, 2)
        guard case .failed = outcomes[1] else { return XCTFail("a finished stream must not run") }
    }

    func testDynamicMetadataIsSharedBetweenPhasesAndScripts() throws {
        let setter = try load("function on_request(h) h:streamInfo():dynamicMetadata():set('auth', 'user', 'alice') end", name: "setter")
        let getter = try load("""
            function on_response(h)
              local t = h:streamInfo():dynamicMetadata():get('auth')
              h:logInfo(t and t.user or 'none')
            end
            """, name: "getter")
        let stream = LuaHTTPStream(vm: vm, host: host)
        assertCompleted(run(setter, .request, stream: stream))
        assertCompleted(run(getter, .response, stream: stream))
        stream.finish()
        // A different request starts empty.
        assertCompleted(run(getter, .response))
        XCTAssertEqual(host.logs.map(\.1), ["alice", "none"])
    }

    func testSwiftObjectsOfAFailingHostCallAreReleased() throws {
        host.trackFailures = true
        host.httpCallFailure = "upstream refused"
        Tracker.released = 0
        let script = try load("function on_request(h) h:httpCall('c', {[':method'] = 'GET', [':path'] = '/', [':authority'] = 'c'}, nil, 1) end")
        XCTAssertNotNil(failure(run(script)))
        XCTAssertEqual(Tracker.released, 1)

        host.bodyFailure = "too big"
        host.bodyMode = .deferred
        let body = try load("function on_request(h) h:body() end", name: "body")
        var outcome: LuaPhaseOutcome?
        LuaHTTPStream(vm: vm, host: host).run(body, phase: .request) { outcome = $0 }
        host.pendingBodies.removeFirst()()
        XCTAssertEqual(try XCTUnwrap(failure(outcome)).message, "plugins/body.lua:1: too big")
        XCTAssertEqual(Tracker.released, 2)
    }

    func testUnexpectedYieldFails() throws {
        let script = try load("function on_request(h) coroutine.yield() end")
        XCTAssertTrue(try XCTUnwrap(failure(run(script))).message.contains("unexpected yield"))
        // Nested coroutines are fine as long as they do not wait on the host.
        try check("""
            local co = coroutine.wrap(function() coroutine.yield(h:headers():get(':path')) end)
            assert(co() == '/items')
            local ok, err = pcall(coroutine.wrap(function() return h:body() end))
            assert(not ok and err:find('cannot wait'), err)
            """)
    }

    func testManyRequestsDoNotLeak() throws {
        let script = try load("""
            function on_request(h)
              local hs = h:headers()
              hs:add('x-seen', '1')
              h:streamInfo():dynamicMetadata():set('f', 'k', hs:get(':path'))
              for k, v in pairs(hs) do end
              h:body():getBytes(0, 2)
            end
            """)
        for _ in 0..<200 { let s = LuaHTTPStream(vm: vm, host: host); assertCompleted(run(script, stream: s)); s.finish() }
        let before = vm.memoryInUse
        for _ in 0..<2000 { let s = LuaHTTPStream(vm: vm, host: host); assertCompleted(run(script, stream: s)); s.finish() }
        XCTAssertLessThan(vm.memoryInUse, before + 256 * 1024)
        host.requestHeaders.list.removeAll { $0.0 == "x-seen" }
    }
}

extension LuaStreamTests {
    func testScriptResumingAWaitingPhaseCannotHangIt() throws {
        host.bodyMode = .deferred
        let script = try load("""
            function on_request(h)
              if waiting then h:logInfo(tostring(coroutine.resume(waiting))) end
              waiting = coroutine.running()
              h:body()
            end
            """)
        var first: LuaPhaseOutcome?
        var second: LuaPhaseOutcome?
        LuaHTTPStream(vm: vm, host: host).run(script, phase: .request) { first = $0 }
        // The second request resumes the first one's coroutine behind the host's back.
        LuaHTTPStream(vm: vm, host: host).run(script, phase: .request) { second = $0 }
        XCTAssertEqual(host.logs.map(\.1), ["false"])
        XCTAssertNil(first)
        XCTAssertNil(second)
        host.pendingBodies.removeFirst()()
        XCTAssertNotNil(failure(first))
        host.pendingBodies.removeFirst()()
        assertCompleted(second)
    }
}

extension LuaStreamTests {
    /// A phase's coroutine goes back to the VM as it is when its function returned (no
    /// `lua_resetthread`, which would reallocate its stack each time): what the function
    /// returned must not stay on that stack, where the collector would find it alive.
    func testAReusedCoroutineKeepsNothingOfItsLastPhase() throws {
        let script = try load("""
            returned = setmetatable({}, {__mode = 'k'})
            function on_request(h)
              local value = {}
              returned[value] = true
              return value, value
            end
            function on_response(h)
              local left = 0
              for _ in pairs(returned) do left = left + 1 end
              assert(left == 0, left .. ' returned values still alive')
            end
            """)
        let stream = LuaHTTPStream(vm: vm, host: host)
        for _ in 0..<3 { assertCompleted(run(script, .request, stream: stream)) }
        XCTAssertEqual(vm.idleCoroutines.count, 1, "the three phases ran in one coroutine, reused")
        vm.collectGarbage()
        assertCompleted(run(script, .response, stream: stream))
    }
}
