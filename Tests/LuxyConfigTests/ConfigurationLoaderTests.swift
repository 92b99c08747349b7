import Foundation
import XCTest
@testable import LuxyConfig

final class ConfigurationLoaderTests: XCTestCase {
    static let file = "/etc/luxy/luxy.yaml"

    func at(_ line: Int, _ column: Int) -> SourceLocation {
        SourceLocation(file: Self.file, line: line, column: column)
    }

    func testFullConfigurationParsesIntoTheModel() throws {
        let yaml = """
        admin:
          address: 127.0.0.1:9901
        workers: 2
        plugins_dir: ./my-plugins
        modules_dir: /usr/share/luxy/modules
        limits:
          max_header_bytes: 32768
          max_buffered_body_bytes: 1048576
          drain_timeout: 5s
          idle_timeout: 2m
          lua_instruction_budget: 1000
          lua_memory_bytes: 4096
        listeners:
          - name: inbound
            direction: inbound
            protocol: http
            address: 127.0.0.1:15003
            virtual_hosts:
              - name: local
                domains: ["example.com", "*.example.com"]
                routes:
                  - name: api
                    match:
                      prefix: /api
                      methods: [get, POST]
                      headers:
                        - name: X-Tenant
                          exact: blue
                        - name: x-debug
                          present: true
                    cluster: backend
                    service: bookstore
                    metadata: {team: books, weight: 1.5}
                  - match: {regex: "^/v[0-9]+/.*$"}
                    weighted_clusters: [{name: backend, weight: 80}, {name: canary, weight: 20}]
                  - match: {path: /hello}
                    direct_response: {status: 200, body: "hello\\n", content_type: text/plain}
                  - echo: true
          - name: db
            direction: outbound
            protocol: tcp
            address: "[::1]:5432"
            cluster: canary
        clusters:
          - name: backend
            endpoints: ["127.0.0.1:8081", "127.0.0.1:8082"]
            lb_policy: random
            connect_timeout: 250ms
            request_timeout: 3000
            max_idle_connections: 8
          - name: canary
            endpoints: ["localhost:9000"]
        chains:
          inbound-http:
            - name: token-verifier
              priority: 115
              config:
                paths: [/admin]
                token: !secret abc
              services: [bookstore]
              fail_open: true
              disabled: false
          outbound-tcp: []
        """
        let config = try ConfigurationLoader.parse(yaml: yaml, file: Self.file)

        XCTAssertEqual(config.sourceFile, Self.file)
        XCTAssertEqual(config.admin, AdminConfiguration(host: "127.0.0.1", port: 9901))
        XCTAssertEqual(config.workers, 2)
        XCTAssertEqual(config.pluginsDirectory, "/etc/luxy/my-plugins")
        XCTAssertEqual(config.modulesDirectory, "/usr/share/luxy/modules")

        var limits = LimitsConfiguration()
        limits.maxHeaderBytes = 32768
        limits.maxBufferedBodyBytes = 1_048_576
        limits.drainTimeoutMilliseconds = 5_000
        limits.idleTimeoutMilliseconds = 120_000
        limits.luaInstructionBudget = 1000
        limits.luaMemoryBytes = 4096
        XCTAssertEqual(config.limits, limits)

        let routes = [
            RouteConfiguration(
                name: "api",
                match: .init(path: .prefix("/api"),
                             headers: [.init(name: "x-tenant", rule: .exact("blue")),
                                       .init(name: "x-debug", rule: .present(true))],
                             methods: ["GET", "POST"]),
                action: .cluster("backend"), service: "bookstore",
                metadata: .map([("team", .string("books")), ("weight", .double(1.5))]), location: at(22, 13)),
            RouteConfiguration(
                name: "local/1", match: .init(path: .regex("^/v[0-9]+/.*$")),
                action: .weightedClusters([.init(name: "backend", weight: 80), .init(name: "canary", weight: 20)]),
                service: nil, metadata: .map([]), location: at(34, 13)),
            RouteConfiguration(
                name: "local/2", match: .init(path: .exact("/hello")),
                action: .directResponse(status: 200, body: "hello\n", contentType: "text/plain"),
                service: nil, metadata: .map([]), location: at(36, 13)),
            RouteConfiguration(name: "local/3", match: .init(path: .prefix("/")), action: .echo, service: nil,
                               metadata: .map([]), location: at(38, 13)),
        ]
        let inbound = ListenerConfiguration(
            name: "inbound", direction: .inbound, proto: .http, host: "127.0.0.1", port: 15003,
            virtualHosts: [.init(name: "local", domains: ["example.com", "*.example.com"], routes: routes)],
            location: at(14, 5))
        var db = ListenerConfiguration(name: "db", direction: .outbound, proto: .tcp, host: "::1", port: 5432,
                                       virtualHosts: [], location: at(39, 5))
        db.tcpCluster = "canary"
        XCTAssertEqual(config.listeners.count, 2)
        XCTAssertEqual(config.listeners[0].virtualHosts.first?.routes, routes)
        XCTAssertEqual(config.listeners, [inbound, db])
        XCTAssertEqual(config.listeners[1].chain, .outboundTCP)

        XCTAssertEqual(config.clusters, [
            ClusterConfiguration(
                name: "backend",
                endpoints: [.init(host: "127.0.0.1", port: 8081), .init(host: "127.0.0.1", port: 8082)],
                loadBalancing: .random, connectTimeoutMilliseconds: 250, requestTimeoutMilliseconds: 3000,
                maxIdleConnections: 8, location: at(45, 5)),
            ClusterConfiguration(name: "canary", endpoints: [.init(host: "localhost", port: 9000)],
                                 location: at(51, 5)),
        ])

        XCTAssertEqual(config.chains[.inboundHTTP], [
            StageConfiguration(
                name: "token-verifier", priority: 115,
                config: .map([("paths", .array([.string("/admin")])), ("token", .secret("abc"))]),
                services: ["bookstore"], failOpen: true, disabled: false, location: at(55, 7)),
        ])
        XCTAssertEqual(config.chains[.outboundTCP], [])
        XCTAssertEqual(config.chains[.inboundTCP], [])
    }

