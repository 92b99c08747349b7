import Logging
import LuxyConfig
import LuxyCore
import LuxyLua
import NIOCore

/// One Lua script in a tcp chain, on one loop. All stages of a connection share one
/// `LuaTCPStream` (kept in `connection.pluginState`).
final class LuaTCPStage: LuaStage, TCPStage {
    let counters: LuaStageCounters

    init(resolved: ResolvedStage, script: LuaScript, vm: LuaVM, logger: Logger, counters: LuaStageCounters) {
        self.counters = counters
        super.init(resolved: resolved, script: script, vm: vm, logger: logger)
    }

    var handlesConnect: Bool { script.handles(.connect) }
    var handlesDownstreamData: Bool { script.handles(.downstreamData) }
    var handlesUpstreamData: Bool { script.handles(.upstreamData) }
    var handlesClose: Bool { script.handles(.close) }
    private var failOpen: Bool { resolved.configuration.failOpen }

    func runConnect(_ connection: TCPConnection, completion: @escaping (TCPConnectVerdict) -> Void) {
        let stream = stream(connection)
        counters.started(.connect)
        stream.run(script, .connect) { [self] outcome in
            counters.ran(.connect, nanoseconds: stream.lastPhaseNanoseconds)
            switch outcome {
            case .proceed, .replace, .hold: completion(.proceed)
            case .close: completion(.refuse)
            case .failed(let error):
                failed(error, event: .connect)
                completion(failOpen ? .proceed : .failed(error.message))
            }
        }
    }

    func runData(_ connection: TCPConnection, from side: TCPSide, bytes: ByteBuffer, endOfStream: Bool,
                 completion: @escaping (TCPDataVerdict) -> Void) {
        let event: LuaTCPEvent = side == .downstream ? .downstreamData : .upstreamData
        let stream = stream(connection)
        counters.started(event.stagePhase)
        bytes.withUnsafeReadableBytes { data in
            stream.run(script, event, data: data, endOfStream: endOfStream) { [self] outcome in
                counters.ran(event.stagePhase, nanoseconds: stream.lastPhaseNanoseconds)
                switch outcome {
                case .proceed: completion(.pass)
                case .replace(let replacement): completion(.replace(ByteBuffer(bytes: replacement)))
                case .hold: completion(.hold)
                case .close: completion(.close)
                case .failed(let error):
                    failed(error, event: event)
                    completion(failOpen ? .pass : .failed(error.message))
                }
            }
        }
    }

    func runClose(_ connection: TCPConnection) {
        let stream = stream(connection)
        counters.started(.close)
        stream.run(script, .close) { [self] outcome in
            counters.ran(.close, nanoseconds: stream.lastPhaseNanoseconds)
            if case .failed(let error) = outcome { failed(error, event: .close) }
        }
    }

    private func failed(_ error: LuaScriptError, event: LuaTCPEvent) {
        counters.failed(event.stagePhase)
        logger.error("plugin failed", metadata: [
            "error": "\(error.message)", "phase": "\(event)", "fail_open": "\(failOpen)",
        ])
    }

    private func stream(_ connection: TCPConnection) -> LuaTCPStream {
        if let stream = connection.pluginState as? LuaTCPStream { return stream }
        let stream = LuaTCPStream(vm: vm, host: TCPConnectionLuaHost(connection: connection, logger: logger))
        connection.pluginState = stream
        return stream
    }

    /// The connection is over: its `conn` objects die once phases still waiting end.
    static func finish(_ connection: TCPConnection) {
        (connection.pluginState as? LuaTCPStream)?.finish()
        connection.pluginState = nil
    }
}

