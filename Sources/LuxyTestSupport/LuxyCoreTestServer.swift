import LuxyCore
import NIOCore

/// A bare `ProxyServer` with captured logs, for tests that drive a `LuxyRuntime` themselves.
public struct LuxyCoreTestServer: Sendable {
    public let server: ProxyServer
    public let logs: TestLogCapture

    public static func make(group: EventLoopGroup) async throws -> LuxyCoreTestServer {
        let logs = TestLogCapture()
        return LuxyCoreTestServer(server: try await ProxyServer(group: group, logger: logs.logger), logs: logs)
    }
}
