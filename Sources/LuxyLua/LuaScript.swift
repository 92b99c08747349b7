import CLua

/// One loaded plugin: its own environment, its config table and its phase functions, all
/// held by registry refs in the VM that loaded it.
public final class LuaScript {
    public let name: String
    public let chunkName: String
    let vm: LuaVM
    let environmentRef: Int32
    let configRef: Int32
    let requestFunctionRef: Int32
    let responseFunctionRef: Int32
    /// `on_log`: runs once at the end of every request, whatever happened.
    let logFunctionRef: Int32
    /// `on_connect`, `on_downstream_data`, `on_upstream_data`, `on_close` (tcp chains).
    let tcpFunctionRefs: [LuaTCPEvent: Int32]
    /// The top-level `schema = { ... }` the script declares, if any.
    public let declaredSchema: DeclaredSchema?

    init(name: String, chunkName: String, vm: LuaVM, environmentRef: Int32, configRef: Int32,
         requestFunctionRef: Int32, responseFunctionRef: Int32, tcpFunctionRefs: [LuaTCPEvent: Int32] = [:],
         declaredSchema: DeclaredSchema? = nil, logFunctionRef: Int32 = LUA_NOREF)
    {
        self.logFunctionRef = logFunctionRef
        self.declaredSchema = declaredSchema
        self.name = name
        self.chunkName = chunkName
        self.vm = vm
        self.environmentRef = environmentRef
        self.configRef = configRef
        self.requestFunctionRef = requestFunctionRef
        self.responseFunctionRef = responseFunctionRef
        self.tcpFunctionRefs = tcpFunctionRefs
    }

    deinit {
        vm.unref(environmentRef)
        vm.unref(configRef)
        vm.unref(requestFunctionRef)
        vm.unref(responseFunctionRef)
        vm.unref(logFunctionRef)
        for ref in tcpFunctionRefs.values { vm.unref(ref) }
    }

    /// Defines `on_request` or `envoy_on_request`.
    public var handlesRequest: Bool { requestFunctionRef != LUA_NOREF }
    /// Defines `on_response` or `envoy_on_response`.
    public var handlesResponse: Bool { responseFunctionRef != LUA_NOREF }
    /// Defines `on_log`.
    public var handlesLog: Bool { logFunctionRef != LUA_NOREF }

    /// Defines the function of the tcp `event` (`on_connect`, …).
    public func handles(_ event: LuaTCPEvent) -> Bool { tcpFunctionRefs[event] != nil }

    func functionRef(_ phase: LuaHTTPPhase) -> Int32 {
        switch phase {
        case .request: return requestFunctionRef
        case .response: return responseFunctionRef
        case .log: return logFunctionRef
        }
    }
}

@available(*, unavailable)
extension LuaScript: Sendable {}
