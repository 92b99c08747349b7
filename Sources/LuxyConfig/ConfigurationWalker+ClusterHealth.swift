import Yams

/// A cluster's endpoints with their weights, and what keeps unhealthy ones out of rotation:
/// `outlier_detection`, `health_checks`, `hash_policy` (Envoy's names and shapes).
extension ConfigurationWalker {
    /// `"host:port"` or `{ address: "host:port", weight: 3 }`.
    mutating func endpoints(_ fields: YAMLNodeReader.Fields) -> [ClusterConfiguration.Endpoint] {
        let items = reader.list(fields, "endpoints")
        if let node = fields["endpoints"], case .sequence = node, items.isEmpty {
            reader.report("'endpoints' must have at least one entry", at: node)
        }
        // Port 0 means "any free port" for a listener, but nothing can be dialled there.
        return items.compactMap { item in
            guard case .mapping = item else {
                return reader.address(item, named: "endpoint", minimumPort: 1).map { .init(host: $0.host, port: $0.port) }
            }
            guard let entry = reader.fields(item, context: "endpoint", allowed: ["address", "weight"],
                                            required: ["address"]),
                  let node = entry.rawValue("address"),
                  let address = reader.address(node, named: "address", minimumPort: 1) else { return nil }
            let weight = reader.positiveInt(entry, "weight") ?? 1
            return .init(host: address.host, port: address.port, weight: weight)
        }
    }

    mutating func outlierDetection(_ node: Node) -> OutlierDetectionConfiguration? {
        guard let fields = reader.fields(
            node, context: "outlier_detection",
            allowed: ["enabled", "consecutive_5xx", "consecutive_gateway_failure", "base_ejection_time",
                      "max_ejection_time", "max_ejection_percent", "interval", "success_rate_minimum_hosts",
                      "success_rate_request_volume", "success_rate_stdev_factor", "enforcing_success_rate",
                      "enforcing_consecutive_5xx", "enforcing_consecutive_gateway_failure",
                      "failure_percentage_threshold", "enforcing_failure_percentage", "failure_percentage_minimum_hosts",
                      "failure_percentage_request_volume"])
        else { return nil }
        var outlier = OutlierDetectionConfiguration()
        if let value = reader.bool(fields, "enabled") { outlier.enabled = value }
        if let value = reader.nonNegativeInt(fields, "consecutive_5xx") { outlier.consecutive5xx = value }
        if let value = reader.nonNegativeInt(fields, "consecutive_gateway_failure") { outlier.consecutiveGatewayFailure = value }
        if let value = reader.positiveDuration(fields, "base_ejection_time") { outlier.baseEjectionMilliseconds = value }
        if let value = reader.positiveDuration(fields, "max_ejection_time") { outlier.maxEjectionMilliseconds = value }
        if let value = percent(fields, "max_ejection_percent") { outlier.maxEjectionPercent = value }
        if let value = reader.positiveDuration(fields, "interval") { outlier.intervalMilliseconds = value }
        if let value = reader.positiveInt(fields, "success_rate_minimum_hosts") { outlier.successRateMinimumHosts = value }
        if let value = reader.positiveInt(fields, "success_rate_request_volume") { outlier.successRateRequestVolume = value }
        if let value = reader.nonNegativeInt(fields, "success_rate_stdev_factor") { outlier.successRateStdevFactor = value }
        if let value = percent(fields, "enforcing_success_rate") { outlier.enforcingSuccessRate = value }
        if let value = percent(fields, "failure_percentage_threshold") { outlier.failurePercentageThreshold = value }
        if let value = percent(fields, "enforcing_failure_percentage") { outlier.enforcingFailurePercentage = value }
        if let value = reader.positiveInt(fields, "failure_percentage_minimum_hosts") {
            outlier.failurePercentageMinimumHosts = value
        }
        if let value = reader.positiveInt(fields, "failure_percentage_request_volume") {
            outlier.failurePercentageRequestVolume = value
        }
        if let value = percent(fields, "enforcing_consecutive_5xx") { outlier.enforcingConsecutive5xx = value }
        if let value = percent(fields, "enforcing_consecutive_gateway_failure") {
            outlier.enforcingConsecutiveGatewayFailure = value
        }
        return outlier
    }

    mutating func healthCheck(_ node: Node) -> HealthCheckConfiguration? {
        guard let fields = reader.fields(
            node, context: "health check",
            allowed: ["http", "tcp", "interval", "interval_jitter", "timeout", "healthy_threshold", "unhealthy_threshold"])
        else { return nil }
        let probe: HealthCheckConfiguration.Probe
        switch (fields.rawValue("http"), fields.has("tcp")) {
        case (let http?, false):
            guard let http = httpProbe(http) else { return nil }
            probe = .http(http)
        case (nil, true):
            if let tcp = fields["tcp"] { _ = reader.fields(tcp, context: "tcp health check", allowed: []) }
            probe = .tcp
        default:
            reader.report("a health check needs exactly one of 'http' or 'tcp'", at: fields.location)
            return nil
        }
        var check = HealthCheckConfiguration(probe: probe)
        if let value = reader.positiveDuration(fields, "interval") { check.intervalMilliseconds = value }
        if let value = reader.duration(fields, "interval_jitter") { check.intervalJitterMilliseconds = value }
        if let value = reader.positiveDuration(fields, "timeout") { check.timeoutMilliseconds = value }
        if let value = reader.positiveInt(fields, "healthy_threshold") { check.healthyThreshold = value }
        if let value = reader.positiveInt(fields, "unhealthy_threshold") { check.unhealthyThreshold = value }
        return check
    }

