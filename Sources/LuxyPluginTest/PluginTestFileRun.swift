import CLua
import CLuaShims
import Foundation
import LuxyConfig
import LuxyLua
import LuxyPlugins
import NIOCore

/// Runs one `*_test.lua` file: a plain Lua state of its own for the test code (standard
/// library, the prelude's `describe`/`it`/`assert`/`luxy_test`), and production `LuaVM`s for
/// the plugins it loads. The file's code runs in one coroutine; each `luxy_test` call yields
/// it here with an operation, which this class carries out on the loop and resumes it with.
/// Confined to the harness's event loop.
final class PluginTestFileRun {
    let file: String
    private let absolutePath: String
    private let eventLoop: EventLoop
    private let report: (PluginTestCaseResult) -> Void
    private let completion: () -> Void
    private var state: OpaquePointer?
    private var thread: OpaquePointer?
    /// The VM single plugins of this file load into (one per file, as one per loop in production).
    private var pluginVM: LuaVM?
    private var vms: [LuaVM] = []
    private var targets: [LoadedTarget] = []
    private var connections: [TCPSessionRun] = []
    /// Names the operation waited for, so a late completion after the watchdog is ignored.
    private var operation = 0
    private var watchdog: Scheduled<Void>?
    private var testStarted = NIODeadline.now()

    /// How long one operation (a request, a chunk) may take before the test fails.
    static let operationTimeout = TimeAmount.seconds(10)

    struct LoadedTarget {
        var target: PluginTestTarget
        var vm: LuaVM
    }

    init(file: String, eventLoop: EventLoop, report: @escaping (PluginTestCaseResult) -> Void,
         completion: @escaping () -> Void) {
        self.file = file
        self.absolutePath = URL(fileURLWithPath: file).standardizedFileURL.path
        self.eventLoop = eventLoop
        self.report = report
        self.completion = completion
    }

    func start() {
        guard let source = FileManager.default.contents(atPath: file) else {
            return fileFailed("cannot read the file", line: 0)
        }
        guard let L = luaL_newstate() else { return fileFailed("cannot create a Lua state", line: 0) }
        state = L
        luaL_openlibs(L)
        guard let co = lua_newthread(L) else { return fileFailed("cannot create a coroutine", line: 0) }
        thread = co
        // The thread stays referenced from the main stack for the state's life.
        guard load(co, Array(PluginTestPrelude.source.utf8), chunkName: PluginTestPrelude.chunkName) else { return }
        LuaConfigValueBridge.push(.string(file), onto: co)
        LuaConfigValueBridge.push(.string((file as NSString).deletingLastPathComponent.isEmpty
            ? "." : (file as NSString).deletingLastPathComponent), onto: co)
        var results: Int32 = 0
        guard lua_resume(co, nil, 2, &results) == LUA_OK, results == 1 else {
            return fileFailed("the test library does not load: \(message(co))", line: 0)
        }
        guard load(co, Array(source), chunkName: "@" + file) else { return }
        testStarted = .now()
        resume(arguments: 1)
    }

