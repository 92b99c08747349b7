import Foundation
import LuxyConfig
import LuxyCore

/// `GET /clusters` as Envoy writes it (`cluster::endpoint::stat::value` lines) or as JSON
/// (`?format=json`), and the same figures as `/metrics` samples.
enum ClustersView {
    struct Sample: Sendable {
        var name: String
        var cluster: String
        var endpoint: String
        var value: Int
    }

    /// Envoy's health flags: `healthy`, or the reasons it is not.
    static func healthFlags(_ endpoint: UpstreamClusterStatus.Endpoint) -> String {
        var flags = ""
        if endpoint.failsActiveHealthCheck { flags += "/failed_active_hc" }
        if endpoint.ejectedOnLoops > 0 { flags += "/failed_outlier_check" }
        return flags.isEmpty ? "healthy" : flags
    }

    static func text(_ statuses: [UpstreamClusterStatus]) -> String {
        var lines: [String] = []
        for cluster in statuses {
            lines.append("\(cluster.name)::lb_policy::\(cluster.policy)")
            lines.append("\(cluster.name)::health_checked::\(cluster.healthChecked)")
            for endpoint in cluster.endpoints {
                let prefix = "\(cluster.name)::\(endpoint.address)::"
                lines.append(prefix + "health_flags::\(healthFlags(endpoint))")
                lines.append(prefix + "weight::\(endpoint.weight)")
                lines.append(prefix + "ejected_loops::\(endpoint.ejectedOnLoops)")
                lines.append(prefix + "ejected_until::\(endpoint.ejectedUntil.map(timestamp) ?? "-")")
                lines.append(prefix + "times_ejected::\(endpoint.timesEjected)")
                lines.append(prefix + "rq_active::\(endpoint.activeRequests)")
                lines.append(prefix + "cx_idle::\(endpoint.idleConnections)")
                lines.append(prefix + "rq_success::\(endpoint.successes)")
                lines.append(prefix + "rq_error::\(endpoint.errors5xx + endpoint.gatewayFailures)")
                lines.append(prefix + "rq_5xx::\(endpoint.errors5xx)")
                lines.append(prefix + "rq_gateway_failure::\(endpoint.gatewayFailures)")
                lines.append(prefix + "success_rate::\(successRate(endpoint))")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func json(_ statuses: [UpstreamClusterStatus]) -> ConfigValue {
        .map([("clusters", .array(statuses.map { cluster in
            .map([
                ("name", .string(cluster.name)), ("lb_policy", .string(cluster.policy)),
                ("health_checked", .bool(cluster.healthChecked)),
                ("endpoints", .array(cluster.endpoints.map { endpoint in
                    .map([
                        ("address", .string(endpoint.address)), ("weight", .int(endpoint.weight)),
                        ("health_flags", .string(healthFlags(endpoint))),
                        ("failed_active_health_check", .bool(endpoint.failsActiveHealthCheck)),
                        ("ejected_loops", .int(endpoint.ejectedOnLoops)),
                        ("ejected_until", endpoint.ejectedUntil.map { .string(timestamp($0)) } ?? .null),
                        ("times_ejected", .int(endpoint.timesEjected)),
                        ("active_requests", .int(endpoint.activeRequests)),
                        ("idle_connections", .int(endpoint.idleConnections)),
                        ("successes", .int(endpoint.successes)), ("errors_5xx", .int(endpoint.errors5xx)),
                        ("gateway_failures", .int(endpoint.gatewayFailures)),
                        ("success_rate", endpoint.intervalSuccessRate.map { .double($0) } ?? .null),
                        ("success_rate_requests", .int(endpoint.intervalRequests)),
                    ])
                })),
            ])
        }))])
    }

    static func samples(_ statuses: [UpstreamClusterStatus]) -> [Sample] {
        statuses.flatMap { cluster in
            cluster.endpoints.flatMap { endpoint -> [Sample] in
                let figures: [(String, Int)] = [
                    ("healthy", endpoint.isHealthy ? 1 : 0),
                    ("failed_active_health_check", endpoint.failsActiveHealthCheck ? 1 : 0),
                    ("ejected_loops", endpoint.ejectedOnLoops), ("times_ejected", endpoint.timesEjected),
                    ("weight", endpoint.weight), ("active_requests", endpoint.activeRequests),
                    ("idle_connections", endpoint.idleConnections), ("successes", endpoint.successes),
                    ("errors_5xx", endpoint.errors5xx), ("gateway_failures", endpoint.gatewayFailures),
                    ("success_rate_requests", endpoint.intervalRequests),
                    ("success_rate_successes", endpoint.intervalSuccesses),
                ]
                return figures.map { Sample(name: $0.0, cluster: cluster.name, endpoint: endpoint.address, value: $0.1) }
            }
        }
    }

    /// Envoy's `success_rate`: the last interval's, in percent, or -1 when there is none.
    static func successRate(_ endpoint: UpstreamClusterStatus.Endpoint) -> String {
        guard let rate = endpoint.intervalSuccessRate else { return "-1" }
        return String(format: "%.1f", rate)
    }

    private static func timestamp(_ date: Date) -> String {
        ISO8601DateFormatter().string(from: date)
    }
}
