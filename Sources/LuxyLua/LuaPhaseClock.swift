import CLuaShims
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The clock a phase's cost is measured with, read around every resume of its coroutine.
/// A resume never blocks (every wait yields), so the time it takes is the CPU time it used
/// unless the thread was preempted meanwhile.
///
/// It counts ticks of the CPU's cycle counter where the kernel keeps its own time with that
/// counter (clocksource `tsc` on x86-64, which Linux picks only for an invariant TSC kept in
/// step across CPUs; `arch_sys_counter` on AArch64): a read is one instruction, about 9 ns on
/// the bench machine against 20 for CLOCK_MONOTONIC through the vDSO, and a phase reads it
/// twice. Elsewhere a tick is a nanosecond of CLOCK_MONOTONIC. Ticks become nanoseconds once
/// per phase (`nanoseconds(_:)`), at a rate worked out once per process against
/// CLOCK_MONOTONIC, over 2 ms, when the first VM is made (`TickRate`).
/// CLOCK_THREAD_CPUTIME_ID would be exact but is a system call on Linux, several times dearer
/// (LuaPhaseClockTests).
enum LuaPhaseClock {
    @inline(__always) static func now() -> UInt64 {
        rate.countsCycles ? luxy_cycle_counter() : monotonicNanoseconds()
    }

    /// `ticks` (a difference of two `now()`) in nanoseconds.
    static func nanoseconds(_ ticks: UInt64) -> UInt64 {
        rate.countsCycles ? UInt64(Double(ticks) * rate.nanosecondsPerTick) : ticks
    }

    /// Worked out on first use, which `LuaVM.init` makes. In the program that is the
    /// configuration check's VM (`ConfigurationSnapshot`), made by the reload task before any
    /// loop builds its own, so the 2 ms of the measure never hold an event loop.
    static let rate = TickRate.measure()

    /// The thread's CPU time, for comparison.
    static func threadCPU() -> UInt64 {
        read(CLOCK_THREAD_CPUTIME_ID)
    }

    static func monotonicNanoseconds() -> UInt64 {
        read(CLOCK_MONOTONIC)
    }

    @inline(__always) private static func read(_ clock: clockid_t) -> UInt64 {
        var spec = timespec()
        clock_gettime(clock, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }
}
