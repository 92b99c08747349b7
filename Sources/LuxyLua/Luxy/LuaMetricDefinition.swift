/// What a script declares with `luxy.metrics.counter/gauge/histogram`: a metric family. Two
/// declarations with equal definitions are the same family, which is how values carry over
/// a reload.
public struct LuaMetricDefinition: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    public var name: String
    public var help: String
    public var kind: Kind
    public var labelNames: [String]
    /// Upper bounds, ascending, for histograms (`+Inf` is implied); empty otherwise.
    public var buckets: [Double]

    /// Prometheus' client defaults.
    static let defaultBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    /// Checks names as Prometheus does; returns what is wrong, or nil.
    var problem: String? {
        if name.hasPrefix("luxy_lua_") { return "names starting with luxy_lua_ are Luxy's own" }
        guard Self.isMetricName(name) else { return "'\(name)' is not a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)" }
        for label in labelNames {
            guard Self.isLabelName(label), !label.hasPrefix("__") else {
                return "'\(label)' is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*, not starting with __)"
            }
            if kind == .histogram, label == "le" { return "'le' is reserved for a histogram's buckets" }
        }
        guard Set(labelNames).count == labelNames.count else { return "label names must differ" }
        guard zip(buckets, buckets.dropFirst()).allSatisfy({ $0 < $1 }), buckets.allSatisfy(\.isFinite) else {
            return "buckets must be finite and ascending"
        }
        return nil
    }

    private static func isMetricName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCIILetter || first == "_" || first == ":" else {
            return false
        }
        return name.unicodeScalars.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" || $0 == ":" }
    }

    private static func isLabelName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCIILetter || first == "_" else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" }
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
    fileprivate var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