    func testWaitBoundsParse() throws {
        let config = try ConfigurationLoader.parse(yaml: """
            limits:
              request_header_timeout: 5s
              request_body_timeout: 30s
              send_timeout: 45s
              stream_idle_timeout: 2m
            """, file: Self.file)
        XCTAssertEqual(config.limits.requestHeaderTimeoutMilliseconds, 5_000)
        XCTAssertEqual(config.limits.requestBodyTimeoutMilliseconds, 30_000)
        XCTAssertEqual(config.limits.sendTimeoutMilliseconds, 45_000)
        XCTAssertEqual(config.limits.streamIdleTimeoutMilliseconds, 120_000)
    }

    func testDefaults() throws {
        let yaml = """
        listeners:
          - name: in
            direction: inbound
            protocol: http
            address: 0.0.0.0:0
            virtual_hosts:
              - routes:
                  - cluster: b
        clusters:
          - name: b
            endpoints: ["10.0.0.1:80"]
        chains:
          inbound-http:
            - name: stage
        """
        let config = try ConfigurationLoader.parse(yaml: yaml, file: Self.file)
        XCTAssertNil(config.admin)
        XCTAssertNil(config.workers)
        XCTAssertEqual(config.pluginsDirectory, "/etc/luxy/plugins")
        XCTAssertEqual(config.modulesDirectory, "/etc/luxy/modules")
        XCTAssertEqual(config.limits, LimitsConfiguration())
        XCTAssertEqual(config.limits.drainTimeoutMilliseconds, 10_000)
        XCTAssertEqual(config.limits.requestHeaderTimeoutMilliseconds, 10_000)
        XCTAssertEqual(config.limits.requestBodyTimeoutMilliseconds, 60_000)
        XCTAssertEqual(config.limits.sendTimeoutMilliseconds, 60_000)
        XCTAssertEqual(config.limits.streamIdleTimeoutMilliseconds, 60_000)

        let virtualHost = try XCTUnwrap(config.listeners.first?.virtualHosts.first)
        XCTAssertEqual(virtualHost.name, "vh0")
        XCTAssertEqual(virtualHost.domains, ["*"])
        let route = try XCTUnwrap(virtualHost.routes.first)
        XCTAssertEqual(route.name, "vh0/0")
        XCTAssertEqual(route.match, RouteMatchConfiguration(path: .prefix("/")))
        XCTAssertNil(route.service)
        XCTAssertEqual(route.metadata, .map([]))
        XCTAssertNil(config.listeners[0].tcpCluster)

        let cluster = try XCTUnwrap(config.clusters.first)
        XCTAssertEqual(cluster.loadBalancing, .roundRobin)
        XCTAssertEqual(cluster.connectTimeoutMilliseconds, 1_000)
        XCTAssertEqual(cluster.requestTimeoutMilliseconds, 15_000)
        XCTAssertEqual(cluster.maxIdleConnections, 64)

        let stage = try XCTUnwrap(config.chains[.inboundHTTP]?.first)
        XCTAssertEqual(stage, StageConfiguration(name: "stage", priority: 0, location: at(14, 7)))
        for chain in ChainName.allCases where chain != .inboundHTTP {
            XCTAssertEqual(config.chains[chain], [], "\(chain)")
        }
    }

