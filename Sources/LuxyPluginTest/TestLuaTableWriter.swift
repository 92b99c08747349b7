import CLua
import LuxyConfig
import LuxyLua
import NIOHTTP1

/// Builds the result tables a test reads, on top of the test state's stack. Plain tables with
/// no metatable, so setting their fields runs no Lua code (nothing here can raise but an
/// allocation failure, and the test state has no memory cap). Used on the harness's loop,
/// which owns the test state.
struct TestLuaTableWriter {
    let L: OpaquePointer

    func newTable() { lua_createtable(L, 0, 8) }

    func set(_ key: String, _ value: String?) {
        guard let value else { return }
        LuaConfigValueBridge.push(.string(value), onto: L)
        lua_setfield(L, -2, key)
    }

    func set(_ key: String, int value: Int) {
        lua_pushinteger(L, lua_Integer(value))
        lua_setfield(L, -2, key)
    }

    func set(_ key: String, bool value: Bool) {
        lua_pushboolean(L, value ? 1 : 0)
        lua_setfield(L, -2, key)
    }

    func set(_ key: String, bytes: [UInt8]?) {
        guard let bytes else { return }
        LuaConfigValueBridge.push(bytes: bytes, onto: L)
        lua_setfield(L, -2, key)
    }

    func set(_ key: String, value: ConfigValue) {
        LuaConfigValueBridge.push(value, onto: L)
        lua_setfield(L, -2, key)
    }

    /// `key = {{name, value}, …}`, which the prelude turns into a header view.
    func set(_ key: String, headers: [LuaHeaderField]?) {
        guard let headers else { return }
        lua_createtable(L, Int32(clamping: headers.count), 0)
        for (index, field) in headers.enumerated() {
            lua_createtable(L, 2, 0)
            LuaConfigValueBridge.push(.string(field.name), onto: L)
            lua_rawseti(L, -2, 1)
            LuaConfigValueBridge.push(.string(field.value), onto: L)
            lua_rawseti(L, -2, 2)
            lua_rawseti(L, -2, lua_Integer(index + 1))
        }
        lua_setfield(L, -2, key)
    }

    func set(_ key: String, headers: HTTPHeaders?) {
        set(key, headers: headers.map { $0.map { LuaHeaderField(name: $0.name.lowercased(), value: $0.value) } })
    }

    /// `key = {table, …}`, each made by `item` on top of the stack.
    func set<Item>(_ key: String, list: [Item], _ item: (Item) -> Void) {
        lua_createtable(L, Int32(clamping: list.count), 0)
        for (index, element) in list.enumerated() {
            newTable()
            item(element)
            lua_rawseti(L, -2, lua_Integer(index + 1))
        }
        lua_setfield(L, -2, key)
    }

    /// `key = {…}` made by `fields` on top of the stack.
    func set(_ key: String, table fields: () -> Void) {
        newTable()
        fields()
        lua_setfield(L, -2, key)
    }

    func message(_ message: TestHTTPMessage) {
        set("headers", headers: message.headers)
        set("body", bytes: message.body ?? (message.bodyChunks.map { $0.flatMap { $0 } }))
        set("trailers", headers: message.trailers)
    }

    func logs(_ logs: [RecordedLog]) {
        set("logs", list: logs) { entry in
            set("level", entry.level.testName)
            set("message", entry.message)
            set("plugin", entry.plugin)
        }
    }

    func calls(_ calls: [RecordedCall]) {
        set("calls", list: calls) { call in
            set("cluster", call.cluster)
            for field in call.headers {
                switch field.name {
                case ":method": set("method", field.value)
                case ":path": set("path", field.value)
                case ":authority": set("authority", field.value)
                default: break
                }
            }
            set("headers", headers: call.headers.filter { !$0.name.hasPrefix(":") })
            set("body", bytes: call.body)
            set("timeout_ms", int: call.timeoutMilliseconds)
            set("async", bool: call.asynchronous)
        }
    }

    func errors(_ errors: [StageError]) {
        set("error", errors.first?.message)
        set("errors", list: errors) { error in
            set("stage", error.stage)
            set("message", error.message)
        }
    }
}

extension LuaLogLevel {
    /// The level's name in results: what `logTrace`…`logCritical` say, `error` for `logErr`.
    var testName: String {
        switch self {
        case .trace: "trace"
        case .debug: "debug"
        case .info: "info"
        case .warn: "warn"
        case .error: "error"
        case .critical: "critical"
        }
    }
}

extension HTTPTestOutcome {
    /// The result table of `target:request{…}`.
    func push(_ w: TestLuaTableWriter) {
        w.newTable()
        if let upstream {
            w.set("upstream") {
                w.set("method", upstream.method)
                w.set("path", upstream.path)
                w.set("authority", upstream.authority)
                w.set("scheme", upstream.scheme)
                w.message(upstream.message)
            }
        }
        if let reply {
            w.set("reply") {
                w.set("status", int: reply.status)
                w.message(reply.message)
            }
        }
        w.set("response") {
            w.set("status", int: response.status)
            w.message(response.message)
        }
        w.set("response_flags", responseFlags)
        w.errors(errors)
        w.logs(logs)
        w.set("access_log", list: accessLog) { entry in
            w.set("destination", entry.destination)
            w.set("line", entry.line)
            w.set("plugin", entry.plugin)
        }
        w.calls(calls)
        w.set("metadata", value: metadata)
        w.set("route_cleared", bool: routeCleared)
    }
}

extension BackgroundActivity {
    /// The result table of `luxy_test.advance(…)`.
    func push(_ w: TestLuaTableWriter) {
        w.newTable()
        w.calls(calls)
        w.logs(logs)
    }
}
