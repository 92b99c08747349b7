import LuxyConfig
@testable import LuxyImport
import XCTest

/// How EnvoyFilter patches map to scripts, chains and priorities, on Istio's and Envoy's
/// documented examples (the files in `examples/envoyfilter-import/`).
final class EnvoyFilterMappingTests: XCTestCase {
    private func plan(_ example: String) throws -> ImportPlan {
        try EnvoyFilterImporter.plan(file: ImportExamples.path(example))
    }

    private func entries(_ plan: ImportPlan, _ chain: ChainName) -> [String] {
        plan.chainEntries.filter { $0.chain == chain }.map { "\($0.name) \($0.priority)" }
    }

    private func messages(_ plan: ImportPlan, _ severity: ImportFinding.Severity) -> [String] {
        plan.findings.filter { $0.severity == severity }.map(\.description)
    }

    func testReviewsLuaGoesInboundWithTheInlineCode() throws {
        let plan = try plan("reviews-lua.yaml")
        XCTAssertEqual(plan.scripts.map(\.name), ["reviews-lua"])
        XCTAssertTrue(plan.scripts[0].source.contains("request_handle:httpCall("), plan.scripts[0].source)
        XCTAssertEqual(entries(plan, .inboundHTTP), ["reviews-lua 100"])
        XCTAssertEqual(entries(plan, .outboundHTTP), [])
        XCTAssertTrue(plan.importedAllLua, plan.findings.description)
        let notes = messages(plan, .note).joined(separator: "\n")
        XCTAssertTrue(notes.contains("doc 1: spec.workloadSelector: workloadSelector app=reviews not mapped"), notes)
        XCTAssertTrue(notes.contains("doc 1: spec.configPatches[0].match.listener.portNumber: match.listener.portNumber 8080 not mapped"), notes)
        XCTAssertTrue(notes.contains("doc 1: spec.configPatches[1]: applyTo CLUSTER 'lua_cluster' not imported"), notes)
        // Each finding names the input's line: workloadSelector's labels are on line 11.
        XCTAssertTrue(notes.contains("\(ImportExamples.path("reviews-lua.yaml")):11:"), notes)
    }

    func testOutboundContextGoesToOutboundHTTP() throws {
        let plan = try plan("outbound-header.yaml")
        XCTAssertEqual(entries(plan, .outboundHTTP), ["outbound-tag 100"])
        XCTAssertEqual(entries(plan, .inboundHTTP), [])
        XCTAssertEqual(plan.findings, [], "v1 with context and sub-filter only: nothing to say")
    }

    func testPriorityAndOperationsOrderFiltersAcrossResources() throws {
        let plan = try plan("ordered-filters.yaml")
        XCTAssertEqual(entries(plan, .inboundHTTP), ["early-2 100", "early 90", "audit 80", "late-tag 70"])
        XCTAssertTrue(plan.importedAllLua)
        XCTAssertTrue(messages(plan, .note).contains { $0.contains("doc 3: (document): kind Service is not an EnvoyFilter; ignored") },
                      plan.findings.description)
    }

    func testSourceCodesBecomeScriptsOfTheirOwnInNoChain() throws {
        let plan = try plan("source-codes.yaml")
        XCTAssertEqual(plan.scripts.map(\.name), ["per-route-scripts", "hello", "bye"])
        XCTAssertEqual(plan.scripts[2].source, "function envoy_on_response(response_handle)\n  response_handle:logInfo(\"Bye Bye.\")\nend\n",
                       "filename: read relative to the input file")
        XCTAssertEqual(plan.scripts[1].role, .namedSource(filter: "per-route-scripts", key: "hello.lua"))
        XCTAssertEqual(entries(plan, .inboundHTTP), ["per-route-scripts 100"])
        XCTAssertTrue(plan.importedAllLua, plan.findings.description)
        XCTAssertTrue(messages(plan, .note).contains {
            $0.contains("spec.configPatches[0].patch.value.typed_config.source_codes.\"hello.lua\".inline_string: source_codes entry hello.lua written to plugins/hello.lua")
        }, plan.findings.description)
    }

