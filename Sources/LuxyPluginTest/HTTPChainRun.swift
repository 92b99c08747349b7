import LuxyConfig
import LuxyCore
import LuxyLua
import NIOCore
import NIOHTTP1
import LuxyPlugins

/// Carries one test request through a target's stages in production's order
/// (`HTTPExchangeDriver`): the request phases highest priority first; then the upstream
/// answer the test scripted (or the local reply a stage made); then the response phases in
/// reverse, of the stages whose request phase ran. A failing stage answers 500 unless it is
/// fail-open. Confined to the harness's loop.
final class HTTPChainRun: LuaPhaseReceiver {
    enum Phase {
        case request(index: Int)
        case response(index: Int)
        case done
    }

    let host: InMemoryHTTPHost
    let stream: LuaHTTPStream
    private let stages: [PluginTestStage]
    private let upstreamResponse: TestHTTPResponse
    private var phase = Phase.request(index: 0)
    private let completion: (HTTPTestOutcome) -> Void
    private var outcome = HTTPTestOutcome()

    init(target: PluginTestTarget, request: TestHTTPRequest, vm: LuaVM, eventLoop: EventLoop,
         completion: @escaping (HTTPTestOutcome) -> Void) {
        host = InMemoryHTTPHost(request: request, eventLoop: eventLoop, configuredClusters: target.clusters)
        stream = LuaHTTPStream(vm: vm, host: host)
        stages = target.stages.filter { $0.applies(toService: request.service) }
        upstreamResponse = request.upstreamResponse
        self.completion = completion
    }

    func start() {
        runRequest(0)
    }

    private func runRequest(_ index: Int) {
        guard index < stages.count else { return goUpstream() }
        phase = .request(index: index)
        guard stages[index].script.handlesRequest else { return runRequest(index + 1) }
        host.currentStage = stages[index]
        stream.run(stages[index].script, phase: .request, receiver: self)
    }

    private func runResponse(_ index: Int) {
        guard index >= 0 else { return finish() }
        phase = .response(index: index)
        guard stages[index].script.handlesResponse else { return runResponse(index - 1) }
        host.currentStage = stages[index]
        stream.run(stages[index].script, phase: .response, receiver: self)
    }

    func phaseEnded(_ result: LuaPhaseOutcome) {
        switch phase {
        case .request(let index): requestPhaseEnded(index, result)
        case .response(let index): responsePhaseEnded(index, result)
        case .done: return
        }
    }

    private func requestPhaseEnded(_ index: Int, _ result: LuaPhaseOutcome) {
        switch result {
        case .completed:
            runRequest(index + 1)
        case .responded:
            let reply = host.exchange.localReply ?? LocalReply(luaRespondHeaders: [(":status", "500")], body: [])
            outcome.reply = TestHTTPResponse(reply)
            answer(with: reply.head.status, TestHTTPResponse(reply).message)
            runResponse(index - 1)
        case .failed(let error):
            outcome.errors.append(StageError(stage: stages[index].name, message: error.message))
            if stages[index].failOpen { return runRequest(index + 1) }
            let failure = LocalReply(luaRespondHeaders: [(":status", "500"), ("content-type", "text/plain")],
                                     body: Array("plugin '\(stages[index].name)' failed\n".utf8))
            answer(with: failure.head.status, TestHTTPResponse(failure).message)
            finish()
        }
    }

    private func responsePhaseEnded(_ index: Int, _ result: LuaPhaseOutcome) {
        if case .failed(let error) = result {
            outcome.errors.append(StageError(stage: stages[index].name, message: error.message))
            if !stages[index].failOpen {
                let failure = LocalReply(luaRespondHeaders: [(":status", "500"), ("content-type", "text/plain")],
                                         body: Array("plugin '\(stages[index].name)' failed\n".utf8))
                answer(with: failure.head.status, TestHTTPResponse(failure).message)
                return finish()
            }
        }
        runResponse(index - 1)
    }

    /// Every request phase passed: the request as it leaves for the upstream is kept, and
    /// the upstream's scripted answer comes back through the response phases.
    private func goUpstream() {
        let exchange = host.exchange
        outcome.upstream = TestUpstreamRequest(method: exchange.method, path: exchange.path,
                                               authority: exchange.authority, scheme: exchange.scheme,
                                               message: exchange.request)
        answer(with: HTTPResponseStatus(statusCode: upstreamResponse.status), upstreamResponse.message)
        runResponse(stages.count - 1)
    }

    private func answer(with status: HTTPResponseStatus, _ message: TestHTTPMessage) {
        host.exchange.responseStatus = status
        host.exchange.response = message
    }

    private func finish() {
        if case .done = phase { return }
        phase = .done
        let exchange = host.exchange
        outcome.response = TestHTTPResponse(status: Int(exchange.responseStatus?.code ?? 0), message: exchange.response)
        outcome.metadata = stream.dynamicMetadataSnapshot
        outcome.logs = host.logs
        outcome.calls = host.sideCalls.recorded
        outcome.routeCleared = exchange.routeCleared
        stream.finish()
        completion(outcome)
    }
}

@available(*, unavailable)
extension HTTPChainRun: Sendable {}
