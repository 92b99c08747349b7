import LuxyLua
import NIOCore

/// One test connection through a target's tcp stages, with production's rules
/// (`TCPProxySession`, `TCPStageFlow`): `on_connect` in chain order, client bytes through
/// the stages in chain order and server bytes in reverse, a held chunk prepended to the
/// stage's next one (and handed on at the end of the stream), an empty replacement dropping
/// the chunk, `conn:close()` or a failure (unless fail-open) closing the connection, and
/// `on_close` for every stage once it ends. Confined to the harness's loop.
final class TCPSessionRun {
    enum State {
        case open
        case closed(by: String?)
    }

    let host: InMemoryTCPHost
    let stream: LuaTCPStream
    private let stages: [PluginTestStage]
    private(set) var state = State.open
    private(set) var errors: [StageError] = []
    /// Everything handed on to each side so far.
    private(set) var toServer: [UInt8] = []
    private(set) var toClient: [UInt8] = []
    /// Per stage and direction, what it held.
    private var held: [TCPSide: [Int: [UInt8]]] = [:]

    enum TCPSide: Hashable { case downstream, upstream }

    init(target: PluginTestTarget, connection: TestTCPConnection, vm: LuaVM, eventLoop: EventLoop) {
        host = InMemoryTCPHost(connection: connection, eventLoop: eventLoop, configuredClusters: target.clusters)
        stream = LuaTCPStream(vm: vm, host: host)
        stages = target.stages
    }

    var isOpen: Bool {
        if case .open = state { return true }
        return false
    }

    /// `on_connect` of each stage; `completion(accepted)`.
    func connect(completion: @escaping (Bool) -> Void) {
        runConnect(0, completion)
    }

    private func runConnect(_ index: Int, _ completion: @escaping (Bool) -> Void) {
        guard index < stages.count else { return completion(true) }
        let stage = stages[index]
        stream.run(stage.script, .connect) { [self] outcome in
            switch outcome {
            case .proceed, .replace, .hold: runConnect(index + 1, completion)
            case .close:
                close(by: stage.name) { completion(false) }
            case .failed(let error):
                errors.append(StageError(stage: stage.name, message: error.message))
                if stage.failOpen { return runConnect(index + 1, completion) }
                close(by: stage.name) { completion(false) }
            }
        }
    }

    /// One chunk from `side` through the stages; `completion` gets what reached the other side.
    func data(from side: TCPSide, _ bytes: [UInt8], endOfStream: Bool, completion: @escaping ([UInt8]) -> Void) {
        guard isOpen else { return completion([]) }
        let order = side == .downstream ? Array(stages.indices) : Array(stages.indices.reversed())
        runData(order, 0, side, bytes, endOfStream, completion)
    }

    private func runData(_ order: [Int], _ position: Int, _ side: TCPSide, _ bytes: [UInt8], _ endOfStream: Bool,
                         _ completion: @escaping ([UInt8]) -> Void) {
        guard position < order.count else {
            if side == .downstream { toServer += bytes } else { toClient += bytes }
            return completion(bytes)
        }
        let index = order[position]
        let stage = stages[index]
        let event: LuaTCPEvent = side == .downstream ? .downstreamData : .upstreamData
        guard stage.script.handles(event) else {
            return runData(order, position + 1, side, bytes, endOfStream, completion)
        }
        let input = (held[side]?[index] ?? []) + bytes
        held[side]?[index] = nil
        let next: ([UInt8]) -> Void = { [self] output in
            // A dropped chunk goes no further; the end of the stream always does.
            if output.isEmpty, !endOfStream { return completion([]) }
            runData(order, position + 1, side, output, endOfStream, completion)
        }
        input.withUnsafeBytes { data in
            stream.run(stage.script, event, data: data, endOfStream: endOfStream) { [self] outcome in
                switch outcome {
                case .proceed: next(input)
                case .replace(let replacement): next(replacement)
                case .hold:
                    if endOfStream { return next(input) }
                    held[side, default: [:]][index] = input
                    completion([])
                case .close: close(by: stage.name) { completion([]) }
                case .failed(let error):
                    errors.append(StageError(stage: stage.name, message: error.message))
                    if stage.failOpen { return next(input) }
                    close(by: stage.name) { completion([]) }
                }
            }
        }
    }

    /// The connection ends: `on_close` of every stage, in chain order.
    func close(by stage: String?, completion: @escaping () -> Void) {
        guard isOpen else { return completion() }
        state = .closed(by: stage)
        runClose(0, completion)
    }

    private func runClose(_ index: Int, _ completion: @escaping () -> Void) {
        guard index < stages.count else {
            stream.finish()
            return completion()
        }
        let stage = stages[index]
        stream.run(stage.script, .close) { [self] outcome in
            if case .failed(let error) = outcome { errors.append(StageError(stage: stage.name, message: error.message)) }
            runClose(index + 1, completion)
        }
    }
}

@available(*, unavailable)
extension TCPSessionRun: Sendable {}
