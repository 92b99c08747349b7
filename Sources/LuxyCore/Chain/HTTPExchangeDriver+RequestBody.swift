import LuxyConfig
import NIOCore
import NIOHTTP1

// The client's request body: buffered while the stages run or a connection is made, passed on
// once the request has somewhere to go, and its failures (over the buffering limit, cut off).
extension HTTPExchangeDriver {
    func requestBodyPart(_ part: ByteBuffer) {
        exchange.bytesReceived += part.readableBytes
        if let stream = exchange.requestChunks, stream.take(part) {
            stream.deliver()
            // The stage is in a step on an earlier chunk: the client waits until it asks
            // for the next one (`streamWantsMore`).
            if stream.isHolding { handler.setReadsPaused(true) }
            return
        }
        passRequestPart(part)
    }

    /// A part of the request body past every stage that streams it: upstream, or held until
    /// the request can go there.
    func passRequestPart(_ part: ByteBuffer) {
        if let requestSink {
            if retries != nil { retries!.record(part) }
            requestSink.send(.body(.byteBuffer(part)), flush: false)
            handler.flushUpstream(requestSink)
            return
        }
        switch state {
        case .forwarding:
            break
        case .requestStages, .connecting, .backingOff:
            guard exchange.appendBody(.request, part) else { return }
            if !exchange.request.isWanted, exchange.request.bufferedBytes > Self.streamingHighWater {
                handler.setReadsPaused(true)
            }
        case .responseStages, .streamingResponse, .logging, .loggingDetached, .done:
            break  // answered before the body ended (local reply): the rest is discarded
        }
    }

    func requestEnded(_ trailers: HTTPHeaders?) {
        exchange.requestTrailers = trailers
        if let stream = exchange.requestChunks, stream.takeEnd() { return }
        passRequestEnd()
    }

    /// The request's end, past every stage that streams its body.
    func passRequestEnd() {
        requestComplete = true
        if let requestSink {
            self.requestSink = nil
            requestSink.send(.end(exchange.requestTrailers), flush: false)
            handler.flushUpstream(requestSink)
        } else {
            exchange.completeBody(.request)
        }
    }

    func failRequestBody(_ error: HTTPExchange.BodyError) {
        switch error {
        case .tooLarge:
            stats.increment("downstream_body_too_large")
            exchange.responseFlags.insert(.localReply)
            handler.quiesce()
            sendLocal(LocalReply.error(.payloadTooLarge, error.description, close: true), runResponseStages: false)
        case .aborted:
            finish()
        }
    }
}
