/// One named counter of one event loop, registered once (when a generation is built) and then
/// bumped with a plain increment on the request path: no hashing, no lock, no atomic. Lives on
/// its loop like the `ProxyStats` that hands it out.
public final class StatCounter {
    public private(set) var value = 0

    init() {}

    @inline(__always) public func increment() {
        value += 1
    }

    @inline(__always) public func add(_ amount: Int) {
        value += amount
    }
}

@available(*, unavailable)
extension StatCounter: Sendable {}
