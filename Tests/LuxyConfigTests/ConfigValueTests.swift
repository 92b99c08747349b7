import XCTest
@testable import LuxyConfig

final class ConfigValueTests: XCTestCase {
    func stageConfig(_ yaml: String) throws -> ConfigValue {
        let document = "chains:\n  inbound-http:\n    - name: s\n      config:\n" +
            yaml.split(separator: "\n", omittingEmptySubsequences: false).map { "        " + $0 }.joined(separator: "\n")
        let config = try ConfigurationLoader.parse(yaml: document, file: "/x/luxy.yaml")
        return try XCTUnwrap(config.chains[.inboundHTTP]?.first?.config)
    }

    func testScalarsFollowYAMLResolution() throws {
        let value = try stageConfig("""
        zulu: 1
        alpha: "1"
        float: 2.5
        yes: true
        off: no
        none: ~
        empty:
        quoted_null: "null"
        text: hello world
        list: [1, two, 3.0]
        nested: {b: 1, a: 2}
        token: !secret s3cr3t
        """)
        XCTAssertEqual(value, .map([
            ("zulu", .int(1)),
            ("alpha", .string("1")),
            ("float", .double(2.5)),
            ("yes", .bool(true)),
            ("off", .bool(false)),
            ("none", .null),
            ("empty", .null),
            ("quoted_null", .string("null")),
            ("text", .string("hello world")),
            ("list", .array([.int(1), .string("two"), .double(3.0)])),
            ("nested", .map([("b", .int(1)), ("a", .int(2))])),
            ("token", .secret("s3cr3t")),
        ]))
        XCTAssertEqual(value["token"], .secret("s3cr3t"))
    }

    func testSecretOnACollectionIsAnError() {
        XCTAssertThrowsError(try stageConfig("token: !secret [a]")) { error in
            XCTAssertEqual((error as? ConfigurationError)?.description,
                           "/x/luxy.yaml:5:16: '!secret' applies to scalars only")
        }
    }

    func testJSONRedactsSecretsByDefault() {
        let value = ConfigValue.map([
            ("user", .string("bob")),
            ("password", .secret("hunter2")),
            ("ports", .array([.int(80), .double(1.5), .bool(false), .null])),
        ])
        XCTAssertEqual(value.jsonString(),
                       #"{"user":"bob","password":"[redacted]","ports":[80,1.5,false,null]}"#)
        XCTAssertEqual(value.jsonString(redactingSecrets: false),
                       #"{"user":"bob","password":"hunter2","ports":[80,1.5,false,null]}"#)
    }

    func testJSONEscapesStrings() throws {
        let text = "quote\" back\\ nl\n tab\t bell\u{07} é ✓"
        let json = ConfigValue.map([("k\"", .string(text))]).jsonString()
        XCTAssertEqual(json, #"{"k\"":"quote\" back\\ nl\n tab\t bell\u0007 é ✓"}"#)

        // And it round-trips through a real JSON parser.
        let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: String]
        XCTAssertEqual(parsed, ["k\"": text])
    }

    func testJSONHasNoNonFiniteNumbers() {
        XCTAssertEqual(ConfigValue.array([.double(.nan), .double(.infinity)]).jsonString(), "[null,null]")
        XCTAssertEqual(ConfigValue.map([]).jsonString(), "{}")
        XCTAssertEqual(ConfigValue.array([]).jsonString(), "[]")
    }
}

final class TCPRouteMatchingTests: XCTestCase {
    func testServerNamePatterns() {
        let route = TCPRouteConfiguration(serverNames: ["a.test", "*.b.test"], cluster: "x")
        XCTAssertTrue(route.matches("a.test"))
        XCTAssertTrue(route.matches("A.Test"))
        XCTAssertTrue(route.matches("x.b.test"))
        XCTAssertTrue(route.matches("y.x.b.test"))
        XCTAssertFalse(route.matches("b.test"), "a wildcard needs a label in front")
        XCTAssertFalse(route.matches("c.test"))
        XCTAssertTrue(TCPRouteConfiguration(serverNames: ["*"], cluster: "x").matches("anything"))
    }
}
