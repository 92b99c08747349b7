import Foundation
import LuxyTestSupport
import XCTest

/// `luxy import envoyfilter` as a user runs it: the built binary on the Istio and Envoy
/// examples in `examples/envoyfilter-import/`, writing into a fresh folder.
final class ImportCommandTests: XCTestCase {
    static let examples = BuiltLuxyBinary.repository.appendingPathComponent("examples/envoyfilter-import").path

    private var folder: LuxyCommandFolder!
    private var directory: String { folder.path }
    private var runner: LuxyCommandRunner { LuxyCommandRunner(workingDirectory: directory) }
    private var out: String { directory + "/out" }

    override func setUpWithError() throws {
        folder = try LuxyCommandFolder("luxy-import")
    }

    override func tearDownWithError() throws {
        folder?.remove()
    }

    private func importing(_ file: String, _ extra: [String] = []) throws -> LuxyCommandRunner.Outcome {
        try runner.run(["import", "envoyfilter", file, "--out", out] + extra)
    }

    private func example(_ name: String) -> String { Self.examples + "/" + name }

    private func read(_ relative: String) throws -> String {
        try String(contentsOfFile: out + "/" + relative, encoding: .utf8)
    }

    func testReviewsLuaBecomesAnInboundPluginThatLuxyCheckAccepts() throws {
        let result = try importing(example("reviews-lua.yaml"))
        XCTAssertEqual(result.status, 0, result.all)
        let plugin = try read("plugins/reviews-lua.lua")
        XCTAssertTrue(plugin.hasPrefix("function envoy_on_request(request_handle)\n"), plugin)
        XCTAssertTrue(plugin.contains("\"lua_cluster\""), plugin)
        XCTAssertTrue(result.stdout.contains("""
          inbound-http:
            # doc 1: spec.configPatches[0]: before envoy.filters.http.router
            - name: reviews-lua
              priority: 100
        """), result.all)
        XCTAssertFalse(result.stdout.contains("outbound-http"), result.all)
        XCTAssertEqual(try read("chains.yaml"), result.stdout, "stdout is what chains.yaml holds")
        XCTAssertTrue(result.stderr.contains("note: doc 1: spec.workloadSelector: workloadSelector app=reviews not mapped"), result.all)
        XCTAssertTrue(result.stderr.contains("applyTo CLUSTER 'lua_cluster' not imported"), result.all)

        // The output is a configuration `luxy check` accepts as it is.
        let check = try runner.run(["check", "--config", out + "/chains.yaml"])
        XCTAssertEqual(check.status, 0, check.all)
        XCTAssertTrue(check.stdout.contains("100   plugins/reviews-lua.lua"), check.all)
    }

    func testOutboundFilterGoesToOutboundHTTP() throws {
        let result = try importing(example("outbound-header.yaml"))
        XCTAssertEqual(result.status, 0, result.all)
        XCTAssertTrue(result.stdout.contains("outbound-http:\n"), result.all)
        XCTAssertFalse(result.stdout.contains("inbound-http:"), result.all)
        XCTAssertTrue(try read("plugins/outbound-tag.lua").contains("x-client-mesh"))
    }

    func testSourceCodesAreWrittenAndTheFileOneCopied() throws {
        let result = try importing(example("source-codes.yaml"))
        XCTAssertEqual(result.status, 0, result.all)
        XCTAssertEqual(try read("plugins/bye.lua"),
                       try String(contentsOfFile: example("scripts/bye.lua"), encoding: .utf8))
        XCTAssertTrue(try read("plugins/hello.lua").contains("Hello World."))
        XCTAssertTrue(result.stdout.contains("- name: per-route-scripts"), result.all)
        XCTAssertFalse(result.stdout.contains("- name: hello"), "a source_codes script runs only where a route picks it")
        XCTAssertTrue(result.stderr.contains("source_codes entry hello.lua written to plugins/hello.lua"), result.all)
    }

