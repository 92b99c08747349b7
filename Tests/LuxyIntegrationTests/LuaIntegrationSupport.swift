import Foundation
import LuxyTestSupport
import XCTest

/// A Lua stage for `startLuaProxy`: its script (written to `plugins/NAME.lua`) and its YAML.
struct LuaPlugin {
    var name: String
    var priority: Int
    var source: String
    /// Extra stage keys, one per line at the stage's indentation, e.g. `fail_open: true`.
    var options: [String] = []

    init(_ name: String, priority: Int = 100, options: [String] = [], _ source: String) {
        self.name = name
        self.priority = priority
        self.source = source
        self.options = options
    }
}

extension IntegrationTestCase {
    /// The `inbound-http` chain entries for `plugins`, in the order given (not run order).
    func stagesYAML(_ plugins: [LuaPlugin]) -> String {
        plugins.map { plugin in
            (["    - name: \(plugin.name)", "      priority: \(plugin.priority)"]
                + plugin.options.map { "      " + $0 }).joined(separator: "\n")
        }.joined(separator: "\n")
    }

    /// `standardConfig` with these Lua stages on `inbound-http`, started.
    func startLuaProxy(_ plugins: [LuaPlugin], routes: String = "", cluster: String = "",
                       limits: String = "", workers: Int = 2) async throws -> TestProxy {
        let yaml = standardConfig(inboundStages: stagesYAML(plugins), routes: routes, cluster: cluster,
                                  limits: limits, workers: workers)
        var sources: [String: String] = [:]
        for plugin in plugins { sources[plugin.name] = plugin.source }
        return try await startProxy(yaml, plugins: sources)
    }

    /// The one request the fake upstream saw (fails the test when it saw another count).
    func onlyRequest(_ upstream: FakeUpstream, file: StaticString = #filePath, line: UInt = #line) throws
        -> FakeUpstream.Received {
        let received = upstream.received
        XCTAssertEqual(received.count, 1, "requests the upstream saw", file: file, line: line)
        return try XCTUnwrap(received.last, file: file, line: line)
    }

    /// Polls `condition` for up to `timeout` (a side effect that completes after the response,
    /// such as an asynchronous httpCall reaching its cluster).
    func pollLuaEffect(timeout: Duration = .seconds(3), _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }
}
