import LuxyConfig
import NIOCore

/// The client-side timeouts one downstream HTTP/1.1 connection applies, read from `limits:`
/// once per connection. An HTTP/2 stream has none of its own: its connection bounds it
/// (`HTTP2StreamDeadlines`, NIO's idle handling).
///
/// A value, sendable, read on the connection's loop.
struct DownstreamTimeouts: Sendable, Equatable {
    /// Keep-alive: no request for this long and the connection closes.
    var idle: TimeAmount?
    /// A request head started (or the connection opened) and is not complete → 408.
    var requestHeader: TimeAmount?
    /// Nothing read of an unfinished request body for this long → 408, or a cut.
    var requestBody: TimeAmount?
    /// A response that cannot be written (the client does not read) for this long → close.
    var send: TimeAmount?

    static let none = DownstreamTimeouts(idle: nil, requestHeader: nil, requestBody: nil, send: nil)

    init(idle: TimeAmount?, requestHeader: TimeAmount?, requestBody: TimeAmount?, send: TimeAmount?) {
        self.idle = idle
        self.requestHeader = requestHeader
        self.requestBody = requestBody
        self.send = send
    }

    init(limits: LimitsConfiguration) {
        self.init(idle: .milliseconds(Int64(limits.idleTimeoutMilliseconds)),
                  requestHeader: .milliseconds(Int64(limits.requestHeaderTimeoutMilliseconds)),
                  requestBody: .milliseconds(Int64(limits.requestBodyTimeoutMilliseconds)),
                  send: .milliseconds(Int64(limits.sendTimeoutMilliseconds)))
    }
}