    func testSeveralFiltersAreNumberedInEnvoysOrder() throws {
        let result = try importing(example("ordered-filters.yaml"))
        XCTAssertEqual(result.status, 0, result.all)
        let stages = result.stdout.split(separator: "\n").filter { $0.contains("- name:") || $0.contains("priority:") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
        XCTAssertEqual(stages, ["- name: early-2", "priority: 100", "- name: early", "priority: 90",
                                "- name: audit", "priority: 80", "- name: late-tag", "priority: 70"], result.all)
        XCTAssertTrue(result.stderr.contains("doc 3: (document): kind Service is not an EnvoyFilter; ignored"), result.all)
    }

    func testNonLuaPatchesAreReportedAndExitZero() throws {
        let result = try importing(example("non-lua.yaml"))
        XCTAssertEqual(result.status, 0, result.all)
        XCTAssertTrue(result.stderr.contains("envoy.filters.http.ext_authz"), result.all)
        XCTAssertTrue(result.stderr.contains("applyTo NETWORK_FILTER is not an HTTP filter; skipped"), result.all)
        XCTAssertTrue(result.stderr.contains("no Lua filter to import"), result.all)
        XCTAssertTrue(result.stdout.contains("chains: {}"), result.all)
    }

    func testLuaPerRouteIsMappedAndExitsZero() throws {
        let result = try importing(example("per-route.yaml"))
        XCTAssertEqual(result.status, 0, result.all)
        XCTAssertTrue(result.stderr.contains("note: doc 1: spec.configPatches[0].patch.value.typed_per_filter_config.\"envoy.filters.http.lua\": LuaPerRoute on route 'health' of virtual host 'inbound|http|8080' mapped to per_stage: {lua-per-route: {disabled: true}}"), result.all)
        XCTAssertTrue(result.stdout.contains("# doc 1: spec.configPatches[2].patch.value.typed_per_filter_config.\"envoy.filters.http.lua\": route 'legacy' of virtual host 'inbound|http|8080':\n#   per_stage: {lua-per-route: {script: lua-per-route-route}}"), result.all)
        XCTAssertTrue(try read("plugins/lua-per-route-route.lua").contains("x-legacy"))
        XCTAssertFalse(result.stderr.contains("not imported"), result.all)
    }

    func testBareEnvoyHTTPFiltersGoToBothChains() throws {
        let result = try importing(example("envoy-http-filters.yaml"))
        XCTAssertEqual(result.status, 0, result.all)
        XCTAssertTrue(result.stdout.contains("inbound-http:"), result.all)
        XCTAssertTrue(result.stdout.contains("outbound-http:"), result.all)
        XCTAssertTrue(try read("plugins/envoy-http-filters.lua").contains("response-body-size"))
        XCTAssertTrue(result.stderr.contains("a bare Envoy filter has no direction"), result.all)
    }

    func testScriptThatDoesNotCompileIsNamedWithItsLineAndExitsOne() throws {
        let input = directory + "/broken.yaml"
        try """
        kind: EnvoyFilter
        metadata: {name: broken}
        spec:
          configPatches:
          - applyTo: HTTP_FILTER
            match: {context: SIDECAR_INBOUND}
            patch:
              operation: INSERT_FIRST
              value:
                name: envoy.lua
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua
                  inlineCode: |
                    function envoy_on_request(h)
                      h:headers(:add("x", "y")
                    end
        """.write(toFile: input, atomically: true, encoding: .utf8)
        let result = try importing(input)
        XCTAssertEqual(result.status, 1, result.all)
        XCTAssertTrue(result.stderr.contains("\(out)/plugins/broken.lua:2:"), result.all)
        XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/plugins/broken.lua"), "written, for fixing")
    }

    func testExistingFilesAreKeptUnlessForced() throws {
        XCTAssertEqual(try importing(example("outbound-header.yaml")).status, 0)
        try "-- mine\n".write(toFile: out + "/plugins/outbound-tag.lua", atomically: true, encoding: .utf8)
        let again = try importing(example("outbound-header.yaml"))
        XCTAssertEqual(again.status, 1, again.all)
        XCTAssertTrue(again.stderr.contains("\(out)/plugins/outbound-tag.lua: exists; not overwritten"), again.all)
        XCTAssertEqual(try read("plugins/outbound-tag.lua"), "-- mine\n")
        let forced = try importing(example("outbound-header.yaml"), ["--force"])
        XCTAssertEqual(forced.status, 0, forced.all)
        XCTAssertTrue(try read("plugins/outbound-tag.lua").contains("x-client-mesh"))
    }

    func testBadYAMLExitsTwoWithFileLineAndColumn() throws {
        let input = directory + "/bad.yaml"
        try "kind: EnvoyFilter\nspec:\n  configPatches: [\n".write(toFile: input, atomically: true, encoding: .utf8)
        let result = try importing(input)
        XCTAssertEqual(result.status, 2, result.all)
        let pattern = NSRegularExpression.escapedPattern(for: input) + ":[0-9]+:[0-9]+: invalid YAML"
        XCTAssertNotNil(result.stderr.range(of: pattern, options: .regularExpression), result.all)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing written")
    }

    func testMissingInputExitsTwo() throws {
        let result = try importing(directory + "/nope.yaml")
        XCTAssertEqual(result.status, 2, result.all)
    }
}
