import Logging
import LuxyCore
import LuxyLua
import NIOCore

/// `LuaTCPHost` over the core's `TCPConnection`: where Lua's `conn` meets the sockets.
final class TCPConnectionLuaHost: LuaTCPHost {
    let connection: TCPConnection
    private let logger: Logger

    init(connection: TCPConnection, logger: Logger) {
        self.connection = connection
        self.logger = logger
    }

    var sourceAddress: String { connection.downstreamRemoteAddress?.envoyDescription ?? "" }
    var destinationAddress: String { connection.downstreamLocalAddress?.envoyDescription ?? "" }
    var upstreamAddress: String? { connection.upstreamTarget }
    var peerIdentity: String? { connection.peerIdentity }
    var direction: String { connection.direction.rawValue }
    var clusterName: String { connection.clusterName }

    func httpCall(cluster: String, headers: [(String, String)], body: [UInt8], timeoutMilliseconds: Int,
                  asynchronous: Bool, completion: @escaping (Result<LuaHTTPCallResponse, LuaHostError>) -> Void) {
        LuaHTTPCallBridge.call(headers: headers, body: body, timeoutMilliseconds: timeoutMilliseconds,
                               asynchronous: asynchronous, completion: completion) { [connection] head, body, timeout, done in
            connection.httpCall(cluster: cluster, head: head, body: body, timeout: timeout, completion: done)
        }
    }

    func continueLater(_ work: @escaping () -> Void) {
        connection.eventLoop.continueLuaPhase(work)
    }

    func log(_ level: LuaLogLevel, _ message: String, script: String) {
        var logger = logger
        logger[metadataKey: "plugin"] = "\(script)"
        logger.log(level: level.loggerLevel, "\(message)")
    }
}

@available(*, unavailable)
extension TCPConnectionLuaHost: Sendable {}
