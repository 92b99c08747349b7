import LuxyConfig
import XCTest

@testable import LuxyLua

/// An in-memory header map with Envoy's semantics.
final class FakeHeaderMap: LuaHeaderMap {
    var list: [(String, String)]

    init(_ list: [(String, String)]) { self.list = list }

    func get(_ name: String) -> String? {
        let v = values(name)
        return v.isEmpty ? nil : v.joined(separator: ",")
    }

    func values(_ name: String) -> [String] {
        list.filter { $0.0.lowercased() == name.lowercased() }.map(\.1)
    }

    func add(_ name: String, _ value: String) { list.append((name, value)) }

    func replace(_ name: String, _ value: String) {
        if let i = list.firstIndex(where: { $0.0.lowercased() == name.lowercased() }) {
            list[i].1 = value
            list = list.enumerated().filter { $0.offset == i || $0.element.0.lowercased() != name.lowercased() }.map(\.element)
        } else {
            add(name, value)
        }
    }

    func remove(_ name: String) { list.removeAll { $0.0.lowercased() == name.lowercased() } }

    func entries() -> [(String, String)] { list }

    var reasonPhrase: String?
    func setReasonPhrase(_ phrase: String) { reasonPhrase = phrase }
}

/// Counts its deinits: proves Swift objects are released when a host call fails.
final class Tracker {
    nonisolated(unsafe) static var released = 0
    deinit { Tracker.released += 1 }
}

/// A host whose asynchronous operations complete either at once or when the test says so.
final class FakeHost: LuaHTTPHost {
    enum Mode { case immediate, deferred }

    var requestHeaders = FakeHeaderMap([(":method", "GET"), (":path", "/items"), (":authority", "svc"),
                                        ("x-multi", "a"), ("x-multi", "b"), ("content-type", "text/plain")])
    var responseHeaders = FakeHeaderMap([(":status", "200"), ("server", "upstream")])
    var requestTrailers: FakeHeaderMap?
    var responseTrailers: FakeHeaderMap?
    var requestBody: [UInt8]? = Array("hello".utf8)
    var responseBody: [UInt8]? = Array("world!".utf8)

    var bodyMode = Mode.immediate
    var bodyFailure: String?
    var pendingBodies: [() -> Void] = []
    var setBodies: [(LuaHTTPPhase, [UInt8])] = []

    var httpCallMode = Mode.immediate
    var httpCallFailure: String?
    var httpCallResponse = LuaHTTPCallResponse(headers: [(":status", "201"), ("x-r", "1"), ("x-r", "2")],
                                               body: Array("pong".utf8))
    var httpCalls: [(cluster: String, headers: [(String, String)], body: [UInt8], timeout: Int, async: Bool)] = []
    var pendingHTTPCalls: [() -> Void] = []
    /// Clusters `httpCall` may name; every name when nil.
    var knownClusters: Set<String>?

    func clusterExists(_ name: String) -> Bool { knownClusters?.contains(name) ?? true }
    /// Allocated inside failing host calls, to check they are released.
    var trackFailures = false

    var responded: (headers: [(String, String)], body: [UInt8])?
    var logs: [(LuaLogLevel, String)] = []

    var streamInfo = LuaStreamInfo(protocolName: "HTTP/2", downstreamLocalAddress: "10.0.0.1:8080",
                                   downstreamRemoteAddress: "10.0.0.2:5555", direction: "inbound",
                                   requestedServerName: "svc.local")
    var routeMetadata: ConfigValue = .map([
        (key: "team", value: .string("edge")),
        (key: "limits", value: .map([(key: "rps", value: .int(10)), (key: "burst", value: .array([.int(1), .double(2.5)]))])),
    ])
    var routeName: String? = "items-route"
    var destinationService: String? = "items"
    var clusterName: String? = "items-cluster"
    var upstreamTarget: String? = "10.1.1.1:9000"
    var requestOutcome = LuaRequestOutcome()
    /// What `accessLog` wrote, by destination.
    var accessLines: [(destination: String, line: String)] = []
    func writeAccessLog(_ line: UnsafeRawBufferPointer, to destination: String) throws(LuaHostError) {
        accessLines.append((destination, String(decoding: line, as: UTF8.self)))
    }

    func headers(_ phase: LuaHTTPPhase) -> LuaHeaderMap { phase == .request ? requestHeaders : responseHeaders }
    func trailers(_ phase: LuaHTTPPhase) -> LuaHeaderMap? { phase == .request ? requestTrailers : responseTrailers }

    func body(_ phase: LuaHTTPPhase, completion: @escaping (Result<[UInt8]?, LuaHostError>) -> Void) {
        let result: Result<[UInt8]?, LuaHostError>
        if let bodyFailure {
            result = .failure(LuaHostError(bodyFailure))
        } else {
            result = .success(phase == .request ? requestBody : responseBody)
        }
        let tracker = trackFailures ? Tracker() : nil
        switch bodyMode {
        case .immediate: completion(result)
        case .deferred: pendingBodies.append { completion(result) }
        }
        withExtendedLifetime(tracker) {}
    }

    /// The body, as one chunk, then the end.
    var heldChunk: [UInt8]?
    private var chunksServed = false

