/// What a Lua tcp `conn` needs from the proxy, for one connection. Implemented by the
/// adapter in LuxyPlugins over the core's `TCPConnection`; LuxyLua knows nothing of sockets.
///
/// Called on the connection's event loop from inside a host call. `httpCall`'s completion
/// follows `LuaHTTPHost.httpCall`'s rules: on the same loop, exactly once.
public protocol LuaTCPHost: AnyObject {
    /// The client, "ip:port".
    var sourceAddress: String { get }
    /// The listener's address the client connected to, "ip:port".
    var destinationAddress: String { get }
    /// The chosen upstream endpoint, "host:port"; nil before it is connected (`on_connect`).
    var upstreamAddress: String? { get }
    /// The verified client identity when TLS provides one; nil on plain connections.
    var peerIdentity: String? { get }
    /// "inbound" or "outbound": the listener's direction.
    var direction: String { get }
    /// The listener's cluster.
    var clusterName: String { get }

    func httpCall(cluster: String, headers: [(String, String)], body: [UInt8], timeoutMilliseconds: Int,
                  asynchronous: Bool,
                  completion: @escaping (Result<LuaHTTPCallResponse, LuaHostError>) -> Void)

    /// Runs `work` on the connection's event loop on a later tick (see
    /// `LuaHTTPHost.continueLater`).
    func continueLater(_ work: @escaping () -> Void)

    /// `script` is the chunk name of the plugin logging, so lines name their file.
    func log(_ level: LuaLogLevel, _ message: String, script: String)
}

/// The phases of a tcp chain stage and the script functions that run them.
public enum LuaTCPEvent: Sendable, CaseIterable, Hashable {
    case connect, downstreamData, upstreamData, close

    var functionName: String {
        switch self {
        case .connect: "on_connect"
        case .downstreamData: "on_downstream_data"
        case .upstreamData: "on_upstream_data"
        case .close: "on_close"
        }
    }
}

/// What a tcp phase decided.
public enum LuaTCPOutcome: Sendable {
    /// Go on: the connection is accepted, the data passes unchanged (the script returned nil
    /// or nothing), or the close phase ran.
    case proceed
    /// The data is replaced by these bytes (empty drops it): the script returned a string.
    case replace([UInt8])
    /// The script returned false: keep the data and prepend it to the next chunk.
    case hold
    /// The script called `conn:close()`, or `on_connect` returned false.
    case close
    case failed(LuaScriptError)
}
