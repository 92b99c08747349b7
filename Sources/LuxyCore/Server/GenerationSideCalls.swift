import NIOCore
import NIOHTTP1

/// Side calls to a generation's clusters from work that belongs to no request or connection
/// (a Lua timer exporting a batch): handed to the stage layer when the generation is
/// committed on its loop (`LoopChains.onCommit`). A call keeps the generation open until it
/// ends, as a request would; once the generation has closed, calls are answered 503.
///
/// Only touched on its loop.
public final class GenerationSideCalls {
    private weak var generation: LoopGeneration?

    init(generation: LoopGeneration) {
        self.generation = generation
    }

    public func hasCluster(_ name: String) -> Bool {
        generation?.services.hasCluster(name) ?? false
    }

    /// As `HTTPExchange.httpCall`: transport failures come back as a local 5xx response.
    public func httpCall(cluster: String, head: HTTPRequestHead, body: ByteBuffer?, timeout: TimeAmount,
                         completion: @escaping (HTTPResponseHead, ByteBuffer) -> Void) {
        guard let generation, !generation.isClosed else {
            let reply = LocalReply.error(.serviceUnavailable, "the generation has closed")
            return completion(reply.head, reply.body)
        }
        generation.sideCall(cluster: cluster, head: head, body: body, timeout: timeout, completion: completion)
    }
}

@available(*, unavailable)
extension GenerationSideCalls: Sendable {}
