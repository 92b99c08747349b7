import Foundation
import XCTest

@testable import LuxyLua

/// string.format writes plain `%d`/`%i`, `%s` and `%%` itself and leaves every other format
/// to Lua's own: what it writes must be what C's printf (which Lua's own calls) writes, and
/// what it leaves must come out, errors included, as Lua gives it.
final class LuaStringFormatTests: LuaTestCase {
    /// Each Lua expression's value, or the error it raised, logged in order.
    private func values(of expressions: [String], file: StaticString = #filePath, line: UInt = #line) throws -> [String] {
        let body = expressions.map { "  log(pcall(function() return \($0) end))" }.joined(separator: "\n")
        let script = try load("""
            local function log(ok, value) h_:logInfo(ok and value or ("error: " .. value)) end
            function on_request(h)
              h_ = h
            \(body)
            end
            """, name: "format")
        host.logs = []
        run(script)
        XCTAssertEqual(host.logs.count, expressions.count, file: file, line: line)
        // Where an error was raised is each expression's own line: compared without it.
        return host.logs.map { $0.1.replacingOccurrences(of: #"plugins/format\.lua:\d+: "#, with: "",
                                                          options: .regularExpression) }
    }

    /// In decimal and in hexadecimal (a negative integer's bits as unsigned, as `%llx` prints them).
    func testIntegersArePaddedAsPrintfPadsThem() throws {
        let integers: [Int64] = [0, 7, -7, 42, -42, 123_456_789, Int64.max, Int64.min]
        var expressions: [String] = []
        var expected: [String] = []
        for flag in ["", "0", "-"] {
            for width in [0, 1, 2, 3, 5, 12, 21, 99] {
                let spec = width == 0 ? flag : "\(flag)\(width)"
                for value in integers {
                    // math.mininteger has no literal: written as an expression.
                    let literal = value == Int64.min ? "math.mininteger" : "\(value)"
                    expressions.append("string.format('<%\(spec)d|%\(spec)i|%\(spec)x|%\(spec)X>', "
                        + "\(literal), \(literal), \(literal), \(literal))")
                    let decimal = String(format: "%\(spec)lld", value)
                    expected.append("<\(decimal)|\(decimal)|\(String(format: "%\(spec)llx", value))|"
                        + "\(String(format: "%\(spec)llX", value))>")
                }
            }
        }
        XCTAssertEqual(try values(of: expressions), expected)
    }

    func testStringsPercentsAndTheBenchHeaderFormat() throws {
        let results = try values(of: [
            "string.format('t=%d.%03d', 1733400000, 7)",
            "string.format('%08x-%04x-4%03x', 0xdeadbeef, 0xbeef, 0x123)",
            "string.format('%s=%s;%%;%d%%', 'k', 'v', 5)",
            "string.format('%s', 'a\\0b')",
            "('%s-%d'):format('id', -3)",
            "string.format('no conversions')",
            "string.format('')",
            "string.format('%d', 1, 'extra', {})",
        ])
        XCTAssertEqual(results, ["t=1733400000.007", "deadbeef-beef-4123", "k=v;%;5%", "a\0b", "id--3", "no conversions", "", "1"])
    }

    /// Formats it does not write go whole to Lua's string.format: the same results, and the
    /// same errors, naming `format` as Lua does. (The expected texts are Lua 5.4's own, as
    /// `lua5.4` prints them for the same expressions.)
    func testEverythingElseIsLuasOwnErrorsIncluded() throws {
        let results = try values(of: [
            "string.format('%5.2f|%x|%X|%o|%c|%e', 3.14159, 255, 255, 8, 65, 1.5)",
            "string.format('%d', 3.0)",
            "string.format('%d', '10')",
            "string.format('%s|%s|%s', 12, 1.5, true)",
            "string.format('%s', setmetatable({}, {__tostring = function() return 'T' end}))",
            "string.format('%5s|%-5s|%.1s', 'ab', 'ab', 'ab')",
            "string.format('%q', 'a\\n')",
            "string.format('%+d|% d|%5.3d|%0005d', 5, 5, 5, 5)",
            "string.format('%-05d|%005d|%0-5d', 42, 42, 42)",
            "string.format('%#x|%5.3x|%x', 255, 255, 2.0)",
            "string.format('%d', 3.5)",
            "string.format('%d')",
            "string.format('%d', 'x')",
            "string.format('%y', 1)",
            "string.format('%100d', 1)",
            "string.format('abc%')",
            "string.format('%5%')",
            "('%d'):format({})",
        ])
        XCTAssertEqual(results, [
            " 3.14|ff|FF|10|A|1.500000e+00",
            "3",
            "10",
            "12|1.5|true",
            "T",
            "   ab|ab   |a",
            "\"a\\\n\"",
            "+5| 5|  005|00005",
            "42   |00042|42   ",
            "0xff|  0ff|2",
            "error: bad argument #2 to 'format' (number has no integer representation)",
            "error: bad argument #2 to 'format' (no value)",
            "error: bad argument #2 to 'format' (number expected, got string)",
            "error: invalid conversion '%y' to 'format'",
            "error: invalid conversion specification: '%100d'",
            "error: bad argument #2 to 'format' (no value)",
            "error: bad argument #2 to 'format' (no value)",
            "error: bad argument #1 to 'format' (number expected, got table)",
        ])
    }
}
