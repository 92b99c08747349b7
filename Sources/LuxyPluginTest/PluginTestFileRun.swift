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
    let eventLoop: EventLoop
    let report: (PluginTestCaseResult) -> Void
    private let completion: () -> Void
    private var state: OpaquePointer?
    var thread: OpaquePointer?
    /// The VM single plugins of this file load into (one per file, as one per loop in production).
    var pluginVM: LuaVM?
    /// What the `luxy` table reaches beyond one VM (shared dictionaries, queues, metric
    /// families) for every VM of this file, as the process's is for every generation: a
    /// file starts from nothing, and its tests see what earlier ones left.
    let platform = LuaPlatform()
    /// The metric values of this file's VMs, as one loop's in production; `luxy_test.metric` reads it.
    let metricShard = LuaMetricShard()
    /// Where this file's timers run, on a clock `luxy_test.advance` moves.
    lazy var backgroundHost = VirtualClockBackgroundHost(eventLoop: eventLoop)
    var vms: [LuaVM] = []
    var targets: [LoadedTarget] = []
    var connections: [TCPSessionRun] = []
    /// Names the operation waited for, so a late completion after the watchdog is ignored.
    var operation = 0
    var watchdog: Scheduled<Void>?
    var testStarted = NIODeadline.now()

    /// How long one operation (a request, a chunk) may take before the test fails.
    static let operationTimeout = TimeAmount.seconds(10)

    struct LoadedTarget {
        var target: PluginTestTarget
        var vm: LuaVM
    }

    init(file: String, eventLoop: EventLoop, report: @escaping (PluginTestCaseResult) -> Void,
         completion: @escaping () -> Void) {
        self.file = file
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
        // `require("cjson")` in test code, to read JSON a plugin wrote (an access-log line, a
        // body): stock lua-cjson, since the test state has no budget for the VM's wrappers to charge.
        luaL_requiref(L, "cjson", luaopen_cjson, 0)
        lua_settop(L, -2)
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

    func message(_ co: OpaquePointer) -> String {
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
    func resume(arguments: Int32) {
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
}

@available(*, unavailable)
extension PluginTestFileRun: Sendable {}

/// What a `luxy_test` call raises in the test. A value.
struct PluginTestError: Error {
    var message: String
    init(_ message: String) { self.message = message }
}
