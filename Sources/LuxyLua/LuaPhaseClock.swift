#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The clock a phase's cost is measured with, read around every resume of its coroutine.
/// A resume never blocks (every wait yields), so the monotonic time it takes is the CPU time
/// it used unless the thread was preempted meanwhile. CLOCK_MONOTONIC is read in user space
/// (the vDSO, about 20-40 ns); CLOCK_THREAD_CPUTIME_ID would be exact but is a system call on
/// Linux, several times dearer (see LuaPhaseClockTests for both figures on this machine).
enum LuaPhaseClock {
    @inline(__always) static func now() -> UInt64 {
        read(CLOCK_MONOTONIC)
    }

    /// The thread's CPU time, for comparison.
    static func threadCPU() -> UInt64 {
        read(CLOCK_THREAD_CPUTIME_ID)
    }

    @inline(__always) private static func read(_ clock: clockid_t) -> UInt64 {
        var spec = timespec()
        clock_gettime(clock, &spec)
        return UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec)
    }
}
