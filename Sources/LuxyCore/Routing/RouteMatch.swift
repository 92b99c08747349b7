import LuxyConfig

/// The outcome of routing one request: which route, and the cluster it picked when the
/// route forwards. Known before any Lua stage runs, so every stage sees it.
///
/// What belongs to the route is one shared `RouteTarget`, so handing a match around (to the
/// exchange, the stages, the Lua host) copies one reference, not a dozen fields to retain.
public struct RouteMatch: Sendable {
    public let target: RouteTarget
    /// The cluster chosen (a weighted pick is made once, here).
    public var clusterName: String?

    init(target: RouteTarget, clusterName: String?) {
        self.target = target
        self.clusterName = clusterName
    }

    public var listenerName: String { target.listenerName }
    public var virtualHostName: String { target.virtualHostName }
    public var routeName: String { target.routeName }
    public var action: RouteAction { target.action }
    public var service: String? { target.service }
    public var metadata: ConfigValue { target.metadata }
    public var upgrades: [String] { target.upgrades }
    public var stageOverrides: [String: StageOverride] { target.stageOverrides }
    public var routeIndex: Int { target.routeIndex }
    public var edits: RouteEdits? { target.edits }
    public var retryPolicy: RetryPolicy? { target.retryPolicy }
}
