import Prometheus

/// `GET /metrics` in Prometheus' text format. The proxy counts per event loop without locks;
/// at scrape time the loops' sums are carried into swift-prometheus' registry, counters as
/// the increase since the last scrape so they stay monotonic.
actor PrometheusExporter {
    private let registry = PrometheusCollectorRegistry()
    private var counters: [String: (counter: Counter, last: Int)] = [:]
    private var gauges: [String: Gauge] = [:]

    func render(counters totals: [String: Int], gauges values: [String: Int]) -> String {
        for (name, total) in totals {
            let metric = "luxy_\(Self.sanitize(name))_total"
            let entry = counters[metric] ?? (registry.makeCounter(name: metric), 0)
            if total > entry.last { entry.counter.increment(by: Int64(total - entry.last)) }
            counters[metric] = (entry.counter, max(total, entry.last))
        }
        for (name, value) in values {
            let metric = "luxy_\(Self.sanitize(name))"
            let gauge = gauges[metric] ?? registry.makeGauge(name: metric)
            gauges[metric] = gauge
            gauge.set(Double(value))
        }
        return registry.emitToString()
    }

    private static func sanitize(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })
    }
}
