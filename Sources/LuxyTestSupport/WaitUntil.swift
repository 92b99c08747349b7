/// Waits until `condition` holds, checking it every `interval`, for at most `timeout`: for
/// state that another event loop or process changes where nothing signals the change (a
/// counter of a fake upstream, a port that starts accepting). True if it held in time.
public func waitUntil(timeout: Duration, interval: Duration = .milliseconds(10),
                      _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return true }
        guard ContinuousClock.now < deadline else { return false }
        try? await Task.sleep(for: interval)
    }
}