    func testLuaPerRouteBecomesPerStageSettings() throws {
        let plan = try plan("per-route.yaml")
        XCTAssertTrue(plan.importedAllLua, plan.findings.description)
        XCTAssertEqual(plan.scripts.map(\.name), ["lua-per-route", "hello", "lua-per-route-route"])
        XCTAssertTrue(plan.scripts[2].source.contains("x-legacy"), plan.scripts[2].source)
        XCTAssertEqual(plan.perRouteSettings.map(\.target), [
            "route 'health' of virtual host 'inbound|http|8080'",
            "route 'greet' of virtual host 'inbound|http|8080'",
            "route 'legacy' of virtual host 'inbound|http|8080'",
            "every route of virtual host 'inbound|http|8080'",
        ])
        XCTAssertEqual(plan.perRouteSettings.map(\.perStageYAML), [
            "per_stage: {lua-per-route: {disabled: true}}",
            "per_stage: {lua-per-route: {script: hello}}",
            "per_stage: {lua-per-route: {script: lua-per-route-route}}",
            "per_stage: {lua-per-route: {config: {team: reviews, limits: {rps: 10}}}}",
        ])
        let notes = messages(plan, .note).joined(separator: "\n")
        XCTAssertTrue(notes.contains("doc 1: spec.configPatches[0].patch.value.typed_per_filter_config.\"envoy.filters.http.lua\": LuaPerRoute on route 'health' of virtual host 'inbound|http|8080' mapped to per_stage: {lua-per-route: {disabled: true}}"), notes)
        XCTAssertTrue(plan.chainsYAML.contains("#   per_stage: {lua-per-route: {script: hello}}"), plan.chainsYAML)
    }

    func testLuaPerRouteForAFilterNotImportedIsReported() throws {
        let yaml = """
            apiVersion: networking.istio.io/v1alpha3
            kind: EnvoyFilter
            metadata: {name: orphan}
            spec:
              configPatches:
              - applyTo: HTTP_ROUTE
                match: {routeConfiguration: {vhost: {name: web, route: {name: r}}}}
                patch:
                  operation: MERGE
                  value:
                    typed_per_filter_config:
                      my.lua:
                        "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.LuaPerRoute
                        disabled: true
            """
        let plan = try EnvoyFilterImporter.plan(yaml: yaml, file: "/tmp/orphan.yaml")
        XCTAssertFalse(plan.importedAllLua)
        XCTAssertTrue(plan.perRouteSettings.isEmpty)
        XCTAssertTrue(messages(plan, .notImported).joined().contains("LuaPerRoute for my.lua on route 'r' of virtual host 'web': no Lua filter of that name was imported"),
                      plan.findings.description)
    }

    func testBareRouteConfigurationLuaPerRoute() throws {
        let plan = try plan("envoy-route-config.yaml")
        XCTAssertTrue(plan.importedAllLua, plan.findings.description)
        XCTAssertEqual(plan.perRouteSettings.map { "\($0.target) \($0.perStageYAML)" }, [
            "route 'health' of virtual host 'local_service' per_stage: {envoy-route-config: {disabled: true}}",
            "route 1 (unnamed) of virtual host 'local_service' per_stage: {envoy-route-config: {config: {audience: \"api v2\"}}}",
        ])
    }

    func testNonLuaPatchesAreNotedAndSkipped() throws {
        let plan = try plan("non-lua.yaml")
        XCTAssertTrue(plan.scripts.isEmpty)
        XCTAssertTrue(plan.importedAllLua, "nothing Lua was left behind")
        let notes = messages(plan, .note).joined(separator: "\n")
        XCTAssertTrue(notes.contains("doc 1: spec.configPatches[0]: HTTP filter envoy.filters.http.ext_authz (type.googleapis.com/envoy.extensions.filters.http.ext_authz.v3.ExtAuthz) is not a Lua filter; skipped"), notes)
        XCTAssertTrue(notes.contains("doc 2: spec.configPatches[0]: applyTo NETWORK_FILTER is not an HTTP filter; skipped"), notes)
        XCTAssertTrue(notes.contains("doc 3: spec.configPatches[0]: HTTP filter my-wasm-extension (config_discovery (ECDS)) is not a Lua filter; skipped"), notes)
    }

    func testBareEnvoyFilterListGoesToBothChains() throws {
        let plan = try plan("envoy-http-filters.yaml")
        XCTAssertEqual(plan.scripts.map(\.name), ["envoy-http-filters"], "named after the file: the filter's name is generic")
        XCTAssertEqual(entries(plan, .inboundHTTP), ["envoy-http-filters 100"])
        XCTAssertEqual(entries(plan, .outboundHTTP), ["envoy-http-filters 100"])
        XCTAssertTrue(plan.importedAllLua)
    }

    func testMergeOfALuaFilterIsNotImported() throws {
        let yaml = """
        apiVersion: networking.istio.io/v1alpha3
        kind: EnvoyFilter
        metadata: {name: patchy}
        spec:
          configPatches:
          - applyTo: HTTP_FILTER
            match: {context: SIDECAR_INBOUND}
            patch:
              operation: INSERT_BEFORE
              value:
                name: envoy.lua
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua
                  inlineCode: "function envoy_on_request(h) end"
          - applyTo: HTTP_FILTER
            match: {context: SIDECAR_INBOUND}
            patch:
              operation: MERGE
              value:
                name: envoy.lua
                typed_config:
                  "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua
                  inlineCode: "function envoy_on_request(h) h:logInfo('merged') end"
        """
        let plan = try EnvoyFilterImporter.plan(yaml: yaml, file: "/tmp/patchy.yaml")
        XCTAssertEqual(plan.scripts.map(\.name), ["patchy"])
        XCTAssertEqual(messages(plan, .notImported),
                       ["/tmp/patchy.yaml:18:18: not imported: doc 1: spec.configPatches[1].patch.operation: patch.operation MERGE is not a Lua filter insert; skipped"])
    }

