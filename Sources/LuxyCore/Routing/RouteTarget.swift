import LuxyConfig

/// One route as a generation's router compiled it: what every request it matches shares.
/// Immutable, made once per generation.
public final class RouteTarget: Sendable {
    public let listenerName: String
    public let virtualHostName: String
    public let routeName: String
    public let action: RouteAction
    public let service: String?
    public let metadata: ConfigValue
    /// Protocols a request on this route may upgrade to (`upgrades:` in YAML).
    public let upgrades: [String]
    /// What this route changes about its chain's stages, its virtual host's `per_stage:`
    /// merged under its own.
    public let stageOverrides: [String: StageOverride]
    /// The route's position among its listener's routes: a key for what is worked out once
    /// per route (the stages it runs).
    public let routeIndex: Int
    /// `request_headers_to_add`, `response_headers_to_add`, `…_to_remove` and `timeout`.
    public let edits: RouteEdits?
    /// `retry_policy:`; nil on routes without one (no retry state is made for their requests).
    public let retryPolicy: RetryPolicy?

    init(listenerName: String, virtualHostName: String, route: RouteConfiguration,
         stageOverrides: [String: StageOverride], routeIndex: Int, retryPolicy: RetryPolicy?) {
        self.listenerName = listenerName
        self.virtualHostName = virtualHostName
        self.routeName = route.name
        self.action = route.action
        self.service = route.service
        self.metadata = route.metadata
        self.upgrades = route.upgrades
        self.stageOverrides = stageOverrides
        self.routeIndex = routeIndex
        self.edits = RouteEdits(route)
        self.retryPolicy = retryPolicy
    }
}
