import Foundation
import XCTest
@testable import LuxyConfig

/// `!env NAME` and `!file path` read at load time into redacted secrets.
final class SecretSourceTests: XCTestCase {
    private var folder = ""

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("luxy-secrets-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder + "/secrets", withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: folder)
    }

    private func stageConfig(_ entries: String) throws -> LuxyConfiguration {
        let yaml = "chains:\n  inbound-http:\n    - name: s\n      config:\n" + entries
        return try ConfigurationLoader.parse(yaml: yaml, file: folder + "/luxy.yaml")
    }

    func testEnvAndFileResolveToSecretsAndTheFileIsWatched() throws {
        let variable = "LUXY_TEST_SECRET_\(UInt32.random(in: 0...UInt32.max))"
        setenv(variable, "from-the-environment", 1)
        defer { unsetenv(variable) }
        try "from-a-file\n".write(toFile: folder + "/secrets/token", atomically: true, encoding: .utf8)
        let config = try stageConfig("""
                env: !env \(variable)
                file: !file secrets/token
                plain: visible
        """)
        let values = try XCTUnwrap(config.chains[.inboundHTTP]?.first?.config)
        XCTAssertEqual(values["env"], .secret("from-the-environment"))
        XCTAssertEqual(values["file"], .secret("from-a-file"), "relative to the config's folder, one newline dropped")
        XCTAssertEqual(values.jsonString(), #"{"env":"[redacted]","file":"[redacted]","plain":"visible"}"#)
        XCTAssertEqual(config.secretFiles, [folder + "/secrets/token"])
    }

    func testMissingVariableAndFileAreErrorsAtTheirPlace() throws {
        let variable = "LUXY_TEST_UNSET_\(UInt32.random(in: 0...UInt32.max))"
        XCTAssertThrowsError(try stageConfig("""
                env: !env \(variable)
                file: !file secrets/absent
        """)) { error in
            XCTAssertEqual((error as? ConfigurationError)?.problems.map(\.description), [
                "\(folder)/luxy.yaml:5:14: environment variable '\(variable)' is not set (named by '!env \(variable)')",
                "\(folder)/luxy.yaml:6:15: secret file '\(folder)/secrets/absent' does not exist "
                    + "(named by '!file secrets/absent')",
            ])
        }
    }

    func testReferenceTagsOutsideConfigValuesAreErrors() throws {
        let yaml = "listeners:\n  - name: !env NAME\n    direction: inbound\n    protocol: http\n    address: 127.0.0.1:0\n"
        XCTAssertThrowsError(try ConfigurationLoader.parse(yaml: yaml, file: folder + "/luxy.yaml")) { error in
            XCTAssertTrue("\(error)".contains("luxy.yaml:2:11: '!env' is understood only in config: and metadata: values"),
                          "\(error)")
        }
    }
}
