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

    func handle(method: HTTPMethod, path: String) async -> Reply {
        switch (method, path) {
        case (.GET, "/ready"):
            let status = await runtime.status()
            return status.generation > 0
                ? Reply(status: .ok, contentType: "text/plain", body: "ready\n")
                : Reply(status: .serviceUnavailable, contentType: "text/plain", body: "no configuration\n")
        case (.GET, "/config_dump"):
            return .json(ConfigDump.make(await runtime.status()))
        case (.GET, "/stats"):
            let counters = await runtime.server.counters()
            let live = await runtime.server.liveGenerations()
            var entries = counters.sorted { $0.key < $1.key }.map { (key: $0.key, value: ConfigValue.int($0.value)) }
            entries.append((key: "live_generations", value: .int(live)))
            return .json(.map(entries))
        default:
            return Reply(status: .notFound, contentType: "text/plain",
                         body: "unknown admin path; try GET /ready, /config_dump, /stats\n")
        }
    }
}
