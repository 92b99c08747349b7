import Foundation

/// One script of the Envoy conformance suite (`EnvoyConformance/*.lua`): the Lua itself, the
/// request to send and what must be observed, read from `--@key: value` lines. Every file
/// starts with `-- Envoy:` lines saying which Envoy behaviour it checks and where Envoy
/// documents or implements it.
struct EnvoyConformanceScript {
    /// `name: value`; an empty value means "absent".
    struct HeaderExpectation {
        var name: String
        var value: String
    }

    var file: String
    var source: String
    /// The leading comment: the Envoy behaviour checked.
    var behaviour: String

    var method = "GET"
    var path = "/conformance"
    var requestHeaders: [(String, String)] = []
    var requestBody: String?
    /// The request as raw HTTP/1.1 (`\r\n` written as such), for what `request()` cannot
    /// send: a chunked body with trailers.
    var rawRequest: String?
    /// A stage that runs before this script on requests (after it on responses): the
    /// "earlier filter" of Envoy's chain, given as one line of Lua.
    var outerStage: String?
    /// Stage keys beside `name:` and `priority:` (`fail_open: true`, `stat_prefix: …`).
    var stageOptions: [String] = []

    var status: Int?
    var reasonPhrase: String?
    var responseHeaders: [HeaderExpectation] = []
    var responseBody: String?
    var responseBodyContains: [String] = []
    var upstreamRequests: Int?
    var upstreamHeaders: [HeaderExpectation] = []
    var upstreamBody: String?
    var sideRequests: Int?
    var sideHeaders: [HeaderExpectation] = []
    var sideBody: String?
    var logs: [String] = []
    var stats: [HeaderExpectation] = []

    static let directory: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("EnvoyConformance").path
    }()

    static func all() throws -> [EnvoyConformanceScript] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".lua") }.sorted()
        return try names.map { try EnvoyConformanceScript(file: $0) }
    }

    struct FormatError: Error, CustomStringConvertible {
        var description: String
    }

    init(file: String) throws {
        self.file = file
        source = try String(contentsOfFile: Self.directory + "/" + file, encoding: .utf8)
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        behaviour = lines.prefix { $0.hasPrefix("--") && !$0.hasPrefix("--@") }.map { String($0.dropFirst(2)) }
            .joined(separator: "\n")
        guard lines.first?.hasPrefix("-- Envoy:") == true else {
            throw FormatError(description: "\(file): must start with `-- Envoy:` saying which behaviour it checks")
        }
        for line in lines where line.hasPrefix("--@") {
            guard let colon = line.firstIndex(of: ":") else { throw FormatError(description: "\(file): bad line \(line)") }
            let key = String(line[line.index(line.startIndex, offsetBy: 3)..<colon])
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            try apply(key, value, line)
        }
    }

    private mutating func apply(_ key: String, _ value: String, _ line: String) throws {
        switch key {
        case "request":
            let parts = value.split(separator: " ", maxSplits: 1).map(String.init)
            method = parts[0]
            path = parts.count > 1 ? parts[1] : path
        case "header": requestHeaders.append(try Self.pair(value, line).tuple)
        case "body": requestBody = value
        case "raw": rawRequest = value.replacingOccurrences(of: "\\r\\n", with: "\r\n")
        case "outer": outerStage = value
        case "option": stageOptions.append(value)
        case "status": status = Int(value)
        case "reason": reasonPhrase = value
        case "response-header": responseHeaders.append(try Self.pair(value, line))
        case "response-body": responseBody = value
        case "response-body-contains": responseBodyContains.append(value)
        case "upstream-requests": upstreamRequests = Int(value)
        case "upstream-header": upstreamHeaders.append(try Self.pair(value, line))
        case "upstream-body": upstreamBody = value
        case "side-requests": sideRequests = Int(value)
        case "side-header": sideHeaders.append(try Self.pair(value, line))
        case "side-body": sideBody = value
        case "log": logs.append(value)
        case "stat": stats.append(try Self.pair(value, line))
        default: throw FormatError(description: "\(file): unknown key \(key)")
        }
    }

    private static func pair(_ text: String, _ line: String) throws -> HeaderExpectation {
        guard let colon = text.firstIndex(of: ":") else { throw FormatError(description: "expected name: value in \(line)") }
        return HeaderExpectation(name: String(text[..<colon]),
                                 value: text[text.index(after: colon)...].trimmingCharacters(in: .whitespaces))
    }
}

extension EnvoyConformanceScript.HeaderExpectation {
    var tuple: (String, String) { (name, value) }
}
