import NIOCore

/// Whether the upstream connection takes more of the request body now.
enum UpstreamWritability {
    case writable
    case full
}

/// The stages that went on streaming a body (Envoy's `bodyChunks()`) after the chain
/// continued without them, by index into the driver's stages.
struct StreamingStages {
    var request: Int?
    var response: Int?

    subscript(side: HTTPMessageSide) -> Int? {
        get { side == .request ? request : response }
        set { if side == .request { request = newValue } else { response = newValue } }
    }
}

// A stage streaming a body chunk by chunk: each chunk it let go continues as if it had just
// arrived, and its verdict comes after the chain went on. Split from HTTPExchangeDriver.swift.
extension HTTPExchangeDriver: BodyChunkOutlet {
    func streamedChunkPassed(_ chunk: ByteBuffer, side: HTTPMessageSide) {
        switch side {
        case .request: passRequestPart(chunk)
        case .response: passResponsePart(chunk)
        }
    }

    func streamedBodyEnded(side: HTTPMessageSide) {
        switch side {
        case .request: passRequestEnd()
        case .response: passResponseEnd(exchange.responseTrailers)
        }
    }

    func streamWantsMore(side: HTTPMessageSide) {
        switch side {
        case .request:
            // Unless the upstream is full, or the body piles up where it cannot go yet.
            if case .full = upstreamWritability, requestSink != nil { return }
            if requestSink == nil, exchange.request.bufferedBytes > Self.streamingHighWater { return }
            handler.setReadsPaused(false)
        case .response:
            switch state {
            case .streamingResponse:
                upstream?.setReading(handler.context?.channel.isWritable ?? true)
            case .responseStages:
                if exchange.response.bufferedBytes <= Self.streamingHighWater { upstream?.setReading(true) }
            default:
                break
            }
        }
    }

    func bodyStreamingBegan(side: HTTPMessageSide) {
        streamingStages[side] = stageIndex
        switch side {
        case .request:
            // The end, if it came, passes the stage again: the upstream must not get it first.
            requestComplete = false
            // The stage wants the body: a client waiting for `100 Continue` sends it.
            handler.requestBodyNeeded()
        case .response:
            responseEnded = false
        }
    }

    func streamingStageFinished(_ verdict: StageVerdict, side: HTTPMessageSide) {
        guard !isFinished, case .failed = verdict else { return }
        let name = streamingStages[side].map { selection.stages[$0].name } ?? ""
        let reply = LocalReply.error(.internalServerError, "plugin '\(name)' failed")
        exchange.responseFlags.insert(.pluginFailure)
        stats.increment("downstream_rq_plugin_failed")
        switch state {
        case .requestStages, .connecting, .forwarding, .backingOff:
            // The head may be upstream already: that request is given up.
            cancelTimer()
            upstream?.abandon()
            upstream = nil
            requestSink = nil
            sendLocal(reply, runResponseStages: false)
        case .responseStages:
            replaceResponse(reply)
        case .streamingResponse:
            // Part of the response is out: the client learns of the failure by the reset.
            upstream?.abandon()
            upstream = nil
            handler.abortResponse()
            finish()
        case .logging, .loggingDetached, .done:
            break
        }
    }
}
