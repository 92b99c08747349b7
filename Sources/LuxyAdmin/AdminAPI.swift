import Foundation
import LuxyConfig
import LuxyCore
import LuxyPlugins
import NIOHTTP1

/// What each admin endpoint answers.
struct AdminAPI: Sendable {
    struct Reply: Sendable {
        var status: HTTPResponseStatus
        var contentType: String
        var body: String

        static func json(_ value: ConfigValue, status: HTTPResponseStatus = .ok) -> Reply {
            Reply(status: status, contentType: "application/json", body: value.jsonString() + "\n")
        }
    }

    let runtime: LuxyRuntime
    let exporter = PrometheusExporter()

    func handle(method: HTTPMethod, path: String, query: String = "") async -> Reply {
        switch (method, path) {
        case (.GET, "/ready"):
            let status = await runtime.status()
            return status.generation > 0
                ? Reply(status: .ok, contentType: "text/plain", body: "ready\n")
                : Reply(status: .serviceUnavailable, contentType: "text/plain", body: "no configuration\n")
        case (.GET, "/config_dump"):
            return .json(ConfigDump.make(await runtime.status()))
        case (.GET, "/stats"):
            return .json(await stats())
        case (.GET, "/clusters"):
            let statuses = await runtime.server.clusterStatuses()
            if query.split(separator: "&").contains("format=json") {
                return .json(ClustersView.json(statuses))
            }
            return Reply(status: .ok, contentType: "text/plain", body: ClustersView.text(statuses))
        case (.GET, "/metrics"):
            return Reply(status: .ok, contentType: "text/plain; version=0.0.4", body: await metrics())
        case (.POST, "/reload"):
            do {
                let outcome = try await runtime.reload()
                return .json(.map([("generation", .int(outcome.generation)), ("changed", .bool(outcome.changed))]))
            } catch {
                let generation = await runtime.status().generation
                return .json(.map([("generation", .int(generation)), ("error", .string("\(error)"))]),
                             status: .unprocessableEntity)
            }
        default:
            return Reply(status: .notFound, contentType: "text/plain",
                         body: "unknown admin path; try GET /ready, /config_dump, /stats, /clusters, /metrics, POST /reload\n")
        }
    }

    private func metrics() async -> String {
        let status = await runtime.status()
        var counters = await runtime.server.counters()
        counters["reloads_attempted"] = status.counters.attempted
        counters["reloads_succeeded"] = status.counters.succeeded
        counters["reloads_failed"] = status.counters.failed
        counters["reloads_unchanged"] = status.counters.unchanged
        let lifetimes = await runtime.server.lifetimes()
        var gauges = [
            "generation": status.generation,
            "live_generations": await runtime.server.liveGenerations(),
            "retired_generations": await runtime.server.retiredGenerations(),
            "generations_in_memory": lifetimes.inMemory,
            "open_stage_runtimes": lifetimes.openStageRuntimes,
        ]
        if let last = status.counters.lastSuccess { gauges["last_reload_success_unix"] = Int(last.timeIntervalSince1970) }
        let endpoints = ClustersView.samples(await runtime.server.clusterStatuses())
        return await exporter.render(counters: counters, gauges: gauges, endpoints: endpoints)
            + LuaPlatformView.prometheus(runtime.platform) + LuaPlatformView.prometheus(await runtime.platform.metrics.snapshot())
    }

    /// Proxy counters summed over the loops, plus the reload and generation gauges.
    private func stats() async -> ConfigValue {
        let counters = await runtime.server.counters()
        let status = await runtime.status()
        let lifetimes = await runtime.server.lifetimes()
        var entries = counters.sorted { $0.key < $1.key }.map { (key: $0.key, value: ConfigValue.int($0.value)) }
        entries += [
            ("generation", .int(status.generation)),
            ("content_hash", status.snapshot.map { .string($0.contentHash) } ?? .null),
            ("live_generations", .int(await runtime.server.liveGenerations())),
            ("retired_generations", .int(await runtime.server.retiredGenerations())),
            ("generations_in_memory", .int(lifetimes.inMemory)),
            ("open_stage_runtimes", .int(lifetimes.openStageRuntimes)),
            ("reloads_attempted", .int(status.counters.attempted)),
            ("reloads_succeeded", .int(status.counters.succeeded)),
            ("reloads_failed", .int(status.counters.failed)),
            ("reloads_unchanged", .int(status.counters.unchanged)),
            ("last_reload_success_unix", status.counters.lastSuccess.map { .int(Int($0.timeIntervalSince1970)) } ?? .null),
        ]
        entries += LuaPlatformView.stats(runtime.platform, families: await runtime.platform.metrics.snapshot())
        return .map(entries)
    }
}