    func testEdgeValidationSettingsAndRouteUpgrades() throws {
        let config = try ConfigurationLoader.parse(yaml: """
            limits:
              max_header_count: 50
              max_request_line_bytes: 4096
              headers_with_underscores_action: reject
            listeners:
              - name: in
                direction: inbound
                protocol: http
                address: 127.0.0.1:80
                virtual_hosts:
                  - routes:
                      - name: ws
                        cluster: backend
                        upgrades: [WebSocket]
                      - cluster: backend
            clusters:
              - name: backend
                endpoints: ["127.0.0.1:8081"]
            """, file: "/x/luxy.yaml")
        XCTAssertEqual(config.limits.maxHeaderCount, 50)
        XCTAssertEqual(config.limits.maxRequestLineBytes, 4096)
        XCTAssertEqual(config.limits.headersWithUnderscores, .reject)
        let routes = config.listeners[0].virtualHosts[0].routes
        XCTAssertEqual(routes[0].upgrades, ["websocket"])
        XCTAssertEqual(routes[1].upgrades, [], "no upgrades unless listed")
        XCTAssertEqual(LimitsConfiguration().maxHeaderCount, 100)
        XCTAssertEqual(LimitsConfiguration().maxRequestLineBytes, 8192)
        XCTAssertEqual(LimitsConfiguration().headersWithUnderscores, .drop)
    }

    func testLuaLimits() throws {
        XCTAssertEqual(LimitsConfiguration().luaInstructionSlice, 250_000)
        XCTAssertEqual(LimitsConfiguration().luaMaxScriptBytes, 1_048_576)
        XCTAssertEqual(LimitsConfiguration().luaMaxIdleCoroutines, 64)
        let yaml = """
        limits:
          lua_instruction_slice: 250
          lua_max_script_bytes: 65536
          lua_max_idle_coroutines: 8
        """
        let limits = try ConfigurationLoader.parse(yaml: yaml, file: Self.file).limits
        XCTAssertEqual(limits.luaInstructionSlice, 250)
        XCTAssertEqual(limits.luaMaxScriptBytes, 65536)
        XCTAssertEqual(limits.luaMaxIdleCoroutines, 8)
        let bad = "limits:\n  lua_instruction_slice: 0\n  lua_max_script_bytes: -1\n  lua_max_idle_coroutines: many\n"
        XCTAssertThrowsError(try ConfigurationLoader.parse(yaml: bad, file: Self.file)) { error in
            XCTAssertEqual("\(error)", """
            /etc/luxy/luxy.yaml:2:26: 'lua_instruction_slice' must be a positive integer
            /etc/luxy/luxy.yaml:3:25: 'lua_max_script_bytes' must be a positive integer
            /etc/luxy/luxy.yaml:4:28: 'lua_max_idle_coroutines' must be a positive integer
            """)
        }
    }

