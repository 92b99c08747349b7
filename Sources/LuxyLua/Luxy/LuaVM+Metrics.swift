import CLua
import CLuaShims
import LuxyConfig

extension LuaVM {
    /// Metric values of this VM go to `shard` (its loop's, kept across generations). Call
    /// before loading scripts.
    public func useMetricShard(_ shard: LuaMetricShard) {
        luxyState.metricShard = shard
    }

    /// `luxy.metrics.counter/gauge/histogram(name, help, label_names[, buckets])`.
    func declareMetric(_ s: LuaStack, _ kind: LuaMetricDefinition.Kind) throws(LuaRaise) -> Int32 {
        let fname = "luxy.metrics.\(kind.rawValue)"
        guard s.type(1) == LUA_TSTRING, let name = s.string(1) else {
            throw LuaRaise("\(fname): the name must be a string, got \(s.typeName(1))")
        }
        let help = s.type(2) == LUA_TSTRING ? s.string(2) ?? "" : ""
        let labelNames = try stringList(s, 3, fname, "label_names")
        var buckets: [Double] = []
        if kind == .histogram {
            buckets = LuaMetricDefinition.defaultBuckets
            if s.type(4) == LUA_TTABLE {
                buckets = []
                var i: lua_Integer = 1
                while lua_rawgeti(s.L, 4, i) != LUA_TNIL {
                    guard s.type(-1) == LUA_TNUMBER else { throw LuaRaise("\(fname): buckets must be numbers") }
                    buckets.append(lua_tonumberx(s.L, -1, nil))
                    s.pop()
                    i += 1
                }
                s.pop()
            } else if s.type(4) > LUA_TNIL {
                throw LuaRaise("\(fname): buckets must be a list of numbers, got \(s.typeName(4))")
            }
        }
        let definition = LuaMetricDefinition(name: name, help: help, kind: kind, labelNames: labelNames,
                                             buckets: buckets)
        if let problem = definition.problem { throw LuaRaise("\(fname): \(problem)") }
        let family = try luxyState.platform.metrics.declare(definition, by: luxyState.vmSerial)
        luxyState.metrics.append(luxyState.metricShard.values(of: family))
        let objectKind: LuxyObjectKind = switch kind {
        case .counter: .counter
        case .gauge: .gauge
        case .histogram: .histogram
        }
        pushLuxyObject(s.L, objectKind, aux: luxyState.metrics.count - 1)
        return 1
    }

    /// `counter:inc([value[, label values...]])`, `gauge:set(value, ...)`, `gauge:inc(value, ...)`,
    /// `histogram:observe(value, ...)`.
    func callMetric(_ method: LuxyMethod, _ s: LuaStack, _ values: LuaMetricShard.FamilyValues) throws(LuaRaise)
        -> Int32 {
        let fname = method.luaName
        let amount: Double
        if s.type(2) <= LUA_TNIL, method == .counterInc {
            amount = 1
        } else {
            guard s.type(2) == LUA_TNUMBER else { throw LuaRaise("\(fname): the value must be a number, got \(s.typeName(2))") }
            amount = lua_tonumberx(s.L, 2, nil)
        }
        // The definition is read where the family keeps it: a copy of it would retain and
        // release its name, help, label names and buckets on every observation.
        let given = max(0, Int(s.top) - 2)
        guard given == values.family.definition.labelNames.count else {
            let definition = values.family.definition
            throw LuaRaise("\(fname): '\(definition.name)' takes \(definition.labelNames.count) label value(s) "
                + "(\(definition.labelNames.joined(separator: ", "))), got \(given)")
        }
        var found = lastSeriesIndex(s, values, labelCount: given)
        if found == nil { found = try seriesIndex(s, values, fname) }
        guard let index = found else { return 0 }
        switch method {
        case .counterInc:
            guard amount >= 0 else { throw LuaRaise("inc: a counter only goes up (got \(amount))") }
            values.add(amount, series: index)
        case .gaugeSet:
            values.set(amount, series: index)
        case .gaugeInc:
            values.add(amount, series: index)
        case .histogramObserve:
            values.observe(amount, series: index)
        default:
            throw LuaRaise("'\(fname)' is not a method of a metric")
        }
        return 0
    }

    /// The series of the label values at 3..., made on first sight; nil when over the bound.
    private func seriesIndex(_ s: LuaStack, _ values: LuaMetricShard.FamilyValues, _ fname: String) throws(LuaRaise)
        -> Int? {
        var labels: [String] = []
        labels.reserveCapacity(Int(s.top) - 2)
        for idx in stride(from: Int32(3), through: s.top, by: 1) {
            guard let label = s.string(idx) else {
                throw LuaRaise("\(fname): label values must be strings, got \(s.typeName(idx))")
            }
            labels.append(label)
        }
        return values.seriesIndex(labels)
    }

    /// The series the family's last observation went to, when the label values at 3... are
    /// its own: a module observes one request's labels in a row, so most observations are
    /// found by comparing the bytes where Lua holds them, without making a string.
    private func lastSeriesIndex(_ s: LuaStack, _ values: LuaMetricShard.FamilyValues, labelCount: Int) -> Int? {
        guard let index = values.lastSeries else { return nil }
        for i in 0..<labelCount {
            let idx = Int32(3 + i)
            guard s.type(idx) == LUA_TSTRING else { return nil }
            var length = 0
            guard let bytes = lua_tolstring(s.L, idx, &length) else { return nil }
            let given = UnsafeRawBufferPointer(start: bytes, count: length)
            // Compared where the series keeps its labels: no copy of the list.
            guard values.values[index].labels[i].withUTF8Bytes({ $0.elementsEqual(given) }) else { return nil }
        }
        return index
    }

    private func stringList(_ s: LuaStack, _ idx: Int32, _ fname: String, _ what: String) throws(LuaRaise) -> [String] {
        guard s.type(idx) == LUA_TTABLE else {
            if s.type(idx) <= LUA_TNIL { return [] }
            throw LuaRaise("\(fname): \(what) must be a list of strings, got \(s.typeName(idx))")
        }
        var list: [String] = []
        var i: lua_Integer = 1
        while lua_rawgeti(s.L, idx, i) != LUA_TNIL {
            guard s.type(-1) == LUA_TSTRING, let name = s.string(-1) else {
                throw LuaRaise("\(fname): \(what) must be a list of strings")
            }
            list.append(name)
            s.pop()
            i += 1
        }
        s.pop()
        return list
    }
}
