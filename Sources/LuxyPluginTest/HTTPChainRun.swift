import LuxyConfig
import LuxyCore
import LuxyLua
import NIOCore
import NIOHTTP1
import LuxyPlugins

/// Carries one test request through a target's stages in production's order
/// (`HTTPExchangeDriver`): the request phases highest priority first; then the upstream
/// answer the test scripted (or the local reply a stage made); then the response phases in
/// reverse, of the stages whose request phase ran; last, whatever happened, the log phase of
/// every stage, last stage first. A failing stage answers 500 unless it is fail-open. The
/// response flags are the driver's: `LR` for a stage's local reply, `PF` for a failing
/// stage, the upstream failure's own (`UF`, `UT`). Confined to the harness's loop.
final class HTTPChainRun: LuaPhaseReceiver {
    enum Phase {
        case request(index: Int)
        case response(index: Int)
        case log(index: Int)
        case done
    }

    let host: InMemoryHTTPHost
    let stream: LuaHTTPStream
    private let stages: [PluginTestStage]
    private let upstreamAnswer: TestUpstreamAnswer
    private var phase = Phase.request(index: 0)
    private let completion: (HTTPTestOutcome) -> Void
    private var outcome = HTTPTestOutcome()

    init(target: PluginTestTarget, request: TestHTTPRequest, vm: LuaVM, eventLoop: EventLoop,
         completion: @escaping (HTTPTestOutcome) -> Void) {
        host = InMemoryHTTPHost(request: request, eventLoop: eventLoop, configuredClusters: target.clusters)
        stream = LuaHTTPStream(vm: vm, host: host)
        stages = target.stages.filter { $0.configuration.applies(toService: request.service) }
        upstreamAnswer = request.upstreamAnswer
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
        guard stages[index].script.handlesResponse, !stream.skips(stages[index].script, .response) else {
            return runResponse(index - 1)
        }
        host.currentStage = stages[index]
        stream.run(stages[index].script, phase: .response, receiver: self)
    }

    /// The log phases, as the driver runs them once the response is over: every stage's (not
    /// only those whose request phase ran), last first, one after the other.
    private func runLog(_ index: Int) {
        guard index >= 0 else { return complete() }
        phase = .log(index: index)
        guard stages[index].script.handlesLog, !stream.skips(stages[index].script, .log) else {
            return runLog(index - 1)
        }
        host.currentStage = stages[index]
        stream.run(stages[index].script, phase: .log, receiver: self)
    }

    func phaseEnded(_ result: LuaPhaseOutcome) {
        switch phase {
        case .request(let index): requestPhaseEnded(index, result)
        case .response(let index): responsePhaseEnded(index, result)
        case .log(let index): logPhaseEnded(index, result)
        case .done: return
        }
    }

    private func requestPhaseEnded(_ index: Int, _ result: LuaPhaseOutcome) {
        switch result {
        case .completed:
            runRequest(index + 1)
        case .responded:
            let reply = host.exchange.localReply ?? LocalReply(luaRespondHeaders: [(":status", "500")], body: [])
            host.exchange.responseFlags.insert(.localReply)
            outcome.reply = TestHTTPResponse(reply)
            answer(with: reply)
            runResponse(index - 1)
        case .failed(let error):
            outcome.errors.append(StageError(stage: stages[index].name, message: error.message))
            if stages[index].failOpen { return runRequest(index + 1) }
            failed(stages[index])
        }
    }

    private func responsePhaseEnded(_ index: Int, _ result: LuaPhaseOutcome) {
        if case .failed(let error) = result {
            outcome.errors.append(StageError(stage: stages[index].name, message: error.message))
            if !stages[index].failOpen { return failed(stages[index]) }
        }
        runResponse(index - 1)
    }

    /// A log phase changes nothing of the response (it is gone): a failure is reported, and the
    /// next stage's log phase runs.
    private func logPhaseEnded(_ index: Int, _ result: LuaPhaseOutcome) {
        if case .failed(let error) = result {
            outcome.errors.append(StageError(stage: stages[index].name, message: error.message))
        }
        runLog(index - 1)
    }

    /// A stage failed closed: the client gets 500 naming it, and no response phase runs.
    private func failed(_ stage: PluginTestStage) {
        host.exchange.responseFlags.insert(.pluginFailure)
        let failure = LocalReply(luaRespondHeaders: [(":status", "500"), ("content-type", "text/plain")],
                                 body: Array("plugin '\(stage.name)' failed\n".utf8))
        answer(with: failure)
        finish()
    }

    /// Every request phase passed: the request as it leaves for the upstream is kept, and
    /// the upstream's scripted answer (or the proxy's for a scripted failure) comes back
    /// through the response phases.
    private func goUpstream() {
        let exchange = host.exchange
        exchange.attemptCount = 1
        outcome.upstream = TestUpstreamRequest(method: exchange.method, path: exchange.path,
                                               authority: exchange.authority, scheme: exchange.scheme,
                                               message: exchange.request)
        switch upstreamAnswer {
        case .response(let response):
            answer(with: HTTPResponseStatus(statusCode: response.status), response.message)
        case .failure(let error):
            // The driver's `upstreamFailed`: the failure's flag, and its one-line reply.
            exchange.responseFlags.insert(error.responseFlag)
            let reply = LocalReply(luaRespondHeaders: [(":status", String(error.status.code)), ("content-type", "text/plain")],
                                   body: Array((error.description + "\n").utf8))
            answer(with: reply)
        }
        runResponse(stages.count - 1)
    }

    private func answer(with status: HTTPResponseStatus, _ message: TestHTTPMessage) {
        host.exchange.responseStatus = status
        host.exchange.response = message
    }

    private func answer(with reply: LocalReply) {
        answer(with: reply.head.status, TestHTTPResponse(reply).message)
    }

    /// The response is settled: the log phases run on it, once.
    private func finish() {
        switch phase {
        case .request, .response: runLog(stages.count - 1)
        case .log, .done: return
        }
    }

    private func complete() {
        if case .done = phase { return }
        phase = .done
        let exchange = host.exchange
        outcome.response = TestHTTPResponse(status: Int(exchange.responseStatus?.code ?? 0), message: exchange.response)
        outcome.responseFlags = exchange.responseFlags.shortCodes
        outcome.metadata = stream.dynamicMetadataSnapshot
        outcome.logs = host.logs
        outcome.accessLog = host.accessLines
        outcome.calls = host.sideCalls.recorded
        outcome.routeCleared = exchange.routeCleared
        stream.finish()
        completion(outcome)
    }
}

@available(*, unavailable)
extension HTTPChainRun: Sendable {}