    private mutating func httpProbe(_ node: Node) -> HealthCheckConfiguration.HTTPProbe? {
        guard let fields = reader.fields(node, context: "http health check",
                                         allowed: ["path", "method", "host", "expected_statuses"], required: ["path"]),
              let path = reader.string(fields, "path") else { return nil }
        guard path.hasPrefix("/") else {
            reader.report("'path' must start with '/'", at: fields.rawValue("path")!)
            return nil
        }
        var probe = HealthCheckConfiguration.HTTPProbe(path: path)
        if let method = reader.string(fields, "method") { probe.method = method.uppercased() }
        probe.host = reader.string(fields, "host")
        if let node = fields["expected_statuses"] {
            let ranges = reader.list(fields, "expected_statuses").compactMap { statusRange($0) }
            if ranges.isEmpty { reader.report("'expected_statuses' must have at least one entry", at: node) }
            probe.expectedStatuses = ranges
        }
        return probe
    }

    /// `200` or Envoy's `{ start: 200, end: 300 }` (end exclusive, as in Envoy).
    private mutating func statusRange(_ node: Node) -> ClosedRange<Int>? {
        if case .mapping = node {
            guard let fields = reader.fields(node, context: "status range", allowed: ["start", "end"],
                                             required: ["start", "end"]),
                  let start = reader.int(fields, "start"), let end = reader.int(fields, "end") else { return nil }
            guard 100 <= start, start < end, end <= 600 else {
                reader.report("a status range needs 100 <= start < end <= 600", at: node)
                return nil
            }
            return start...(end - 1)
        }
        guard let status = reader.int(node, named: "expected status") else { return nil }
        guard (100...599).contains(status) else {
            reader.report("an expected status must be within 100...599", at: node)
            return nil
        }
        return status...status
    }

    /// `- header: { header_name: x-user }`, `- cookie: { name: session }`,
    /// `- connection_properties: { source_ip: true }`, `- path: true`.
    mutating func hashPolicy(_ node: Node) -> HashPolicy? {
        guard let fields = reader.fields(node, context: "hash policy",
                                         allowed: ["header", "cookie", "connection_properties", "path"]) else { return nil }
        if let header = fields["header"] {
            guard let inner = reader.fields(header, context: "header hash policy", allowed: ["header_name"],
                                            required: ["header_name"]),
                  let name = reader.name(inner, "header_name") else { return nil }
            return .header(name.lowercased())
        }
        if let cookie = fields["cookie"] {
            guard let inner = reader.fields(cookie, context: "cookie hash policy", allowed: ["name"], required: ["name"]),
                  let name = reader.name(inner) else { return nil }
            return .cookie(name)
        }
        if let properties = fields["connection_properties"] {
            guard let inner = reader.fields(properties, context: "connection_properties", allowed: ["source_ip"],
                                            required: ["source_ip"]) else { return nil }
            guard reader.bool(inner, "source_ip") == true else {
                reader.report("'source_ip' must be true", at: properties)
                return nil
            }
            return .sourceIP
        }
        if fields.has("path") {
            guard reader.bool(fields, "path") == true else { return nil }
            return .path
        }
        reader.report("a hash policy needs one of 'header', 'cookie', 'connection_properties' or 'path'",
                      at: fields.location)
        return nil
    }

    /// `maglev: { table_size: 65537 }`: a prime, as Maglev's permutations need (Envoy's rule).
    mutating func maglevTableSize(_ node: Node) -> Int? {
        guard let fields = reader.fields(node, context: "maglev", allowed: ["table_size"]),
              let size = reader.positiveInt(fields, "table_size"), let sizeNode = fields.rawValue("table_size")
        else { return nil }
        guard size.isPrime, size <= 5_000_011 else {
            reader.report("'table_size' must be a prime number no larger than 5000011", at: sizeNode)
            return nil
        }
        return size
    }

    mutating func percent(_ fields: YAMLNodeReader.Fields, _ key: String) -> Int? {
        guard let node = fields.rawValue(key), let value = reader.int(node, named: key) else { return nil }
        guard (0...100).contains(value) else {
            reader.report("'\(key)' must be a percentage within 0...100", at: node)
            return nil
        }
        return value
    }

}

extension Int {
    /// Trial division: table sizes are checked once, when the configuration is read.
    var isPrime: Bool {
        guard self >= 2 else { return false }
        var divisor = 2
        while divisor * divisor <= self {
            if self % divisor == 0 { return false }
            divisor += 1
        }
        return true
    }
}
