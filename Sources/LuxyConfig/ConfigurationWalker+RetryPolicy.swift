import Foundation
import Yams

/// A route's `retry_policy:`, with Envoy's key names.
extension ConfigurationWalker {
    mutating func retryPolicy(_ node: Node) -> RetryPolicyConfiguration? {
        guard let fields = reader.fields(
            node, context: "retry_policy",
            allowed: ["retry_on", "num_retries", "per_try_timeout", "retry_back_off", "retriable_methods"],
            required: ["retry_on"]) else { return nil }
        var policy = RetryPolicyConfiguration(retryOn: retryConditions(fields), location: fields.location)
        if let node = fields.rawValue("num_retries"), let value = reader.int(node, named: "num_retries") {
            if (0...10).contains(value) {
                policy.numRetries = value
            } else {
                reader.report("'num_retries' must be between 0 and 10, got \(value)", at: node)
            }
        }
        policy.perTryTimeoutMilliseconds = reader.positiveDuration(fields, "per_try_timeout")
        if let node = fields["retry_back_off"] { retryBackOff(node, into: &policy) }
        if let node = fields["retriable_methods"], let names = reader.stringList(fields, "retriable_methods") {
            let known = ["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE", "POST", "PATCH", "CONNECT"]
            policy.retriableMethods = []
            for name in names.map({ $0.uppercased() }) {
                if known.contains(name) {
                    policy.retriableMethods.append(name)
                } else {
                    reader.report("'retriable_methods': '\(name)' is not an HTTP method", at: node)
                }
            }
        }
        return policy
    }

    /// `retry_on: 5xx,reset` as Envoy writes it, or a YAML list.
    private mutating func retryConditions(_ fields: YAMLNodeReader.Fields) -> RetryPolicyConfiguration.Conditions {
        guard let node = fields["retry_on"] else { return [] }
        let names: [String]
        if case .sequence = node {
            names = reader.stringList(fields, "retry_on") ?? []
        } else {
            names = (reader.string(fields, "retry_on") ?? "").split(separator: ",")
                .map { $0.trimmingCharacters(in: .whitespaces) }
        }
        var conditions: RetryPolicyConfiguration.Conditions = []
        for name in names {
            guard let known = RetryPolicyConfiguration.Conditions.names.first(where: { $0.name == name }) else {
                let choices = RetryPolicyConfiguration.Conditions.names.map(\.name).joined(separator: ", ")
                reader.report("'retry_on': unknown condition '\(name)'; use \(choices)", at: node)
                continue
            }
            conditions.insert(known.condition)
        }
        if names.isEmpty { reader.report("'retry_on' must name at least one condition", at: node) }
        return conditions
    }

    private mutating func retryBackOff(_ node: Node, into policy: inout RetryPolicyConfiguration) {
        guard let fields = reader.fields(node, context: "retry_back_off", allowed: ["base_interval", "max_interval"],
                                         required: ["base_interval"]) else { return }
        if let base = reader.positiveDuration(fields, "base_interval") {
            policy.backOffBaseMilliseconds = base
            policy.backOffMaxMilliseconds = base * 10
        }
        if let max = reader.positiveDuration(fields, "max_interval") {
            if max >= policy.backOffBaseMilliseconds {
                policy.backOffMaxMilliseconds = max
            } else if let maxNode = fields.rawValue("max_interval") {
                reader.report("'max_interval' must not be below 'base_interval'", at: maxNode)
            }
        }
    }
}
