import LuxyConfig
import NIOCore

/// The retry side of one exchange on a route with a `retry_policy`: the retries made, the
/// endpoints already tried, the request body kept to be sent again, and whether the exchange
/// holds one of its cluster's retry slots (the endpoints tried are the driver's `triedEndpoints`). Exchanges on routes without a policy have none.
/// A value owned by its exchange driver, on the connection's loop.
struct RetryAttempts {
    /// The request body as it went upstream, kept for another attempt.
    enum Replay {
        /// Everything sent so far (nil: nothing yet).
        case recording(ByteBuffer?)
        /// The body outgrew the retry buffer: it went upstream once and can't be sent again.
        case overLimit
    }

    /// Whether this exchange counts against its cluster's `max_retries` / retry budget.
    enum RetrySlot {
        case none
        /// From the first retry until the exchange ends.
        case held
    }

    let policy: RetryPolicy
    /// The route's timeout, over all attempts and the waits between them.
    let deadline: NIODeadline
    var retriesMade = 0
    var replay = Replay.recording(nil)
    var slot = RetrySlot.none

    init(policy: RetryPolicy, deadline: NIODeadline) {
        self.policy = policy
        self.deadline = deadline
    }

    /// When the attempt starting at `now` times out: its `per_try_timeout`, within the route's.
    func attemptDeadline(startingAt now: NIODeadline) -> NIODeadline {
        guard let perTry = policy.perTryTimeout else { return deadline }
        return min(deadline, now + perTry)
    }

    /// A part of the request body went upstream: kept, unless the buffer would overflow.
    mutating func record(_ part: ByteBuffer) {
        guard case .recording(let kept) = replay else { return }
        guard (kept?.readableBytes ?? 0) + part.readableBytes <= policy.bufferLimitBytes else {
            replay = .overLimit
            return
        }
        guard var kept else {
            replay = .recording(part)
            return
        }
        // Dropped from the enum first, so the append does not copy the buffer.
        replay = .recording(nil)
        var part = part
        kept.writeBuffer(&part)
        replay = .recording(kept)
    }

    /// The body to send again; nil when there is none.
    var replayBody: ByteBuffer? {
        guard case .recording(let kept) = replay else { return nil }
        return kept
    }

    var bodyIsReplayable: Bool {
        if case .recording = replay { return true }
        return false
    }
}
