import LuxyConfig
import NIOCore
import NIOHTTP1

/// The handlers of a downstream HTTP/1.1 connection, in order.
enum HTTPProxyPipeline {
    static func configure(_ pipeline: ChannelPipeline.SynchronousOperations, listener: ListenerConfiguration,
                          limits: LimitsConfiguration, loop: LoopContext) throws {
        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
        decoderLimits.maxHeaderListSize = limits.maxHeaderBytes
        decoderLimits.maxHeaderFieldSize = limits.maxHeaderBytes
        // Protocol errors are answered by HTTPProxyHandler (400 or 431), not NIO's generic 400.
        try pipeline.configureHTTPServerPipeline(
            withPipeliningAssistance: true, withErrorHandling: false,
            withOutboundHeaderValidation: true, withEncoderConfiguration: .init(),
            withDecoderLimitConfiguration: decoderLimits)
        try pipeline.addHandler(IdleStateHandler(allTimeout: .milliseconds(Int64(limits.idleTimeoutMilliseconds))))
        try pipeline.addHandler(HTTPProxyHandler(listener: listener, loop: loop))
    }
}
