import NIOCore

// Envoy's `bodyChunks()` from the core's side: a stage pulls one chunk at a time, each one
// going on its way when the stage asks for the next. The first pull makes the exchange
// continue without waiting for the stage (the head goes on, so the body can flow), as Envoy
// continues the headers when a script starts iterating.
extension HTTPExchange {
    /// Hands the chunk held for the stage on its way and completes with the next one (or the
    /// end). Completes synchronously when a chunk is already here.
    public func nextBodyChunk(_ side: HTTPMessageSide, _ completion: @escaping (BodyChunkStep) -> Void) {
        chunkStream(side).next(completion)
    }

    /// The chunk in the stage's iteration step; nil between steps.
    public func heldBodyChunk(_ side: HTTPMessageSide) -> ByteBuffer? {
        side == .request ? requestChunks?.heldChunk : responseChunks?.heldChunk
    }

    /// Replaces the held chunk's bytes before it goes on (Envoy's `setBytes` on a chunk).
    public func replaceHeldBodyChunk(_ side: HTTPMessageSide, with chunk: ByteBuffer) {
        (side == .request ? requestChunks : responseChunks)?.replaceHeldChunk(chunk)
    }

    /// The stage's loop or phase ended: the held chunk and the rest of the body flow on.
    public func stopBodyChunks(_ side: HTTPMessageSide) {
        (side == .request ? requestChunks : responseChunks)?.stop()
    }

    /// The verdict of a stage that was streaming when the chain went on without it. A
    /// failure drops what it held: the exchange fails.
    public func streamingStageFinished(_ verdict: StageVerdict, side: HTTPMessageSide) {
        let stream = side == .request ? requestChunks : responseChunks
        if case .failed = verdict { stream?.abort() } else { stream?.stop() }
        flowControl?.streamingStageFinished(verdict, side: side)
    }

    /// Whether a stage streams this side's body now (the head went on before it).
    public func isStreamingBody(_ side: HTTPMessageSide) -> Bool {
        (side == .request ? requestChunks : responseChunks)?.isTaking ?? false
    }

    private func chunkStream(_ side: HTTPMessageSide) -> BodyChunkStream {
        if let existing = side == .request ? requestChunks : responseChunks { return existing }
        let stream = BodyChunkStream(side: side)
        stream.outlet = flowControl
        // The stream may change chunks' sizes (`setBytes`) after the head went on: the length
        // the head declares can no longer be promised, so the body goes chunked (or, to an
        // HTTP/1.0 client, ends with the connection).
        if side == .request ? request.hasBody : response.hasBody {
            if side == .request {
                requestHead.headers.remove(name: "content-length")
            } else {
                responseHead?.headers.remove(name: "content-length")
            }
        }
        let handed = side == .request ? request.handOver() : response.handOver()
        stream.begin(buffered: handed.buffered, ended: handed.ended)
        if side == .request { requestChunks = stream } else { responseChunks = stream }
        flowControl?.bodyStreamingBegan(side: side)
        return stream
    }
}
