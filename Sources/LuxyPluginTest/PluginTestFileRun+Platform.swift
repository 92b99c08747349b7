import CLua
import LuxyConfig
import LuxyLua

/// `luxy_test.metric` and `luxy_test.shared`: what the plugins of this file left in the
/// `luxy` library's process-wide state (their metric values, their shared dictionaries),
/// read on the loop that owns it.
extension PluginTestFileRun {
    /// The sum over the series of metric `name` whose labels have the values `labels` gives
    /// (labels not given match any value): a number for a counter or a gauge, a table
    /// `{count, sum, bounds, buckets}` (buckets cumulative) for a histogram; nil when no
    /// plugin declared such a metric.
    func metric(named name: String, labels: ConfigValue) -> Result<(TestLuaTableWriter) -> Void, PluginTestError> {
        guard let family = platform.metrics.family(named: name) else {
            return .success { lua_pushnil($0.L) }
        }
        let definition = family.definition
        var wanted: [Int: String] = [:]
        for (label, value) in labels.entries {
            guard let index = definition.labelNames.firstIndex(of: label) else {
                return .failure(PluginTestError("luxy_test.metric: '\(name)' has no label '\(label)' "
                    + "(its labels: \(definition.labelNames.joined(separator: ", ")))"))
            }
            wanted[index] = value.text ?? ""
        }
        let matching = metricShard.series(of: family).filter { series in
            guard let values = series.labels else { return false }
            return wanted.allSatisfy { values.indices.contains($0.key) && values[$0.key] == $0.value }
        }
        let total = matching.reduce(0) { $0 + $1.value }
        guard definition.kind == .histogram else {
            return .success { lua_pushnumber($0.L, total) }
        }
        var perBucket = Array(repeating: UInt64(0), count: definition.buckets.count)
        for series in matching {
            for (index, count) in series.buckets.enumerated() where index < perBucket.count { perBucket[index] += count }
        }
        var running: UInt64 = 0
        let cumulative = perBucket.map { running += $0; return Int(running) }
        let count = Int(matching.reduce(UInt64(0)) { $0 + $1.count })
        return .success { w in
            w.newTable()
            w.set("count", int: count)
            lua_pushnumber(w.L, total)
            lua_setfield(w.L, -2, "sum")
            w.set("bounds", value: .array(definition.buckets.map { .double($0) }))
            w.set("buckets", value: .array(cumulative.map { .int($0) }))
        }
    }

    /// `luxy.shared(dict):get(key)` as a plugin of this file would read it now.
    func sharedValue(dict: String, key: String) -> Result<(TestLuaTableWriter) -> Void, PluginTestError> {
        let value = platform.sharedDict(named: dict).get(key)
        return .success { w in
            switch value {
            case nil: lua_pushnil(w.L)
            case .string(let bytes): LuaConfigValueBridge.push(bytes: bytes, onto: w.L)
            case .integer(let number): lua_pushinteger(w.L, lua_Integer(number))
            case .number(let number): lua_pushnumber(w.L, number)
            case .boolean(let flag): lua_pushboolean(w.L, flag ? 1 : 0)
            }
        }
    }
}
