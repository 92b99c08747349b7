import CLuaShims
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