    func nextBodyChunk(_ phase: LuaHTTPPhase, completion: @escaping (Result<Bool, LuaHostError>) -> Void) {
        heldChunk = nil
        guard !chunksServed else { return completion(.success(false)) }
        chunksServed = true
        body(phase) { [self] result in
            switch result {
            case .success(let bytes?) where !bytes.isEmpty:
                heldChunk = bytes
                completion(.success(true))
            case .success:
                completion(.success(false))
            case .failure(let error):
                completion(.failure(error))
            }
        }
    }

    func holdsBodyChunk(_ phase: LuaHTTPPhase) -> Bool { heldChunk != nil }
    func bodyChunkLength(_ phase: LuaHTTPPhase) -> Int { heldChunk?.count ?? 0 }
    func bodyChunkBytes(_ phase: LuaHTTPPhase) -> [UInt8] { heldChunk ?? [] }
    func setBodyChunk(_ phase: LuaHTTPPhase, _ bytes: [UInt8]) { heldChunk = bytes }
    func stopBodyChunks(_ phase: LuaHTTPPhase) {
        heldChunk = nil
        chunksServed = false
    }

    func setBody(_ phase: LuaHTTPPhase, _ bytes: [UInt8]) {
        setBodies.append((phase, bytes))
        if phase == .request { requestBody = bytes } else { responseBody = bytes }
    }

    func httpCall(cluster: String, headers: [(String, String)], body: [UInt8], timeoutMilliseconds: Int,
                  asynchronous: Bool, completion: @escaping (Result<LuaHTTPCallResponse, LuaHostError>) -> Void)
    {
        httpCalls.append((cluster, headers, body, timeoutMilliseconds, asynchronous))
        let result: Result<LuaHTTPCallResponse, LuaHostError> =
            httpCallFailure.map { .failure(LuaHostError($0)) } ?? .success(httpCallResponse)
        let tracker = trackFailures ? Tracker() : nil
        switch httpCallMode {
        case .immediate: completion(result)
        case .deferred: pendingHTTPCalls.append { completion(result) }
        }
        withExtendedLifetime(tracker) {}
    }

    func respond(headers: [(String, String)], body: [UInt8]) { responded = (headers, body) }

    /// Runs inside every `log` host call, after the line is kept.
    var whileLogging: (() -> Void)?

    func log(_ level: LuaLogLevel, _ message: String) {
        logs.append((level, message))
        whileLogging?()
    }

    /// Phases whose slice ran out, waiting for the "next loop tick" the test runs.
    var pendingTicks: [() -> Void] = []

    func continueLater(_ work: @escaping () -> Void) { pendingTicks.append(work) }

    /// Runs the queued ticks, and those they queue, as a loop would; returns how many ran.
    @discardableResult
    func runTicks(limit: Int = 100_000) -> Int {
        var ran = 0
        while !pendingTicks.isEmpty, ran < limit {
            pendingTicks.removeFirst()()
            ran += 1
        }
        return ran
    }
}

/// Shared helpers for the Lua tests.
class LuaTestCase: XCTestCase {
    var vm: LuaVM!
    var host: FakeHost!

    override func setUp() {
        super.setUp()
        vm = try! LuaVM(limits: LuaLimits(instructionBudget: 1_000_000, memoryBytes: 16 << 20))
        host = FakeHost()
    }

    override func tearDown() {
        vm?.close()
        vm = nil
        host = nil
        super.tearDown()
    }

    func load(_ source: String, name: String = "test", config: ConfigValue = .null) throws -> LuaScript {
        try vm.loadScript(name: name, chunkName: "plugins/\(name).lua", source: source, config: config)
    }

    /// Runs a phase; nil when it is still waiting.
    @discardableResult
    func run(_ script: LuaScript, _ phase: LuaHTTPPhase = .request, stream: LuaHTTPStream? = nil) -> LuaPhaseOutcome? {
        let stream = stream ?? LuaHTTPStream(vm: vm, host: host)
        var outcome: LuaPhaseOutcome?
        withExtendedLifetime(stream) {
            stream.run(script, phase: phase) { outcome = $0 }
            host.runTicks()
        }
        return outcome
    }

    func assertCompleted(_ outcome: LuaPhaseOutcome?, file: StaticString = #filePath, line: UInt = #line) {
        switch outcome {
        case .completed: break
        case .failed(let e): XCTFail("failed: \(e.message)\n\(e.traceback ?? "")", file: file, line: line)
        case .responded: XCTFail("responded", file: file, line: line)
        case nil: XCTFail("still waiting", file: file, line: line)
        }
    }

    func failure(_ outcome: LuaPhaseOutcome?, file: StaticString = #filePath, line: UInt = #line) -> LuaScriptError? {
        guard case .failed(let e) = outcome else {
            XCTFail("expected a failure, got \(String(describing: outcome))", file: file, line: line)
            return nil
        }
        return e
    }

    /// Runs `body` as the request phase of a one-off script; Lua `assert`s do the checking.
    func check(_ body: String, phase: LuaHTTPPhase = .request, file: StaticString = #filePath, line: UInt = #line) throws {
        let fn = phase == .request ? "envoy_on_request" : "envoy_on_response"
        let script = try load("function \(fn)(h)\n\(body)\nend")
        assertCompleted(run(script, phase), file: file, line: line)
    }
}