    private func load(_ co: OpaquePointer, _ bytes: [UInt8], chunkName: String) -> Bool {
        let status = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) {
                luxy_loadbuffer(co, $0, buffer.count, chunkName, "t")
            }
        }
        guard status == LUA_OK else {
            let text = message(co)
            fileFailed(Self.strippingLocation(text, file: file), line: LuaScriptError(message: text, chunkName: file).line ?? 0)
            return false
        }
        return true
    }

    private func message(_ co: OpaquePointer) -> String {
        LuaConfigValueBridge.read(co, at: -1).text ?? "(error object is not a string)"
    }

    private static func strippingLocation(_ text: String, file: String) -> String {
        guard text.hasPrefix(file + ":"), let range = text.range(of: ": ", range: text.index(text.startIndex, offsetBy: file.count + 1)..<text.endIndex)
        else { return text }
        return String(text[range.upperBound...])
    }

    private func fileFailed(_ message: String, line: Int) {
        report(PluginTestCaseResult(file: file, name: "(loading the file)", passed: false, message: message, line: line,
                                    seconds: 0))
        finish()
    }

    private func finish() {
        watchdog?.cancel()
        for connection in connections { connection.stream.finish() }
        connections = []
        targets = []
        for vm in vms { vm.close() }
        vms = []
        pluginVM = nil
        if let state { lua_close(state) }
        state = nil
        thread = nil
        completion()
    }

    // MARK: Driving the coroutine

    /// Resumes the file's coroutine with the `arguments` values on its stack.
    private func resume(arguments: Int32) {
        guard let co = thread else { return }
        var results: Int32 = 0
        let status = lua_resume(co, nil, arguments, &results)
        switch status {
        case LUA_OK:
            finish()
        case LUA_YIELD:
            perform(co, results: results)
        default:
            fileFailed(message(co), line: 0)
        }
    }

    /// Answers the operation the coroutine yielded, now or once it completes.
    private func perform(_ co: OpaquePointer, results: Int32) {
        let base = lua_gettop(co) - results
        let op = LuaConfigValueBridge.read(co, at: base + 1).text ?? ""
        operation += 1
        let current = operation
        let answer: (Result<(TestLuaTableWriter) -> Void, PluginTestError>) -> Void = { [self] result in
            guard current == operation, let co = thread else { return }
            operation += 1
            watchdog?.cancel()
            watchdog = nil
            // A fresh tick: the stack stays flat however many operations a file makes.
            eventLoop.assumeIsolated().execute { [self] in
                guard thread != nil else { return }
                lua_settop(co, base)
                switch result {
                case .success(let push):
                    lua_pushboolean(co, 1)
                    push(TestLuaTableWriter(L: co))
                case .failure(let error):
                    lua_pushboolean(co, 0)
                    LuaConfigValueBridge.push(.string(error.message), onto: co)
                }
                resume(arguments: 2)
            }
        }
        watchdog = eventLoop.assumeIsolated().scheduleTask(in: Self.operationTimeout) {
            answer(.failure(PluginTestError("luxy_test: '\(op)' did not finish within \(Self.operationTimeout.nanoseconds / 1_000_000_000) s")))
        }
        let argument = { (n: Int32) in base + 1 + n }
        switch op {
        case "report":
            let value = LuaConfigValueBridge.read(co, at: argument(1))
            let now = NIODeadline.now()
            report(PluginTestCaseResult(
                file: file, name: value["name"]?.text ?? "", passed: value["ok"]?.isTrue ?? false,
                message: value["message"]?.text, line: value["line"]?.integer ?? 0,
                seconds: Double((now - testStarted).nanoseconds) / 1e9))
            testStarted = now
            answer(.success { $0.newTable() })
        case "load":
            answer(loadPlugin(path: LuaConfigValueBridge.read(co, at: argument(1)).text ?? "",
                              config: LuaConfigValueBridge.read(co, at: argument(2)),
                              name: LuaConfigValueBridge.read(co, at: argument(3)).text ?? "",
                              failOpen: LuaConfigValueBridge.read(co, at: argument(4)).isTrue))
        case "chain":
            answer(loadChain(configFile: LuaConfigValueBridge.read(co, at: argument(1)).text ?? "",
                             chain: LuaConfigValueBridge.read(co, at: argument(2)).text ?? ""))
        case "http":
            let flat = LuaConfigValueBridge.read(co, at: argument(2))
            let request = TestHTTPRequest(flat, requestBody: field(co, argument(2), "body"),
                                          responseBody: responseBody(co, argument(2)))
            guard let loaded = target(LuaConfigValueBridge.read(co, at: argument(1))) else {
                return answer(.failure(PluginTestError("luxy_test: no such plugin or chain")))
            }
            let run = HTTPChainRun(target: loaded.target, request: request, vm: loaded.vm, eventLoop: eventLoop) { outcome in
                answer(.success { outcome.push($0) })
            }
            run.start()
        case "tcp_connect":
            guard let loaded = target(LuaConfigValueBridge.read(co, at: argument(1))) else {
                return answer(.failure(PluginTestError("luxy_test: no such plugin or chain")))
            }
            let connection = TCPSessionRun(target: loaded.target,
                                           connection: TestTCPConnection(LuaConfigValueBridge.read(co, at: argument(2))),
                                           vm: loaded.vm, eventLoop: eventLoop)
            connections.append(connection)
            let id = connections.count
            connection.connect { accepted in
                answer(.success { w in
                    connection.push(w, forwarded: [])
                    w.set("id", int: id)
                    w.set("accepted", bool: accepted)
                })
            }
        case "tcp_data":
            guard let id = LuaConfigValueBridge.read(co, at: argument(1)).integer, connections.indices.contains(id - 1) else {
                return answer(.failure(PluginTestError("luxy_test: no such connection")))
            }
            let connection = connections[id - 1]
            let side: TCPSessionRun.TCPSide = LuaConfigValueBridge.read(co, at: argument(2)).text == "upstream"
                ? .upstream : .downstream
            let bytes = LuaConfigValueBridge.bytes(co, at: argument(3)) ?? []
            let endOfStream = LuaConfigValueBridge.read(co, at: argument(4)).isTrue
            connection.data(from: side, bytes, endOfStream: endOfStream) { forwarded in
                answer(.success { connection.push($0, forwarded: forwarded) })
            }
        case "tcp_close":
            guard let id = LuaConfigValueBridge.read(co, at: argument(1)).integer, connections.indices.contains(id - 1) else {
                return answer(.failure(PluginTestError("luxy_test: no such connection")))
            }
            let connection = connections[id - 1]
            connection.close(by: nil) {
                answer(.success { connection.push($0, forwarded: []) })
            }
        default:
            answer(.failure(PluginTestError("luxy_test: unknown operation '\(op)'")))
        }
    }

    /// Raw bytes of `table[key]`, which may hold any bytes.
    private func field(_ co: OpaquePointer, _ table: Int32, _ key: String) -> [UInt8]? {
        LuaConfigValueBridge.push(.string(key), onto: co)
        lua_rawget(co, table)
        defer { lua_settop(co, -2) }
        return lua_type(co, -1) == LUA_TSTRING ? LuaConfigValueBridge.bytes(co, at: -1) : nil
    }

    private func responseBody(_ co: OpaquePointer, _ table: Int32) -> [UInt8]? {
        LuaConfigValueBridge.push(.string("response"), onto: co)
        lua_rawget(co, table)
        defer { lua_settop(co, -2) }
        guard lua_type(co, -1) == LUA_TTABLE else { return nil }
        return field(co, lua_gettop(co), "body")
    }

    private func target(_ id: ConfigValue) -> LoadedTarget? {
        guard let index = id.integer, targets.indices.contains(index - 1) else { return nil }
        return targets[index - 1]
    }

    // MARK: Loading

    /// One plugin, checked as production checks a stage (`ConfigurationSnapshot.check`): its
    /// file found and read under the limits, its top level run, its config as a chain entry
    /// would give it. It runs in the file's VM for single plugins.
    private func loadPlugin(path: String, config: ConfigValue, name: String, failOpen: Bool)
        -> Result<(TestLuaTableWriter) -> Void, PluginTestError>
    {
        let url = URL(fileURLWithPath: path).standardizedFileURL
        guard url.pathExtension == "lua", FileManager.default.fileExists(atPath: url.path) else {
            return .failure(PluginTestError("luxy_test.load: no plugin at \(path)"))
        }
        let folder = url.deletingLastPathComponent().path
        let location = SourceLocation(file: file, line: 1, column: 1)
        let stage = StageConfiguration(name: url.deletingPathExtension().lastPathComponent, priority: 100, config: config,
                                       failOpen: failOpen, location: location)
        // As if a luxy.yaml beside the plugin's folder named it. A file in a folder called
        // modules/ is found as a built-in module (its chunk name says modules/…), any other as a plugin.
        let isModule = url.deletingLastPathComponent().lastPathComponent == "modules"
        let configuration = LuxyConfiguration(
            sourceFile: (folder as NSString).deletingLastPathComponent + "/luxy.yaml", admin: nil, workers: nil,
            pluginsDirectory: isModule ? folder + "/.no-plugins" : folder, modulesDirectory: folder,
            limits: LimitsConfiguration(), listeners: [], clusters: [], chains: [.inboundHTTP: [stage]])
        let snapshot: ConfigurationSnapshot
        do {
            snapshot = try ConfigurationSnapshot.check(configuration)
        } catch {
            return .failure(PluginTestError("luxy_test.load: \(error.problems.map(\.message).joined(separator: "; "))"))
        }
        do {
            let vm: LuaVM
            if let pluginVM {
                vm = pluginVM
            } else {
                vm = try makeVM(for: snapshot)
                pluginVM = vm
            }
            let stages = try stages(of: snapshot, .inboundHTTP, in: vm, name: name)
            return .success(register(PluginTestTarget(stages: stages, clusters: []), vm: vm))
        } catch {
            return .failure(PluginTestError("luxy_test.load: \(error.message)"))
        }
    }

    private func loadChain(configFile: String, chain name: String) -> Result<(TestLuaTableWriter) -> Void, PluginTestError> {
        guard let chain = ChainName(rawValue: name) else {
            return .failure(PluginTestError("luxy_test.chain: no chain '\(name)' (inbound-http, inbound-tcp, outbound-http, outbound-tcp)"))
        }
        let snapshot: ConfigurationSnapshot
        do {
            snapshot = try ConfigurationSnapshot.load(configFile: configFile)
        } catch {
            return .failure(PluginTestError("luxy_test.chain: \(error)"))
        }
        do {
            // A VM of its own, as each generation has in production.
            let vm = try makeVM(for: snapshot)
            let stages = try stages(of: snapshot, chain, in: vm)
            let clusters = Set(snapshot.configuration.clusters.map(\.name))
            return .success(register(PluginTestTarget(stages: stages, clusters: clusters), vm: vm))
        } catch {
            return .failure(PluginTestError("luxy_test.chain: \(error.message)"))
        }
    }

    /// A VM as `LuaStageChainFactory` makes one for a generation of `snapshot`: its limits.
    private func makeVM(for snapshot: ConfigurationSnapshot) throws(LuaScriptError) -> LuaVM {
        let vm = try LuaVM(limits: LuaLimits(snapshot.configuration.limits))
        vms.append(vm)
        return vm
    }

    /// The stages of `chain` loaded into `vm` as `LuaStageChainFactory` loads them; `name`
    /// renames a single stage (what `plugin 'NAME' failed` says).
    private func stages(of snapshot: ConfigurationSnapshot, _ chain: ChainName, in vm: LuaVM, name: String? = nil)
        throws(LuaScriptError) -> [PluginTestStage]
    {
        var stages: [PluginTestStage] = []
        for resolved in snapshot.plan.stages(chain) {
            let script = try vm.loadScript(name: resolved.name, chunkName: resolved.displayPath, source: resolved.source,
                                           config: resolved.configuration.config)
            stages.append(PluginTestStage(name: name ?? resolved.name, chunkName: resolved.displayPath, script: script,
                                          failOpen: resolved.configuration.failOpen,
                                          services: resolved.configuration.services))
        }
        return stages
    }

    private func register(_ target: PluginTestTarget, vm: LuaVM) -> (TestLuaTableWriter) -> Void {
        targets.append(LoadedTarget(target: target, vm: vm))
        let id = targets.count
        return { w in lua_pushinteger(w.L, lua_Integer(id)) }
    }
}

@available(*, unavailable)
extension PluginTestFileRun: Sendable {}

/// What a `luxy_test` call raises in the test. A value.
struct PluginTestError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}

extension TCPSessionRun {
    /// The connection's state as the test's `conn` table takes it.
    func push(_ w: TestLuaTableWriter, forwarded: [UInt8]) {
        w.newTable()
        w.set("forwarded", bytes: forwarded)
        w.set("to_server", bytes: toServer)
        w.set("to_client", bytes: toClient)
        switch state {
        case .open:
            w.set("closed", bool: false)
        case .closed(let stage):
            w.set("closed", bool: true)
            w.set("closed_by", stage)
        }
        w.errors(errors)
        w.logs(host.logs)
        w.calls(host.sideCalls.recorded)
    }
}
