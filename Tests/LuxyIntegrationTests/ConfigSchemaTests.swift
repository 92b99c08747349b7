import Foundation
import LuxyPlugins
import LuxyTestSupport
import XCTest

/// Schemas on a running proxy: defaults reach the script's `config`, and a reload whose config
/// breaks a schema keeps the running generation.
final class ConfigSchemaTests: IntegrationTestCase {
    private let greeter = """
        schema = {
          type = "object",
          properties = {
            greeting = { type = "string", default = "hello" },
            times = { type = "integer", minimum = 1, maximum = 3, default = 2 },
            tags = { type = "array", items = { type = "string" }, default = {} },
            nested = { type = "object", default = {}, properties = {
              level = { type = "string", enum = { "low", "high" }, default = "low" } } },
          },
        }
        local line = string.rep(config.greeting, config.times, " ") .. "/" .. #config.tags .. "/" .. config.nested.level
        function on_response(h) h:headers():replace("x-greeting", line) end
        """

    private func stage(_ config: String) -> String {
        """
            - name: greeter
              priority: 10
              config: \(config)
        """
    }

    func testDefaultsAreFilledIntoConfig() async throws {
        let proxy = try await startProxy(standardConfig(inboundStages: stage("{ times: 3 }")),
                                         plugins: ["greeter": greeter])
        let client = try await connect(proxy)
        let response = try await client.request("GET", "/echo")
        XCTAssertEqual(response.header("x-greeting"), "hello hello hello/0/low")
    }

    func testReloadWithAConfigAgainstTheSchemaKeepsTheRunningGeneration() async throws {
        let proxy = try await startProxy(standardConfig(inboundStages: stage("{ greeting: hi }")),
                                         plugins: ["greeter": greeter])
        let client = try await connect(proxy)
        let before = try await client.request("GET", "/echo")
        XCTAssertEqual(before.header("x-greeting"), "hi hi/0/low")

        try proxy.writeConfig(standardConfig(inboundStages: stage("{ greeting: hi, times: 9 }")))
        do {
            _ = try await proxy.runtime.reload()
            XCTFail("a config over the schema's maximum must be refused")
        } catch {
            XCTAssertTrue("\(error)".contains("luxy.yaml:"), "\(error)")
            XCTAssertTrue("\(error)".contains("stage 'greeter' config.times: 9 is above the maximum 3 (maximum)"),
                          "\(error)")
        }
        let status = await proxy.runtime.status()
        XCTAssertEqual(status.generation, 1)
        let after = try await client.request("GET", "/echo")
        XCTAssertEqual(after.header("x-greeting"), "hi hi/0/low", "the old generation still serves")

        try proxy.writeConfig(standardConfig(inboundStages: stage("{ greeting: hi, nested: { level: high } }")))
        let outcome = try await proxy.runtime.reload()
        XCTAssertEqual(outcome.generation, 2)
        let fixed = try await client.request("GET", "/echo")
        XCTAssertEqual(fixed.header("x-greeting"), "hi hi/0/high")
    }
}
