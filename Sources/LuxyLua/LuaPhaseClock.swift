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

    /// Worked out on first use, which `LuaVM.init` makes: before any loop serves a request.
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

/// What `LuaPhaseClock` counts, and how many nanoseconds one of its ticks is.
struct TickRate: Sendable {
    /// Whether ticks are the cycle counter's; else they are nanoseconds of CLOCK_MONOTONIC.
    let countsCycles: Bool
    let nanosecondsPerTick: Double

    static let monotonic = TickRate(countsCycles: false, nanosecondsPerTick: 1)

    /// The cycle counter's rate against CLOCK_MONOTONIC over `span` nanoseconds, when the
    /// kernel keeps time with it; else `monotonic`.
    static func measure(span: UInt64 = 2_000_000) -> TickRate {
        guard kernelClocksourceIsCycleCounter() else { return .monotonic }
        let startTicks = luxy_cycle_counter()
        let startNanoseconds = LuaPhaseClock.monotonicNanoseconds()
        var endTicks = startTicks
        var endNanoseconds = startNanoseconds
        while endNanoseconds &- startNanoseconds < span {
            endTicks = luxy_cycle_counter()
            endNanoseconds = LuaPhaseClock.monotonicNanoseconds()
        }
        guard endTicks > startTicks else { return .monotonic }
        return TickRate(countsCycles: true,
                        nanosecondsPerTick: Double(endNanoseconds - startNanoseconds) / Double(endTicks - startTicks))
    }

    /// The kernel's current clocksource is the counter `luxy_cycle_counter` reads.
    private static func kernelClocksourceIsCycleCounter() -> Bool {
        #if os(Linux) && arch(x86_64)
        let expected: String? = "tsc"
        #elseif os(Linux) && arch(arm64)
        let expected: String? = "arch_sys_counter"
        #else
        let expected: String? = nil
        #endif
        guard let expected,
              let file = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r") else {
            return false
        }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 64)
        guard fgets(&line, Int32(line.count), file) != nil else { return false }
        let name = line.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }
        return String(decoding: name, as: UTF8.self) == expected
    }
}
