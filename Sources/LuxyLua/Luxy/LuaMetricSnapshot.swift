/// One series of one loop as the scrape reads it; `labels` nil carries only a family's count
/// of dropped observations.
public struct LuaMetricSeriesSnapshot: Sendable {
    public var family: LuaMetricFamily
    public var labels: [String]?
    public var value: Double
    public var buckets: [UInt64]
    public var count: UInt64
    public var dropped: Int
}

/// A family summed over every loop, ready to render.
public struct LuaMetricFamilySnapshot: Sendable {
    public var definition: LuaMetricDefinition
    public var series: [LuaMetricSeriesTotal]
    /// Observations dropped by the cardinality bound.
    public var dropped: Int
}

/// One label set summed over every loop. A histogram's `buckets` are cumulative here.
public struct LuaMetricSeriesTotal: Sendable {
    public var labels: [String]
    public var value: Double
    public var buckets: [UInt64]
    public var count: UInt64
}
