import XCTest

@testable import LuxyLua

final class LuaPhaseClockTests: XCTestCase {
    /// Prints what each clock costs per read (no timing is asserted: the machine is shared).
    func testClockCosts() {
        let reads = 200_000
        var sink: UInt64 = 0
        func nanosecondsPerRead(_ read: () -> UInt64) -> UInt64 {
            let start = LuaPhaseClock.monotonicNanoseconds()
            for _ in 0..<reads { sink &+= read() }
            return (LuaPhaseClock.monotonicNanoseconds() - start) / UInt64(reads)
        }
        let phaseClock = nanosecondsPerRead(LuaPhaseClock.now)
        let monotonic = nanosecondsPerRead(LuaPhaseClock.monotonicNanoseconds)
        let threadCPU = nanosecondsPerRead(LuaPhaseClock.threadCPU)
        XCTAssertNotEqual(sink, 0)
        print("phase clock (\(LuaPhaseClock.rate.countsCycles ? "cycle counter" : "CLOCK_MONOTONIC")): \(phaseClock) ns "
            + "per read; CLOCK_MONOTONIC \(monotonic) ns, CLOCK_THREAD_CPUTIME_ID \(threadCPU) ns")
    }

    /// Ticks turned into nanoseconds agree with CLOCK_MONOTONIC over a span of work: the rate
    /// measured over 2 ms holds over 50 ms, within 1% (what a per-stage cost needs).
    func testTicksConvertToTheMonotonicClocksNanoseconds() {
        let startTicks = LuaPhaseClock.now()
        let start = LuaPhaseClock.monotonicNanoseconds()
        var now = start
        while now - start < 50_000_000 { now = LuaPhaseClock.monotonicNanoseconds() }
        let ticks = LuaPhaseClock.now() - startTicks
        let measured = Double(LuaPhaseClock.nanoseconds(ticks))
        XCTAssertEqual(measured, Double(now - start), accuracy: Double(now - start) * 0.01,
                       "rate \(LuaPhaseClock.rate)")
    }

    /// Where the kernel does not keep time with the cycle counter, a tick is a nanosecond.
    func testTheMonotonicRateIsOneNanosecondPerTick() {
        XCTAssertFalse(TickRate.monotonic.countsCycles)
        XCTAssertEqual(TickRate.monotonic.nanosecondsPerTick, 1)
        let rate = TickRate.measure(span: 1_000_000)
        XCTAssertGreaterThan(rate.nanosecondsPerTick, 0)
    }
}
