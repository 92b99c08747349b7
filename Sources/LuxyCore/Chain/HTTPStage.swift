import NIOCore
import NIOHTTP1

/// A stage between routing and the upstream: what LuxyPlugins adapts a Lua script to.
/// One instance per (generation, event loop); it runs only on that loop.
///
/// A stage answers each phase with one verdict through `exchange.resume(_:)`, synchronously
/// or later (a script waiting on `body()` or `httpCall()`), and exactly once. The exchange's
/// driver knows which stage runs: no closure is made per stage and request.
public protocol HTTPStage: AnyObject {
    var name: String { get }
    var handlesRequest: Bool { get }
    var handlesResponse: Bool { get }
    /// False when the stage is scoped to other destination services than the route's. Must
    /// depend on the route's `service` only: the chain caches the answer per service.
    func applies(to route: RouteMatch) -> Bool
    func runRequest(_ exchange: HTTPExchange)
    func runResponse(_ exchange: HTTPExchange)
    /// The stage that runs another script in this one's slot, for routes that say so
    /// (`per_stage: {NAME: {script: OTHER}}`); nil if there is none by that name.
    func alternate(running script: String) -> HTTPStage?
    /// The stage has a log phase: it runs once for every request at its very end, whatever
    /// happened (answered, failed by a plugin or the upstream, or left by the client), after
    /// the response was written. Its verdict is awaited but changes nothing.
    var handlesLog: Bool { get }
    func runLog(_ exchange: HTTPExchange)
    /// Runs for requests no route matched (their log phase only): a stage scoped to no
    /// destination service.
    var appliesWithoutRoute: Bool { get }
}

extension HTTPStage {
    public func alternate(running script: String) -> HTTPStage? { nil }
    public var handlesLog: Bool { false }
    public func runLog(_ exchange: HTTPExchange) {}
    public var appliesWithoutRoute: Bool { false }
}

public enum StageVerdict {
    /// Go on to the next stage.
    case proceed
    /// The stage set `exchange.localReply`; it is sent instead of calling the upstream.
    case responded
    /// The stage failed (already logged and counted by the stage): answer 500.
    case failed(String)
}

/// The Lua stages of one chain on one loop, in run order (highest priority first), plus a
/// hook for per-request state the stages keep in `HTTPExchange.pluginState`.
public final class HTTPStageChain {
    public let stages: [HTTPStage]
    /// Called once per exchange that touched a stage, when the exchange is over.
    let finishExchange: ((HTTPExchange) -> Void)?

    public init(stages: [HTTPStage], finishExchange: ((HTTPExchange) -> Void)? = nil) {
        self.stages = stages
        self.finishExchange = finishExchange
    }

    /// Stages that apply to each destination service, worked out once per service rather than
    /// filtered per request.
    private var stagesByService: [String: HTTPStageSelection] = [:]

    /// A route of one of the listeners this chain serves.
    private struct RouteKey: Hashable {
        var listener: String
        var index: Int
    }

    /// Stages of routes with `per_stage:` entries: worked out once per route.
    private var stagesByRoute: [RouteKey: HTTPStageSelection] = [:]

    /// For requests that matched no route: no stage runs but the log phases of those scoped
    /// to no destination service.
    private(set) lazy var unrouted = HTTPStageSelection(
        stages: [], logStages: stages.reversed().filter { $0.handlesLog && $0.appliesWithoutRoute })

    func stages(for route: RouteMatch) -> HTTPStageSelection {
        guard route.stageOverrides.isEmpty else { return stagesWithOverrides(for: route) }
        let key = route.service ?? ""
        if let cached = stagesByService[key] { return cached }
        let applicable = HTTPStageSelection(stages: stages.filter { $0.applies(to: route) })
        stagesByService[key] = applicable
        return applicable
    }

    private func stagesWithOverrides(for route: RouteMatch) -> HTTPStageSelection {
        let key = RouteKey(listener: route.listenerName, index: route.routeIndex)
        if let cached = stagesByRoute[key] { return cached }
        let applicable = HTTPStageSelection(stages: stages.compactMap { stage -> HTTPStage? in
            guard stage.applies(to: route) else { return nil }
            guard let override = route.stageOverrides[stage.name] else { return stage }
            if override.disabled { return nil }
            if let script = override.script { return stage.alternate(running: script) ?? stage }
            return stage
        })
        stagesByRoute[key] = applicable
        return applicable
    }
}

@available(*, unavailable)
extension HTTPStageChain: Sendable {}