    func testContextAnyAndGatewayAreSaid() throws {
        let yaml = """
        kind: EnvoyFilter
        metadata: {name: everywhere}
        spec:
          configPatches:
          - applyTo: HTTP_FILTER
            match: {context: ANY}
            patch: {operation: INSERT_FIRST, value: {name: envoy.lua, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua, inlineCode: "-- a"}}}
          - applyTo: HTTP_FILTER
            match: {context: GATEWAY}
            patch: {operation: INSERT_FIRST, value: {name: envoy.lua, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua, inlineCode: "-- b"}}}
        """
        let plan = try EnvoyFilterImporter.plan(yaml: yaml, file: "/tmp/any.yaml")
        XCTAssertEqual(entries(plan, .inboundHTTP), ["everywhere 100"])
        // INSERT_FIRST twice: the later one ends up first.
        XCTAssertEqual(entries(plan, .outboundHTTP), ["everywhere-2 100", "everywhere 90"])
        let notes = messages(plan, .note).joined(separator: "\n")
        XCTAssertTrue(notes.contains("context ANY: imported into inbound-http and outbound-http"), notes)
        XCTAssertTrue(notes.contains("context GATEWAY"), notes)
    }

    func testAddWithoutFilterClassEndsAfterTheRouterAndIsSaid() throws {
        let yaml = """
        kind: EnvoyFilter
        metadata: {name: tail}
        spec:
          configPatches:
          - applyTo: HTTP_FILTER
            match: {context: SIDECAR_OUTBOUND}
            patch: {operation: ADD, value: {name: envoy.lua, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua, inlineCode: "-- tail"}}}
          - applyTo: HTTP_FILTER
            match: {context: SIDECAR_OUTBOUND}
            patch: {operation: ADD, filterClass: AUTHZ, value: {name: envoy.lua, typed_config: {"@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua, inlineCode: "-- authz"}}}
        """
        let plan = try EnvoyFilterImporter.plan(yaml: yaml, file: "/tmp/tail.yaml")
        XCTAssertEqual(entries(plan, .outboundHTTP), ["tail-2 100", "tail 90"])
        XCTAssertTrue(messages(plan, .note).contains { $0.contains("after envoy.filters.http.router, where it never runs") },
                      plan.findings.description)
    }

    func testMissingFilenameIsNotImported() throws {
        let yaml = """
        name: envoy.filters.http.lua
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua
          default_source_code: {filename: /etc/envoy/lua/missing-\(UUID().uuidString).lua}
        """
        let plan = try EnvoyFilterImporter.plan(yaml: yaml, file: "/tmp/bare.yaml")
        XCTAssertTrue(plan.scripts.isEmpty)
        XCTAssertTrue(plan.chainEntries.isEmpty)
        XCTAssertFalse(plan.importedAllLua)
        XCTAssertTrue(messages(plan, .notImported)[0].contains("default_source_code.filename: filename /etc/envoy/lua/missing-"),
                      plan.findings.description)
    }

    func testBadYAMLNamesLineAndColumn() {
        XCTAssertThrowsError(try EnvoyFilterImporter.plan(yaml: "kind: EnvoyFilter\nspec: [unclosed\n", file: "/tmp/bad.yaml")) { error in
            let text = "\(error)"
            XCTAssertNotNil(text.range(of: #"^/tmp/bad\.yaml:[0-9]+:[0-9]+: invalid YAML"#, options: .regularExpression), text)
        }
    }

    func testEnvoyFilterWithoutPatchesIsABadInput() {
        XCTAssertThrowsError(try EnvoyFilterImporter.plan(yaml: "kind: EnvoyFilter\nmetadata: {name: x}\nspec:\n  configPatches: 3\n",
                                                          file: "/tmp/nopatch.yaml")) { error in
            XCTAssertEqual("\(error)", "/tmp/nopatch.yaml:4:18: doc 1: spec.configPatches: an EnvoyFilter needs spec.configPatches: a list")
        }
    }

    func testStageNamesAreFileSafeAndUnique() {
        var names = StageNames()
        XCTAssertEqual(names.claim("Reviews Lua"), "reviews-lua")
        XCTAssertEqual(names.claim("reviews-lua"), "reviews-lua-2")
        XCTAssertEqual(names.claim("hello.lua"), "hello")
        XCTAssertEqual(names.claim("9lives"), "lua-9lives")
        XCTAssertEqual(names.claim("../../etc/passwd"), "etc-passwd")
        XCTAssertEqual(names.claim("true"), "true-lua")
    }
}
