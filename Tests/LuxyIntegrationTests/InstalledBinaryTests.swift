import Foundation
import LuxyTestSupport
import XCTest

/// `scripts/install` into a temporary prefix, then that `luxy` run from a folder outside the
/// repository, with a config that names a built-in module and no `modules_dir`: the modules
/// must be found beside the installed binary. (The build's debug binary is installed, as
/// `--binary` allows, so CI builds no release for this.)
final class InstalledBinaryTests: IntegrationTestCase {
    private var folder: LuxyCommandFolder!
    private var process: LuxyChildProcess?

    override func setUp() async throws {
        try await super.setUp()
        folder = try LuxyCommandFolder("luxy-install")
        try FileManager.default.createDirectory(atPath: root + "/work", withIntermediateDirectories: true)
    }

    override func tearDown() async throws {
        process?.remove()
        folder?.remove()
        try await super.tearDown()
    }

    private var root: String { folder.path }

    func testInstalledLuxyFindsItsModulesFromAnyFolder() async throws {
        let install = try LuxyCommandRunner(workingDirectory: root, executable: "/bin/bash").run([
            BuiltLuxyBinary.repository.path + "/scripts/install", "--binary", BuiltLuxyBinary.path, root + "/prefix",
        ])
        XCTAssertEqual(install.status, 0, install.all)
        let installed = root + "/prefix/bin/luxy"
        let moduleCount = try FileManager.default.contentsOfDirectory(atPath: BuiltLuxyBinary.repository.path + "/modules")
            .filter { $0.hasSuffix(".lua") }.count
        let copied = try FileManager.default.contentsOfDirectory(atPath: root + "/prefix/share/luxy/modules")
            .filter { $0.hasSuffix(".lua") }.count
        XCTAssertEqual(copied, moduleCount, "every module of modules/ is installed")

        try PortZeroEchoConfig.yaml(stages: """
                - name: request-id
                  priority: 10
            """).write(toFile: root + "/work/luxy.yaml", atomically: true, encoding: .utf8)

        let check = try LuxyCommandRunner(workingDirectory: root + "/work", executable: installed)
            .run(["check", "--config", "luxy.yaml"])
        XCTAssertEqual(check.status, 0, check.all)
        XCTAssertTrue(check.stdout.contains("modules/request-id.lua"), check.all)

        let process = try LuxyChildProcess(configFile: root + "/work/luxy.yaml", log: root + "/luxy.log",
                                           binary: installed)
        self.process = process
        var port: Int?
        try await eventually("the installed luxy to listen", timeout: .seconds(20)) {
            port = process.boundListenerPort()
            return port != nil
        }
        let client = try await TestHTTPConnection.connect(port: try XCTUnwrap(port), group: group)
        let response = try await client.request("GET", "/")
        await client.close()
        XCTAssertEqual(response.status, 200, process.logText)
        XCTAssertNotNil(response.header("x-request-id"), "the installed request-id module ran\n\(process.logText)")
    }
}
