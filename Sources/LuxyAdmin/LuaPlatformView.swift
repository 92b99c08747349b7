import LuxyConfig
import LuxyLua

/// What the Lua platform shows on the admin API: the shared dictionaries' figures on `/stats`
/// (flat integer keys, as the proxy's counters) and on `/metrics` (Prometheus text, labelled
/// by dictionary).
enum LuaPlatformView {
    static func stats(_ platform: LuaPlatform) -> [(key: String, value: ConfigValue)] {
        var entries: [(key: String, value: ConfigValue)] = []
        for dict in platform.sharedDictStatistics() {
            let prefix = "shared_dict.\(dict.name)"
            entries += [
                ("\(prefix).entries", .int(dict.entries)),
                ("\(prefix).bytes", .int(dict.bytes)),
                ("\(prefix).evictions", .int(dict.evictions)),
                ("\(prefix).expirations", .int(dict.expirations)),
            ]
        }
        return entries
    }

    static func prometheus(_ platform: LuaPlatform) -> String {
        let dicts = platform.sharedDictStatistics()
        guard !dicts.isEmpty else { return "" }
        var text = PrometheusText()
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
}
