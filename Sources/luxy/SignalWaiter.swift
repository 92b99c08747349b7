@preconcurrency import Dispatch
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// Turns the first of some Unix signals into an awaitable value.
enum SignalWaiter {
    static func wait(for signals: [Int32]) async -> Int32 {
        await withCheckedContinuation { continuation in
            let pending = NIOLockedValueBox<CheckedContinuation<Int32, Never>?>(continuation)
            for number in signals {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler {
                    pending.withLockedValue { continuation in
                        continuation?.resume(returning: number)
                        continuation = nil
                    }
                }
                source.resume()
                // Dispatch cancels a source once it is released; these live as long as the process.
                _ = Unmanaged.passRetained(source as AnyObject)
            }
        }
    }
}
