import LuxyConfig
import LuxyPlugins

/// `GET /config_dump`: the active generation as JSON. Built as a `ConfigValue` tree so that
/// `!secret` values are redacted by the one JSON writer everything shares.
enum ConfigDump {
    static func make(_ status: LuxyRuntime.Status) -> ConfigValue {
        var entries: [(key: String, value: ConfigValue)] = [
            ("generation", .int(status.generation)),
            ("content_hash", status.snapshot.map { .string($0.contentHash) } ?? .null),
            ("last_reload_error", status.lastError.map { .string($0) } ?? .null),
        ]
        guard let snapshot = status.snapshot else { return .map(entries) }
        let config = snapshot.configuration
        entries.append(("config_file", .string(config.sourceFile)))
        entries.append(("listeners", .array(config.listeners.map(listener))))
        entries.append(("clusters", .array(config.clusters.map(cluster))))
        entries.append(("chains", .map(ChainName.allCases.map { chain in
            (key: chain.rawValue, value: .array(snapshot.plan.stages(chain).map(stage)))
        })))
        return .map(entries)
    }

    private static func listener(_ listener: ListenerConfiguration) -> ConfigValue {
        .map([
            ("name", .string(listener.name)), ("direction", .string(listener.direction.rawValue)),
            ("protocol", .string(listener.proto.rawValue)), ("address", .string("\(listener.host):\(listener.port)")),
            ("chain", .string(listener.chain.rawValue)),
            ("original_destination", .bool(listener.originalDestination)),
            ("virtual_hosts", .array(listener.virtualHosts.map { vhost in
                .map([
                    ("name", .string(vhost.name)), ("domains", .array(vhost.domains.map { .string($0) })),
                    ("routes", .array(vhost.routes.map(route))),
                ])
            })),
        ])
    }

    private static func route(_ route: RouteConfiguration) -> ConfigValue {
        let match: (key: String, value: ConfigValue)
        switch route.match.path {
        case .prefix(let prefix): match = ("prefix", .string(prefix))
        case .exact(let path): match = ("path", .string(path))
        case .regex(let regex): match = ("regex", .string(regex))
        }
        let action: (key: String, value: ConfigValue)
        switch route.action {
        case .cluster(let name): action = ("cluster", .string(name))
        case .weightedClusters(let clusters):
            action = ("weighted_clusters", .array(clusters.map {
                .map([("name", .string($0.name)), ("weight", .int($0.weight))])
            }))
        case let .directResponse(status, body, _):
            action = ("direct_response", .map([("status", .int(status)), ("body", .string(body))]))
        case .echo: action = ("echo", .bool(true))
        }
        return .map([
            ("name", .string(route.name)), ("match", .map([match] + (route.match.methods.isEmpty ? [] : [
                (key: "methods", value: .array(route.match.methods.map { .string($0) })),
            ]))),
            action, ("service", route.service.map { .string($0) } ?? .null),
        ])
    }

    private static func cluster(_ cluster: ClusterConfiguration) -> ConfigValue {
        .map([
            ("name", .string(cluster.name)), ("type", .string(cluster.kind.rawValue)),
            ("endpoints", .array(cluster.endpoints.map { .string($0.description) })),
            ("lb_policy", .string(cluster.loadBalancing.rawValue)),
            ("connect_timeout_ms", .int(cluster.connectTimeoutMilliseconds)),
            ("request_timeout_ms", .int(cluster.requestTimeoutMilliseconds)),
        ])
    }

    private static func stage(_ stage: ResolvedStage) -> ConfigValue {
        .map([
            ("name", .string(stage.name)), ("priority", .int(stage.priority)), ("file", .string(stage.displayPath)),
            ("services", .array(stage.configuration.services.map { .string($0) })),
            ("fail_open", .bool(stage.configuration.failOpen)), ("config", stage.configuration.config),
        ])
    }
}