    func testEmptyFileIsAnIdleConfiguration() throws {
        let config = try ConfigurationLoader.parse(yaml: "# nothing yet\n", file: Self.file)
        XCTAssertEqual(config.listeners, [])
        XCTAssertEqual(config.clusters, [])
        XCTAssertEqual(config.pluginsDirectory, "/etc/luxy/plugins")
    }

    func testRelativeDirectoriesResolveAgainstTheConfigFolder() throws {
        let yaml = "plugins_dir: ../shared/./plugins\nmodules_dir: lua//modules/\n"
        let config = try ConfigurationLoader.parse(yaml: yaml, file: "/srv/app/conf/luxy.yaml")
        XCTAssertEqual(config.pluginsDirectory, "/srv/app/shared/plugins")
        XCTAssertEqual(config.modulesDirectory, "/srv/app/conf/lua/modules")
    }

    func testRelativeFileIsMadeAbsoluteWithTheCurrentDirectory() throws {
        let config = try ConfigurationLoader.parse(yaml: "plugins_dir: p\n", file: "conf/luxy.yaml")
        let cwd = ConfigurationLoader.standardized(FileManager.default.currentDirectoryPath)
        XCTAssertEqual(config.sourceFile, cwd == "/" ? "/conf/luxy.yaml" : cwd + "/conf/luxy.yaml")
        XCTAssertEqual(config.pluginsDirectory, cwd == "/" ? "/conf/p" : cwd + "/conf/p")
    }

    func testLoadReadsAFile() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("luxy-config-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("luxy.yaml").path
        try "workers: 3\nplugins_dir: scripts\n".write(toFile: file, atomically: true, encoding: .utf8)

        let config = try ConfigurationLoader.load(file: file)
        XCTAssertEqual(config.workers, 3)
        XCTAssertEqual(config.sourceFile, ConfigurationLoader.standardized(file))
        XCTAssertEqual(config.pluginsDirectory, ConfigurationLoader.standardized(folder.path + "/scripts"))
    }

    func testLoadNamesAMissingFile() {
        XCTAssertThrowsError(try ConfigurationLoader.load(file: "/nonexistent/luxy.yaml")) { error in
            XCTAssertEqual((error as? ConfigurationError)?.description,
                           "configuration file '/nonexistent/luxy.yaml' does not exist")
        }
    }

    func testDurations() {
        XCTAssertEqual(YAMLNodeReader.milliseconds("250ms"), 250)
        XCTAssertEqual(YAMLNodeReader.milliseconds("2s"), 2_000)
        XCTAssertEqual(YAMLNodeReader.milliseconds("1m"), 60_000)
        XCTAssertEqual(YAMLNodeReader.milliseconds("1h"), 3_600_000)
        XCTAssertNil(YAMLNodeReader.milliseconds("s"))
        XCTAssertNil(YAMLNodeReader.milliseconds("1.5s"))
        XCTAssertNil(YAMLNodeReader.milliseconds("-1s"))
        XCTAssertNil(YAMLNodeReader.milliseconds("10"))
    }

    func testPortZeroListenersMayShareAnAddress() throws {
        let yaml = """
        admin: {address: "127.0.0.1:0"}
        listeners:
          - {name: a, direction: inbound, protocol: tcp, address: "127.0.0.1:0", cluster: c}
          - {name: b, direction: inbound, protocol: tcp, address: "127.0.0.1:0", cluster: c}
        clusters: [{name: c, endpoints: ["127.0.0.1:1"]}]
        """
        let config = try ConfigurationLoader.parse(yaml: yaml, file: Self.file)
        XCTAssertEqual(config.listeners.map(\.port), [0, 0])
    }
}
