import XCTest

@testable import LuxyLua

/// A metric finds the series of its label values: the last one by comparing the values where
/// Lua holds them, any other through the family's table, each label set keeping its own.
final class LuaMetricSeriesTests: LuaTestCase {
    func testAlternatingLabelSetsEachKeepTheirOwnSeries() throws {
        let script = try load("""
            local c = luxy.metrics.counter("alt_total", "", {"a", "b"})
            function envoy_on_request(h)
              c:inc(1, "x", "1")
              c:inc(1, "x", "1")
              c:inc(1, "x", "2")
              c:inc(2, "x", "1")
              c:inc(1, "y", "1")
              c:inc(1, "x", "")
              c:inc(1, 7, "1")
              c:inc(1, "7", "1")
            end
            """)
        assertCompleted(run(script))
        var totals: [String: Double] = [:]
        for series in vm.luxyState.metrics[0].values { totals[series.labels.joined(separator: "|")] = series.value }
        XCTAssertEqual(totals, ["x|1": 4, "x|2": 1, "y|1": 1, "x|": 1, "7|1": 2])
    }
}
