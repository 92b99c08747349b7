import CLua
import CLuaShims

extension LuaHTTPStream {
    /// `handle:trailers()`: as in Envoy, waits for the end of the message, buffering the
    /// body, since trailers come last (gRPC's `grpc-status`); the trailer map, or nil when the
    /// message has none. Where it cannot wait, it answers with what is known now.
    /// A script that streams the body (`bodyChunks()`) gets the trailers known now.
    func trailers(_ s: LuaStack, _ run: PhaseRun, resumed: Bool) throws(LuaRaise) -> Int32 {
        let waits: Bool
        switch run.bodyAccess {
        case .untouched: waits = canWait(s, run)
        case .buffered, .streaming, .streamed, .passedForTrailers: waits = false
        }
        if resumed || waits {
            let pushed = try body(s, run, resumed: resumed)
            if pushed == Int32(LUXY_RC_YIELD) { return pushed }
            lua_settop(s.L, -pushed - 1)  // the body was the means, not the answer
            // As in Envoy, the body went past the script: body() after this raises.
            run.bodyAccess = .passedForTrailers
        }
        run.trailers = host.trailers(run.phase)
        guard run.trailers != nil else { s.pushNil(); return 1 }
        vm.pushObject(s.L, .headerMap, token: run.token, aux: 1)
        return 1
    }
}
