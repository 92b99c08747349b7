import Foundation
import LuxyAdmin
import LuxyPlugins
import LuxyTestSupport
import XCTest

/// `!env` and `!file` values on a running proxy: they reach the plugin, stay out of
/// `/config_dump`, and a Secret volume's update reloads like a ConfigMap's.
final class SecretSourceReloadTests: IntegrationTestCase {
    private var admin: AdminServer?
    private var watcher: ReloadWatcher?
    private var secretsFolder = ""
    private let variable = "LUXY_TEST_ENV_\(UInt32.random(in: 0...UInt32.max))"

    override func setUp() async throws {
        try await super.setUp()
        secretsFolder = FileManager.default.temporaryDirectory.appendingPathComponent("luxy-secret-\(UUID().uuidString)").path
        setenv(variable, "env-value-7c1e", 1)
    }

    override func tearDown() async throws {
        await watcher?.stop()
        await admin?.close()
        unsetenv(variable)
        try? FileManager.default.removeItem(atPath: secretsFolder)
        try await super.tearDown()
    }

    private let plugin = """
        function envoy_on_request(h)
          h:respond({[":status"] = "200", ["x-env"] = config.env, ["x-file"] = config.file}, "ok")
        end
        """

    private func config() -> String {
        standardConfig(inboundStages: """
            - name: show
              priority: 10
              config:
                env: !env \(variable)
                file: !file \(secretsFolder)/token
        """)
    }

    func testValuesReachThePluginAndAreRedactedInTheDump() async throws {
        _ = try ConfigMapVolume(path: secretsFolder, files: ["token": "file-value-51ab\n"])
        let proxy = try await startProxy(config(), plugins: ["show": plugin])
        let response = try await connect(proxy).request("GET", "/")
        XCTAssertEqual(response.header("x-env"), "env-value-7c1e")
        XCTAssertEqual(response.header("x-file"), "file-value-51ab")

        let admin = try await AdminServer.start(host: "127.0.0.1", port: 0, group: group, runtime: proxy.runtime,
                                                logger: proxy.logs.logger)
        self.admin = admin
        let connection = try await TestHTTPConnection.connect(port: try XCTUnwrap(admin.localAddress?.port), group: group)
        let dump = try await connection.request("GET", "/config_dump")
        await connection.close()
        XCTAssertEqual(dump.status, 200)
        XCTAssertFalse(dump.body.contains("env-value-7c1e"), "an !env value leaked into the dump")
        XCTAssertFalse(dump.body.contains("file-value-51ab"), "a !file value leaked into the dump")
        XCTAssertTrue(dump.body.contains(#""env":"[redacted]","file":"[redacted]""#), dump.body)
    }

    func testSecretVolumeUpdateReloads() async throws {
        var volume = try ConfigMapVolume(path: secretsFolder, files: ["token": "first"])
        let proxy = try await startProxy(config(), plugins: ["show": plugin])
        let watcher = ReloadWatcher(runtime: proxy.runtime, debounce: .milliseconds(50), logger: proxy.logs.logger)
        self.watcher = watcher
        try await watcher.start()
        let client = try await connect(proxy)
        let before = try await client.request("GET", "/")
        XCTAssertEqual(before.header("x-file"), "first")

        try volume.update(["token": "rotated"])
        try await eventually("the rotated secret to be in effect") {
            (try? await client.request("GET", "/"))?.header("x-file") == "rotated"
        }
        // The loops serve a new generation a moment before the runtime reports its number.
        try await eventually("the reload to finish") { await proxy.runtime.status().generation >= 2 }
        let generation = await proxy.runtime.status().generation
        XCTAssertEqual(generation, 2, "one reload for one swap")
    }
}
