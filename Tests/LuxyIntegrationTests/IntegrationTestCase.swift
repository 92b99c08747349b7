import LuxyAdmin
import LuxyTestSupport
import NIOCore
import NIOPosix
import XCTest

/// Shared set-up: an event loop group, a fake upstream, and helpers to start a proxy.
class IntegrationTestCase: XCTestCase {
    var group: MultiThreadedEventLoopGroup!
    var upstream: FakeUpstream!
    private var proxies: [TestProxy] = []
    private var admins: [AdminServer] = []
    private var connections: [TestHTTPConnection] = []

    override func setUp() async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        upstream = try await FakeUpstream.start(name: "backend", group: group)
    }

    override func tearDown() async throws {
        for connection in connections { await connection.close() }
        for admin in admins { await admin.close() }
        for proxy in proxies { await proxy.stop() }
        await upstream.stop()
        try await group.shutdownGracefully()
    }

    /// Waits for a condition that another loop makes true, polling it; fails the test if it
    /// does not hold within `timeout`. The default is generous because a reload (file events,
    /// debounce, compiling every script twice) on a loaded 2-core CI machine can take seconds;
    /// a condition that holds returns at once, so only a failing test waits that long.
    func eventually(_ what: String, timeout: Duration = .seconds(15), _ condition: () async -> Bool) async throws {
        if await waitUntil(timeout: timeout, condition) { return }
        XCTFail("timed out waiting for \(what)")
    }

    /// A config with one inbound listener routing everything to `backend` (the fake upstream),
    /// `/echo` to the echo action, and the given chain stages.
    /// `workers: 1` pins every connection to one loop, for tests about per-loop state (pools,
    /// the Lua VM) that a second connection must find.
    func standardConfig(inboundStages: String = "", routes extraRoutes: String = "",
                        cluster extraCluster: String = "", limits: String = "", workers: Int = 2) -> String {
        """
        workers: \(workers)
        modules_dir: {{modules}}
        \(limits)
        listeners:
          - name: inbound
            direction: inbound
            protocol: http
            address: 127.0.0.1:0
            virtual_hosts:
              - name: local
                domains: ["*"]
                routes:
        \(extraRoutes)
                  - name: echo
                    match: { prefix: /echo }
                    echo: true
                  - name: backend
                    match: { prefix: / }
                    cluster: backend
                    service: bookstore
        clusters:
          - name: backend
            endpoints: ["\(upstream.address)"]
            connect_timeout: 500ms
            request_timeout: 2s
        \(extraCluster)
        chains:
          inbound-http:
        \(inboundStages.isEmpty ? "    []" : inboundStages)
        """
    }

    func startProxy(_ yaml: String, plugins: [String: String] = [:]) async throws -> TestProxy {
        let proxy = try await TestProxy.start(yaml: yaml, plugins: plugins, group: group)
        proxies.append(proxy)
        return proxy
    }

    func connect(_ proxy: TestProxy, listener: String = "inbound") async throws -> TestHTTPConnection {
        let connection = try await TestHTTPConnection.connect(port: await proxy.port(listener), group: group)
        connections.append(connection)
        return connection
    }

    /// The admin API over `proxy`'s runtime, on a free port; closed after the test.
    func startAdmin(on proxy: TestProxy) async throws -> AdminServer {
        let admin = try await AdminServer.start(host: "127.0.0.1", port: 0, group: group, runtime: proxy.runtime,
                                                logger: proxy.logs.logger)
        admins.append(admin)
        return admin
    }

    /// A connection to `admin`, closed after the test.
    func connect(_ admin: AdminServer) async throws -> TestHTTPConnection {
        let connection = try await TestHTTPConnection.connect(port: try XCTUnwrap(admin.localAddress?.port), group: group)
        connections.append(connection)
        return connection
    }
}
