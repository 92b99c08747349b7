import Foundation
import LuxyPlugins
import LuxyTestSupport
import XCTest

/// The generation's content hash: what a fleet compares to know every replica runs the same
/// files.
final class ContentHashTests: IntegrationTestCase {
    private var folder = ""
    private var processes: [LuxyChildProcess] = []

    override func setUp() async throws {
        try await super.setUp()
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("luxy-hash-\(UUID().uuidString)").path
    }

    override func tearDown() async throws {
        for process in processes { process.remove() }
        try? FileManager.default.removeItem(atPath: folder)
        for index in 0..<2 { try? FileManager.default.removeItem(atPath: "\(folder).\(index).log") }
        try await super.tearDown()
    }

    private func plugin(_ version: String) -> String {
        "function envoy_on_response(h) h:headers():replace(\"x-version\", \"\(version)\") end\n"
    }

    private func stats(_ process: LuxyChildProcess) async throws -> [String: Any]? {
        guard let port = process.boundAdminPort() else { return nil }
        let connection = try await TestHTTPConnection.connect(port: port, group: group)
        let response = try await connection.request("GET", "/stats")
        await connection.close()
        return try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [String: Any]
    }

    private func hash(_ process: LuxyChildProcess) async -> String? {
        (try? await stats(process))?["content_hash"] as? String
    }

    /// Every file the generation loads counts (a `require`d library too); comments and the
    /// folder the files are in do not.
    func testLibraryEditsCountAndCommentsAndLocationDoNot() throws {
        func write(_ files: [String: String], in root: String) throws -> String {
            for (name, content) in files {
                let path = root + "/" + name
                try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                        withIntermediateDirectories: true)
                try content.write(toFile: path, atomically: true, encoding: .utf8)
            }
            return try XCTUnwrap(ConfigurationSnapshot.load(configFile: root + "/luxy.yaml").contentHash)
        }
        let files = [
            "luxy.yaml": PortZeroEchoConfig.yaml(stages: "    - { name: greet, priority: 10 }"),
            "plugins/greet.lua": "local words = require('words')\nfunction envoy_on_request(h) end\n",
            "lib/words.lua": "return { hello = 'hello' }\n",
        ]
        let original = try write(files, in: folder + "/a")
        XCTAssertEqual(try write(files, in: folder + "/elsewhere/b"), original, "the same files in another folder")
        XCTAssertEqual(try write(["luxy.yaml": "# a comment\n" + files["luxy.yaml"]!], in: folder + "/a"), original,
                       "a comment is not content")
        XCTAssertNotEqual(try write(["lib/words.lua": "return { hello = 'hi' }\n"], in: folder + "/a"), original,
                          "a library the generation loaded is content")
    }

    func testTwoProcessesOnOneFolderAgreeAndAPluginEditChangesTheHash() async throws {
        // A ConfigMap-style folder, as a pod mounts it, with ports chosen by the kernel, so
        // both replicas run the very same file.
        var volume = try ConfigMapVolume(path: folder, files: [
            "luxy.yaml": PortZeroEchoConfig.yaml(settings: """
                modules_dir: \(TestProxy.repositoryModules)
                plugins_dir: .
                """, stages: """
                    - name: version
                      priority: 10
                    - name: request-id
                      priority: 20
                """),
            "version.lua": plugin("v1"),
        ])
        for index in 0..<2 {
            processes.append(try LuxyChildProcess(configFile: folder + "/luxy.yaml", log: "\(folder).\(index).log"))
        }
        var first: [String] = []
        try await eventually("both replicas to report a hash", timeout: .seconds(20)) {
            first = []
            for process in processes { if let hash = await hash(process) { first.append(hash) } }
            return first.count == 2
        }
        XCTAssertEqual(first[0].count, 64, "SHA-256 in hex")
        XCTAssertEqual(first[0], first[1], "the same files give the same hash in two processes")
        let check = try LuxyCommandRunner(workingDirectory: folder).run(["check", "--config", "luxy.yaml"])
        XCTAssertTrue(check.stdout.contains("content hash: \(first[0])"), "luxy check prints what replicas report\n\(check.all)")

        try volume.update([
            "luxy.yaml": try String(contentsOfFile: folder + "/luxy.yaml", encoding: .utf8),
            "version.lua": plugin("v2"),
        ])
        var second: [String] = []
        try await eventually("both replicas to take the edited plugin", timeout: .seconds(10)) {
            second = []
            for process in processes { if let hash = await hash(process), hash != first[0] { second.append(hash) } }
            return second.count == 2
        }
        XCTAssertEqual(second[0], second[1], "both replicas converge on one new hash")
        for process in processes { process.process.terminate() }
    }
}
