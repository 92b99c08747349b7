import Prometheus

/// `GET /metrics` in Prometheus' text format. The proxy counts per event loop without locks;
/// at scrape time the loops' sums are carried into swift-prometheus' registry, counters as
/// the increase since the last scrape so they stay monotonic.
actor PrometheusExporter {
    private let registry = PrometheusCollectorRegistry()
    private var counters: [String: (counter: Counter, last: Int)] = [:]
    private var gauges: [String: Gauge] = [:]
    /// Per endpoint, by metric and labels.
    private var endpointGauges: [String: Gauge] = [:]

    func render(counters totals: [String: Int], gauges values: [String: Int],
                endpoints: [ClustersView.Sample] = []) -> String {
        // Endpoint figures are sums over loops that restart with a cluster whose settings
        // changed, so they are gauges: a reload may lower them.
        for sample in endpoints {
            let metric = "luxy_cluster_endpoint_\(sample.name)"
            let key = "\(metric)|\(sample.cluster)|\(sample.endpoint)"
            let gauge = endpointGauges[key]
                ?? registry.makeGauge(descriptor: Self.descriptor(metric),
                                   labels: [("cluster", sample.cluster), ("endpoint", sample.endpoint)])
            endpointGauges[key] = gauge
            gauge.set(Double(sample.value))
        }
        for (name, total) in totals {
            let metric = "luxy_\(Self.sanitize(name))_total"
            let entry = counters[metric] ?? (registry.makeCounter(descriptor: Self.descriptor(metric)), 0)
            if total > entry.last { entry.counter.increment(by: Int64(total - entry.last)) }
            counters[metric] = (entry.counter, max(total, entry.last))
        }
        for (name, value) in values {
            let metric = "luxy_\(Self.sanitize(name))"
            let gauge = gauges[metric] ?? registry.makeGauge(descriptor: Self.descriptor(metric))
            gauges[metric] = gauge
            gauge.set(Double(value))
        }
        return registry.emitToString()
    }

    /// The whole name as the metric name, no unit and no help text: the text stays as the
    /// deprecated `make…(name:)` wrote it.
    private static func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: "")
    }

    private static func sanitize(_ name: String) -> String {
        String(name.map { $0.isLetter || $0.isNumber || $0 == "_" ? $0 : "_" })
    }
}
