import Yams

/// One pass over the composed YAML tree, building the model and noting every problem. A flawed
/// value falls back to its default so the rest of the file is still checked in the same run.
struct ConfigurationWalker {
    var reader: YAMLNodeReader
    var sources = ConfigurationSourceMap()
    /// The chain of the http listener being read, which `per_stage:` entries refer to.
    var listenerChain: ChainName?

    init(file: String) { reader = YAMLNodeReader(file: file) }

    static let topLevelKeys = [
        "admin", "workers", "plugins_dir", "modules_dir", "lib_dir", "limits", "listeners", "clusters", "chains",
        "shared_dicts",
    ]

    mutating func configuration(_ root: Node?) -> LuxyConfiguration {
        let file = reader.file
        var configuration = LuxyConfiguration(
            sourceFile: file, admin: nil, workers: nil,
            pluginsDirectory: ConfigurationLoader.resolve("plugins", relativeTo: file),
            modulesDirectory: ConfigurationLoader.defaultModulesDirectory(relativeTo: file),
            limits: LimitsConfiguration(), listeners: [], clusters: [], chains: chains(nil))
        configuration.libDirectory = ConfigurationLoader.resolve("lib", relativeTo: file)
        // An empty file is a valid, if idle, configuration: every section has a default.
        guard let root, !root.isNull else { return configuration }
        guard case .mapping = root else {
            reader.report("the configuration must be a mapping", at: root)
            return configuration
        }
        guard let fields = reader.fields(root, context: "at top level", allowed: Self.topLevelKeys) else {
            return configuration
        }

        if let node = fields["admin"] { configuration.admin = admin(node) }
        configuration.workers = reader.positiveInt(fields, "workers")
        if let dir = directory(fields, "plugins_dir") { configuration.pluginsDirectory = dir }
        if let dir = directory(fields, "modules_dir") { configuration.modulesDirectory = dir }
        if let dir = directory(fields, "lib_dir") { configuration.libDirectory = dir }
        if let node = fields["limits"] { configuration.limits = limits(node) }
        configuration.listeners = reader.list(fields, "listeners").compactMap { listener($0) }
        configuration.clusters = reader.list(fields, "clusters").compactMap { cluster($0) }
        configuration.chains = chains(fields["chains"])
        if let node = fields["shared_dicts"] { configuration.sharedDicts = sharedDicts(node) }
        configuration.secretFiles = reader.secretFiles
        return configuration
    }

    private mutating func directory(_ fields: YAMLNodeReader.Fields, _ key: String) -> String? {
        guard let node = fields.rawValue(key), let dir = reader.string(node, named: key) else { return nil }
        guard !dir.isEmpty else {
            reader.report("'\(key)' must not be empty", at: node)
            return nil
        }
        return ConfigurationLoader.resolve(dir, relativeTo: reader.file)
    }

    private mutating func admin(_ node: Node) -> AdminConfiguration? {
        guard let fields = reader.fields(node, context: "admin", allowed: ["address"], required: ["address"]),
              let addressNode = fields.rawValue("address"),
              let (host, port) = reader.address(addressNode, named: "address") else { return nil }
        sources.addresses.append(.init(owner: "admin", host: host, port: port, location: reader.location(of: addressNode)))
        return AdminConfiguration(host: host, port: port)
    }

    private mutating func limits(_ node: Node) -> LimitsConfiguration {
        var limits = LimitsConfiguration()
        guard let fields = reader.fields(node, context: "limits", allowed: [
            "max_header_bytes", "max_header_count", "max_request_line_bytes", "headers_with_underscores_action",
            "max_buffered_body_bytes", "drain_timeout", "idle_timeout",
            "request_header_timeout", "request_body_timeout", "send_timeout", "stream_idle_timeout",
            "lua_instruction_budget", "lua_memory_bytes", "lua_instruction_slice", "lua_max_script_bytes",
            "lua_max_idle_coroutines", "lua_max_json_bytes", "lua_metric_max_series",
        ]) else { return limits }
        if let value = reader.positiveInt(fields, "max_header_bytes") { limits.maxHeaderBytes = value }
        if let value = reader.positiveInt(fields, "max_header_count") { limits.maxHeaderCount = value }
        if let value = reader.positiveInt(fields, "max_request_line_bytes") { limits.maxRequestLineBytes = value }
        if let value = reader.oneOf(fields, "headers_with_underscores_action",
                                    [UnderscoreHeaderAction.allow, .drop, .reject]) {
            limits.headersWithUnderscores = value
        }
        if let value = reader.positiveInt(fields, "max_buffered_body_bytes") { limits.maxBufferedBodyBytes = value }
        if let value = reader.duration(fields, "drain_timeout") { limits.drainTimeoutMilliseconds = value }
        if let value = reader.duration(fields, "idle_timeout") { limits.idleTimeoutMilliseconds = value }
        // A wait bound of zero would close every connection at once: these must be positive.
        if let value = reader.positiveDuration(fields, "request_header_timeout") {
            limits.requestHeaderTimeoutMilliseconds = value
        }
        if let value = reader.positiveDuration(fields, "request_body_timeout") {
            limits.requestBodyTimeoutMilliseconds = value
        }
        if let value = reader.positiveDuration(fields, "send_timeout") { limits.sendTimeoutMilliseconds = value }
        if let value = reader.positiveDuration(fields, "stream_idle_timeout") {
            limits.streamIdleTimeoutMilliseconds = value
        }
        if let value = reader.positiveInt(fields, "lua_instruction_budget") { limits.luaInstructionBudget = value }
        if let value = reader.positiveInt(fields, "lua_memory_bytes") { limits.luaMemoryBytes = value }
        if let value = reader.positiveInt(fields, "lua_instruction_slice") { limits.luaInstructionSlice = value }
        if let value = reader.positiveInt(fields, "lua_max_script_bytes") { limits.luaMaxScriptBytes = value }
        if let value = reader.positiveInt(fields, "lua_max_idle_coroutines") { limits.luaMaxIdleCoroutines = value }
        if let value = reader.positiveInt(fields, "lua_max_json_bytes") { limits.luaMaxJSONBytes = value }
        if let value = reader.positiveInt(fields, "lua_metric_max_series") { limits.luaMetricMaxSeries = value }
        return limits
    }
}
