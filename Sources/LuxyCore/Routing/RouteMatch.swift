import LuxyConfig

/// The outcome of routing one request: which route, and the cluster it picked when the
/// route forwards. Known before any Lua stage runs, so every stage sees it.
public struct RouteMatch: Sendable {
    public var listenerName: String
    public var virtualHostName: String
    public var routeName: String
    public var action: RouteAction
    /// The cluster chosen (a weighted pick is made once, here).
    public var clusterName: String?
    public var service: String?
    public var metadata: ConfigValue
    /// Protocols a request on this route may upgrade to (`upgrades:` in YAML).
    public var upgrades: [String] = []
    /// What this route changes about its chain's stages, its virtual host's `per_stage:`
    /// merged under its own.
    public var stageOverrides: [String: StageOverride] = [:]
    /// The route's position among its listener's routes: a key for what is worked out once
    /// per route (the stages it runs).
    public var routeIndex = 0
    /// `request_headers_to_add`, `response_headers_to_add`, `…_to_remove` and `timeout`.
    public var edits: RouteEdits?
    /// `retry_policy:`; nil on routes without one (no retry state is made for their requests).
    public var retryPolicy: RetryPolicy?

    public init(listenerName: String, virtualHostName: String, routeName: String, action: RouteAction,
                clusterName: String?, service: String?, metadata: ConfigValue) {
        self.listenerName = listenerName
        self.virtualHostName = virtualHostName
        self.routeName = routeName
        self.action = action
        self.clusterName = clusterName
        self.service = service
        self.metadata = metadata
    }
}
