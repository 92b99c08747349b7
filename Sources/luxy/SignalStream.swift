@preconcurrency import Dispatch

#if canImport(Glibc)
import Glibc
#endif

/// Unix signals as an async sequence, delivered by Dispatch instead of a signal handler so
/// that the work they trigger runs as ordinary code.
enum SignalStream {
    static func make(_ signals: [Int32]) -> AsyncStream<Int32> {
        AsyncStream { continuation in
            for number in signals {
                signal(number, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
                source.setEventHandler { continuation.yield(number) }
                source.resume()
                // Dispatch cancels a source once it is released; these live as long as the process.
                _ = Unmanaged.passRetained(source as AnyObject)
            }
        }
    }
}
