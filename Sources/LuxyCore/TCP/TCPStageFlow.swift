import NIOCore

/// One direction of a proxied TCP connection through its stages, one chunk at a time: a
/// stage that waits (a script in `httpCall`) holds up this direction only, and what arrives
/// meanwhile queues here (the session stops reading while it does).
final class TCPStageFlow {
    enum Stop {
        case closedBy(stage: String)
        case failed(stage: String, reason: String)
    }

    /// Where the bytes come from.
    let side: TCPSide
    private let stages: [TCPStage]
    private unowned let connection: TCPConnection
    private let deliver: (ByteBuffer, _ endOfStream: Bool) -> Void
    private let stop: (Stop) -> Void
    /// Called when the queue drained, so the session can read the source side again.
    var becameIdle: (() -> Void)?
    /// Per stage: what it said to hold, prepended to its next chunk.
    private var held: [ByteBuffer?]
    private var queue = CircularBuffer<(bytes: ByteBuffer, endOfStream: Bool)>()
    private var state = State.waiting
    /// Set while `pump` runs: a stage answering synchronously comes back into it.
    private var pumping = false

    enum State {
        /// No chunk in the stages: the next queued one may go.
        case waiting
        /// A chunk is going through the stages (one may be waiting for a script).
        case running
        /// The end of the stream went through every stage.
        case ended
        /// The connection is going away: nothing more goes through, no completion is heard.
        case cancelled
    }

    /// The end of the stream went through every stage.
    var ended: Bool {
        if case .ended = state { return true }
        return false
    }
    /// Bytes queued, held by stages, or in the chunk going through the stages now.
    private(set) var bufferedBytes = 0
    private var chunkBytes = 0

    /// `stages` in the order this direction runs them.
    init(side: TCPSide, stages: [TCPStage], connection: TCPConnection,
         deliver: @escaping (ByteBuffer, _ endOfStream: Bool) -> Void, stop: @escaping (Stop) -> Void) {
        self.side = side
        self.stages = stages.filter { side == .downstream ? $0.handlesDownstreamData : $0.handlesUpstreamData }
        self.connection = connection
        self.deliver = deliver
        self.stop = stop
        self.held = Array(repeating: nil, count: self.stages.count)
    }

    /// Nothing in flight or queued: the source side may be read.
    var isIdle: Bool {
        switch state {
        case .waiting, .ended: return queue.isEmpty
        case .running, .cancelled: return false
        }
    }

    func enqueue(_ bytes: ByteBuffer, endOfStream: Bool) {
        switch state {
        case .ended, .cancelled: return
        case .waiting, .running: break
        }
        bufferedBytes += bytes.readableBytes
        queue.append((bytes, endOfStream))
        pump()
    }

    /// The connection is going away: drop everything, answer no more completions.
    func cancel() {
        state = .cancelled
        queue.removeAll()
        held = held.map { _ in nil }
        bufferedBytes = 0
    }

    private func pump() {
        guard !pumping else { return }
        pumping = true
        defer { pumping = false }
        // A loop, not recursion: stages that answer synchronously must not grow the stack
        // with every queued chunk.
        while case .waiting = state, let next = queue.popFirst() {
            state = .running
            chunkBytes = next.bytes.readableBytes
            run(0, next.bytes, endOfStream: next.endOfStream)
        }
        switch state {
        case .waiting, .ended: becameIdle?()
        case .running, .cancelled: break
        }
    }

    private func run(_ index: Int, _ bytes: ByteBuffer, endOfStream: Bool) {
        guard index < stages.count else {
            if endOfStream { state = .ended }
            deliver(bytes, endOfStream)
            return chunkDone()
        }
        var input = bytes
        if var prefix = held[index] {
            held[index] = nil
            bufferedBytes -= prefix.readableBytes
            prefix.writeBuffer(&input)
            input = prefix
        }
        let stage = stages[index]
        var answered = false
        stage.runData(connection, from: side, bytes: input, endOfStream: endOfStream) { [self] verdict in
            guard !answered, !isCancelled else { return }
            answered = true
            switch verdict {
            case .pass:
                advance(index, input, endOfStream: endOfStream)
            case .replace(let replacement):
                advance(index, replacement, endOfStream: endOfStream)
            case .hold:
                if endOfStream { return advance(index, input, endOfStream: true) }
                held[index] = input
                bufferedBytes += input.readableBytes
                chunkDone()
            case .close:
                stop(.closedBy(stage: stage.name))
            case .failed(let reason):
                stop(.failed(stage: stage.name, reason: reason))
            }
        }
    }

    private func advance(_ index: Int, _ bytes: ByteBuffer, endOfStream: Bool) {
        // A dropped chunk goes no further; the end of the stream always does, so every
        // later stage can hand on what it held.
        if bytes.readableBytes == 0, !endOfStream { return chunkDone() }
        run(index + 1, bytes, endOfStream: endOfStream)
    }

    private func chunkDone() {
        if isCancelled { return }
        bufferedBytes -= chunkBytes
        chunkBytes = 0
        if case .running = state { state = .waiting }
        pump()
    }

    private var isCancelled: Bool {
        if case .cancelled = state { return true }
        return false
    }
}

@available(*, unavailable)
extension TCPStageFlow: Sendable {}
