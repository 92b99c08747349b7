import XCTest
@testable import LuxyConfig

/// The schema subset on its own: what each keyword accepts, refuses and fills in.
final class ConfigSchemaValidationTests: XCTestCase {
    private func schema(_ fields: [(key: String, value: ConfigValue)]) throws -> ConfigSchema {
        try ConfigSchema(.map(fields))
    }

    /// The value with defaults filled in, and each problem as "path: message".
    private struct Checked {
        var filled: ConfigValue?
        var problems: [String]
    }

    private func check(_ schema: ConfigSchema, _ value: ConfigValue?) -> Checked {
        var problems: [ConfigSchemaProblem] = []
        let filled = schema.validate(value, at: ConfigValuePath(), problems: &problems)
        return Checked(filled: filled, problems: problems.map { "\($0.path): \($0.message)" })
    }

    func testDefaultsFillAbsentFieldsAndEmptyTablesBecomeTheDeclaredContainer() throws {
        let s = try schema([
            ("type", .string("object")),
            ("properties", .map([
                ("tags", .map([("type", .string("array")), ("default", .map([]))])),
                ("rate", .map([("type", .string("number")), ("default", .int(2))])),
                ("inner", .map([("type", .string("table")), ("default", .array([])), ("properties", .map([
                    ("level", .map([("type", .string("string")), ("default", .string("low"))])),
                ]))])),
            ])),
        ])
        let checked = check(s, .map([]))
        XCTAssertEqual(checked.problems, [])
        XCTAssertEqual(checked.filled, .map([("inner", .map([("level", .string("low"))])), ("rate", .int(2)),
                                     ("tags", .array([]))]))
    }

    func testEveryBrokenRuleIsReportedWithItsPath() throws {
        let s = try schema([
            ("properties", .map([
                ("n", .map([("type", .string("integer")), ("minimum", .int(1)), ("maximum", .int(3))])),
                ("mode", .map([("enum", .array([.int(1), .int(2)]))])),
                ("list", .map([("type", .string("array")), ("maxItems", .int(1)),
                               ("items", .map([("type", .string("string")), ("maxLength", .int(2))]))])),
            ])),
            ("required", .array([.string("n")])),
        ])
        XCTAssertEqual(check(s, .map([("n", .double(2.5))])).problems, ["config.n: 2.5 is not an integer (type = \"integer\")"])
        XCTAssertEqual(check(s, .map([("n", .int(4))])).problems, ["config.n: 4 is above the maximum 3 (maximum)"])
        XCTAssertEqual(check(s, .map([("n", .int(1)), ("mode", .double(2.0))])).problems, [], "enum compares numbers by value")
        XCTAssertEqual(check(s, .map([("n", .int(1)), ("list", .array([.string("abc"), .string("a")]))])).problems, [
            "config.list: a list of 2 items, more than 1 (maxItems)",
            "config.list[1]: a string of 3 characters, longer than 2 (maxLength)",
        ])
        XCTAssertEqual(check(s, .map([("x", .int(1))])).problems, [
            "config.x: unknown key 'x'; expected one of list, mode, n (additionalProperties = false)",
            "config: 'n' is required (required)",
        ])
    }

    func testAMalformedSchemaIsRefused() {
        XCTAssertThrowsError(try schema([("minimun", .int(1))])) { error in
            XCTAssertTrue((error as? ConfigSchemaError)?.message.contains("unknown keyword 'minimun'") ?? false, "\(error)")
        }
        XCTAssertThrowsError(try schema([("type", .string("string")), ("default", .int(3))])) { error in
            XCTAssertEqual((error as? ConfigSchemaError)?.message,
                           "schema.default does not match its schema: 3 is not a string (type = \"string\")")
        }
    }
}
