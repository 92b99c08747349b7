import CLua
import CLuaShims

extension LuaVM {
    /// The `luxy` table's functions and its objects' methods. Unlike a handle's they need no
    /// running request: they work in top-level code, phases and timers alike.
    func dispatchLuxy(_ s: LuaStack, _ method: LuxyMethod, resumed: Bool) -> Int32 {
        hostCall(s, method.luaName) { () throws(LuaRaise) -> Int32 in
            guard let kind = method.kind else { return try callLuxyFunction(method, s, resumed: resumed) }
            let object = try selfObject(s, kind: kind.rawValue, typeName: kind.typeName, method: method.luaName)
            let aux = Int(object.aux)
            switch kind {
            case .sharedDict: return try callSharedDict(method, s, luxyState.dicts[aux])
            case .timer: return try callTimer(method, s, luxyState.timers[aux])
            case .queue: return try callSharedQueue(method, s, luxyState.queues[aux])
            case .counter, .gauge, .histogram: return try callMetric(method, s, luxyState.metrics[aux])
            case .logFormat: return try renderLogFormat(s, luxyState.logFormats[aux])
            }
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
        case .logFormat: return try compileLogFormat(s)
        case .metricsCounter: return try declareMetric(s, .counter)
        case .metricsGauge: return try declareMetric(s, .gauge)
        case .metricsHistogram: return try declareMetric(s, .histogram)
        default: throw LuaRaise("luxy.\(method.luaName) is not available")
        }
    }
}
