import XCTest

@testable import LuxyLua

final class LuaPhaseClockTests: XCTestCase {
    /// Prints what each clock costs per read (no timing is asserted: the machine is shared).
    func testClockCosts() {
        let reads = 200_000
        var sink: UInt64 = 0
        var start = LuaPhaseClock.now()
        for _ in 0..<reads { sink &+= LuaPhaseClock.now() }
        let monotonic = (LuaPhaseClock.now() - start) / UInt64(reads)
        start = LuaPhaseClock.now()
        for _ in 0..<reads { sink &+= LuaPhaseClock.threadCPU() }
        let threadCPU = (LuaPhaseClock.now() - start) / UInt64(reads)
        XCTAssertNotEqual(sink, 0)
        print("phase clock: CLOCK_MONOTONIC \(monotonic) ns per read, CLOCK_THREAD_CPUTIME_ID \(threadCPU) ns per read")
    }
}
