import NIOCore

/// What a stage that takes a body chunk by chunk (Envoy's `bodyChunks()`) is handed next.
public enum BodyChunkStep {
    /// A chunk is held for the stage (`HTTPExchange.heldBodyChunk`) until it asks for the next.
    case chunk
    /// The body ended (or there is none): nothing more comes.
    case end
    case failed(HTTPExchange.BodyError)
}

/// Which message of an exchange a body operation is about.
public enum HTTPMessageSide: Sendable {
    case request, response
}

/// Where a streamed body goes after each chunk's step: the driver forwards it as if it had
/// just arrived (to the upstream, to the client, or into the buffer of a later stage).
protocol BodyChunkOutlet: AnyObject {
    func streamedChunkPassed(_ chunk: ByteBuffer, side: HTTPMessageSide)
    func streamedBodyEnded(side: HTTPMessageSide)
    /// The stage waits for its next chunk: the sender may go on.
    func streamWantsMore(side: HTTPMessageSide)
}

/// One message body taken by a stage chunk by chunk, with backpressure: at most the chunk in
/// the stage's step and what one read brought in are here, never the whole body.
///
/// A class: the stage's completion may come straight back in (`next`).
/// Lives on the exchange's event loop.
final class BodyChunkStream {
    enum State {
        /// No stage takes this body chunk by chunk; parts flow (or buffer) as before.
        case idle
        /// The stage takes the body and is between steps: it has no chunk and asked for none.
        case ready
        /// The stage asked for the next chunk and none is here yet.
        case awaiting((BodyChunkStep) -> Void)
        /// A chunk is in the stage's iteration step.
        case holding(ByteBuffer)
        /// The body ended right after the chunk in the step: as Envoy hands the last chunk
        /// together with the end, it stays the stage's (a loop may change it after its end)
        /// until the stage lets go.
        case holdingLast(ByteBuffer)
        /// The stage saw the end, or stopped taking chunks: parts flow past it again.
        case done
    }

    /// Whether the sender finished the body while the stage still takes chunks.
    enum Source: Equatable {
        case open
        case ended
    }

    let side: HTTPMessageSide
    private(set) var state = State.idle
    private var source = Source.open
    /// Parts that came in one read while the stage held a chunk: bounded by a read, since
    /// the sender is paused as soon as a part finds the stage busy.
    private var queue = CircularBuffer<ByteBuffer>()
    weak var outlet: BodyChunkOutlet?

    init(side: HTTPMessageSide) {
        self.side = side
    }

    /// A stage took this body chunk by chunk and has not let go of it.
    var isTaking: Bool {
        switch state {
        case .idle, .done: return false
        case .ready, .awaiting, .holding, .holdingLast: return true
        }
    }

    var isHolding: Bool {
        if case .holding = state { return true }
        return false
    }

    var heldChunk: ByteBuffer? {
        switch state {
        case .holding(let chunk), .holdingLast(let chunk): return chunk
        case .idle, .ready, .awaiting, .done: return nil
        }
    }

    func replaceHeldChunk(_ chunk: ByteBuffer) {
        switch state {
        case .holding: state = .holding(chunk)
        case .holdingLast: state = .holdingLast(chunk)
        case .idle, .ready, .awaiting, .done: break
        }
    }

    /// The stage takes the body from now on. What arrived before is its first chunk;
    /// `ended` when the whole body is here already (or there is none).
    func begin(buffered: ByteBuffer?, ended: Bool) {
        guard case .idle = state else { return }
        if let buffered, buffered.readableBytes > 0 { queue.append(buffered) }
        source = ended ? .ended : .open
        state = .ready
    }

    /// A part from the sender; false when no stage takes the body (the caller forwards it).
    /// It reaches the stage on `deliver()`: parts of one read go together, so a last part
    /// and the end that came with it reach the stage as Envoy's data with end_stream.
    func take(_ part: ByteBuffer) -> Bool {
        switch state {
        case .idle, .done:
            return false
        case .ready, .awaiting, .holding, .holdingLast:
            queue.append(part)
            return true
        }
    }

    /// Hands a waiting stage what came in.
    func deliver() {
        guard case .awaiting(let completion) = state, !queue.isEmpty || source == .ended else { return }
        state = .ready
        next(completion)
    }

    /// The sender's end; false when no stage takes the body.
    func takeEnd() -> Bool {
        switch state {
        case .idle, .done:
            return false
        case .awaiting:
            source = .ended
            deliver()
            return true
        case .ready, .holding, .holdingLast:
            source = .ended
            return true
        }
    }

    /// The stage's step on the chunk it held is over (that chunk goes on), and it wants the next.
    func next(_ completion: @escaping (BodyChunkStep) -> Void) {
        switch state {
        case .idle, .done:
            return completion(.end)
        case .holding(let chunk):
            if queue.isEmpty, case .ended = source {
                state = .holdingLast(chunk)
                return completion(.end)
            }
            state = .ready
            outlet?.streamedChunkPassed(chunk, side: side)
            // Passing the chunk on may have ended the exchange (a failed upstream write).
            guard case .ready = state else { return completion(.failed(.aborted)) }
        case .holdingLast:
            return completion(.end)
        case .ready, .awaiting:
            break
        }
        if let part = queue.popFirst() {
            state = .holding(part)
            return completion(.chunk)
        }
        if case .ended = source {
            state = .done
            outlet?.streamedBodyEnded(side: side)
            return completion(.end)
        }
        state = .awaiting(completion)
        outlet?.streamWantsMore(side: side)
    }

    /// The stage lets go (its loop or phase ended): the chunk it held and the rest flow on.
    func stop() {
        let held = heldChunk
        guard isTaking else { return }
        state = .done
        if let held { outlet?.streamedChunkPassed(held, side: side) }
        while let part = queue.popFirst() { outlet?.streamedChunkPassed(part, side: side) }
        if case .ended = source { outlet?.streamedBodyEnded(side: side) }
        outlet?.streamWantsMore(side: side)
    }

    /// The connection went away: a stage waiting for a chunk hears it.
    func abort() {
        queue.removeAll()
        let waiting = state
        state = .done
        if case .awaiting(let completion) = waiting { completion(.failed(.aborted)) }
    }
}

@available(*, unavailable)
extension BodyChunkStream: Sendable {}
