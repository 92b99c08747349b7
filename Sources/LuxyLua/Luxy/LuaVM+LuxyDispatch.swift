import CLua
import CLuaShims

extension LuaVM {
    /// The `luxy` table's functions and its objects' methods. Unlike a handle's they need no
    /// running request: they work in top-level code, phases and timers alike.
    func dispatchLuxy(_ s: LuaStack, _ method: LuxyMethod, resumed: Bool) -> Int32 {
        guard !inHostCall else {
            s.push("'\(method.luaName)' cannot be called while another host call runs")
            return Int32(LUXY_RC_ERROR)
        }
        var aux = 0
        if let kind = method.kind {
            guard let object = luxy_to_object(s.L, 1), object.pointee.kind == kind.rawValue else {
                s.push("calling '\(method.luaName)' on bad self (\(kind.typeName) expected, got \(s.typeName(1)))")
                return Int32(LUXY_RC_ERROR)
            }
            aux = Int(object.pointee.aux)
        }
        inHostCall = true
        defer { inHostCall = false }
        do throws(LuaRaise) {
            switch method.kind {
            case nil: return try callLuxyFunction(method, s, resumed: resumed)
            case .sharedDict: return try callSharedDict(method, s, luxyState.dicts[aux])
            case .timer: return try callTimer(method, s, luxyState.timers[aux])
            case .queue: return try callSharedQueue(method, s, luxyState.queues[aux])
            case .counter, .gauge, .histogram: return try callMetric(method, s, luxyState.metrics[aux])
            }
        } catch {
            s.push(error.message)
            return Int32(LUXY_RC_ERROR)
        }
    }

    private func callLuxyFunction(_ method: LuxyMethod, _ s: LuaStack, resumed: Bool) throws(LuaRaise) -> Int32 {
        switch method {
        case .shared: return try openSharedDict(s)
        case .queue: return try openSharedQueue(s)
        case .timerEvery: return try makeTimer(s, .every)
        case .timerAfter: return try makeTimer(s, .once)
        case .httpCall: return try backgroundHTTPCall(s, resumed: resumed)
        case .log: return try luxyLog(s)
        case .metricsCounter: return try declareMetric(s, .counter)
        case .metricsGauge: return try declareMetric(s, .gauge)
        case .metricsHistogram: return try declareMetric(s, .histogram)
        default: throw LuaRaise("luxy.\(method.luaName) is not available")
        }
    }
}
