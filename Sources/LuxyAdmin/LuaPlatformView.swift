import LuxyConfig
import LuxyLua

/// What the Lua platform shows on the admin API: the shared dictionaries' figures on `/stats`
/// (flat integer keys, as the proxy's counters) and on `/metrics` (Prometheus text, labelled
/// by dictionary).
enum LuaPlatformView {
    /// `families`: the Lua metrics' snapshot, for the stages' time percentiles.
    static func stats(_ platform: LuaPlatform, families: [LuaMetricFamilySnapshot]) -> [(key: String, value: ConfigValue)] {
        var entries = stageTimePercentiles(families)
        for dict in platform.sharedDictStatistics() {
            let prefix = "shared_dict.\(dict.name)"
            entries += [
                ("\(prefix).entries", .int(dict.entries)),
                ("\(prefix).bytes", .int(dict.bytes)),
                ("\(prefix).evictions", .int(dict.evictions)),
                ("\(prefix).expirations", .int(dict.expirations)),
            ]
        }
        for queue in platform.sharedQueueStatistics() {
            entries += [
                ("shared_queue.\(queue.name).length", .int(queue.length)),
                ("shared_queue.\(queue.name).rejected", .int(queue.rejected)),
            ]
        }
        return entries
    }

    /// `lua_stage.STAGE.PHASE.p50_us` and `.p99_us`: the upper bound (µs) of the bucket of
    /// `luxy_lua_stage_seconds` the percentile falls in; -1 past the last bound.
    private static func stageTimePercentiles(_ families: [LuaMetricFamilySnapshot]) -> [(key: String, value: ConfigValue)] {
        guard let family = families.first(where: { $0.definition.name == LuaMetricRegistry.stageTime.name }) else {
            return []
        }
        var entries: [(key: String, value: ConfigValue)] = []
        for series in family.series where series.count > 0 && series.labels.count == 2 {
            let prefix = "lua_stage.\(series.labels[0]).\(series.labels[1])"
            for (name, quantile) in [("p50_us", 0.5), ("p99_us", 0.99)] {
                let rank = UInt64((Double(series.count) * quantile).rounded(.up))
                let bucket = series.buckets.firstIndex { $0 >= rank }
                let micros = bucket.map { Int((family.definition.buckets[$0] * 1e6).rounded()) } ?? -1
                entries.append(("\(prefix).\(name)", .int(micros)))
            }
        }
        return entries
    }

    static func prometheus(_ platform: LuaPlatform) -> String {
        var text = PrometheusText()
        let queues = platform.sharedQueueStatistics()
        if !queues.isEmpty {
            text.family("luxy_shared_queue_length", "gauge", "Items waiting in a Lua shared queue.")
            for queue in queues { text.sample("luxy_shared_queue_length", ["queue": queue.name], Double(queue.length)) }
            text.family("luxy_shared_queue_rejected_total", "counter", "Items a full Lua shared queue refused.")
            for queue in queues {
                text.sample("luxy_shared_queue_rejected_total", ["queue": queue.name], Double(queue.rejected))
            }
        }
        let dicts = platform.sharedDictStatistics()
        guard !dicts.isEmpty else { return text.output }
        text.family("luxy_shared_dict_entries", "gauge", "Entries held by a Lua shared dictionary.")
        for dict in dicts { text.sample("luxy_shared_dict_entries", ["dict": dict.name], Double(dict.entries)) }
        text.family("luxy_shared_dict_bytes", "gauge", "Key and value bytes held by a Lua shared dictionary.")
        for dict in dicts { text.sample("luxy_shared_dict_bytes", ["dict": dict.name], Double(dict.bytes)) }
        text.family("luxy_shared_dict_evictions_total", "counter",
                    "Live entries a Lua shared dictionary evicted (least recently used) to make room.")
        for dict in dicts {
            text.sample("luxy_shared_dict_evictions_total", ["dict": dict.name], Double(dict.evictions))
        }
        text.family("luxy_shared_dict_expirations_total", "counter",
                    "Entries a Lua shared dictionary dropped because their TTL ran out.")
        for dict in dicts {
            text.sample("luxy_shared_dict_expirations_total", ["dict": dict.name], Double(dict.expirations))
        }
        return text.output
    }

    /// The metrics scripts declared, summed over the loops, and what their bound dropped.
    static func prometheus(_ families: [LuaMetricFamilySnapshot]) -> String {
        var text = PrometheusText()
        for family in families {
            let definition = family.definition
            let name = definition.name
            text.family(name, definition.kind.rawValue, definition.help.isEmpty ? name : definition.help)
            for series in family.series {
                let labels = zip(definition.labelNames, series.labels).map { PrometheusLabel(name: $0, value: $1) }
                switch definition.kind {
                case .counter, .gauge:
                    text.sample(name, labels, series.value)
                case .histogram:
                    for (bound, count) in zip(definition.buckets, series.buckets) {
                        text.sample(name + "_bucket", labels + [PrometheusLabel(name: "le", value: PrometheusText.format(bound))],
                                    Double(count))
                    }
                    text.sample(name + "_bucket", labels + [PrometheusLabel(name: "le", value: "+Inf")], Double(series.count))
                    text.sample(name + "_sum", labels, series.value)
                    text.sample(name + "_count", labels, Double(series.count))
                }
            }
        }
        let dropped = families.filter { $0.dropped > 0 }
        if !dropped.isEmpty {
            text.family("luxy_lua_metric_series_dropped_total", "counter",
                        "Observations of a Lua metric dropped because its label sets reached lua_metric_max_series.")
            for family in dropped {
                text.sample("luxy_lua_metric_series_dropped_total", ["metric": family.definition.name],
                            Double(family.dropped))
            }
        }
        return text.output
    }
}
