import CLua
import Foundation
import LuxyConfig
import LuxyLua
import LuxyPlugins
import NIOCore

/// The operations a test file's coroutine yields: each is carried out on the loop and the
/// coroutine resumed with its result (`true, value`) or its error (`false, message`).
extension PluginTestFileRun {
    /// Answers the operation the coroutine yielded, now or once it completes.
    func perform(_ co: OpaquePointer, results: Int32) {
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
        case "metric":
            answer(metric(named: LuaConfigValueBridge.read(co, at: argument(1)).text ?? "",
                          labels: LuaConfigValueBridge.read(co, at: argument(2))))
        case "shared":
            answer(sharedValue(dict: LuaConfigValueBridge.read(co, at: argument(1)).text ?? "",
                               key: LuaConfigValueBridge.read(co, at: argument(2)).text ?? ""))
        case "advance":
            let seconds = LuaConfigValueBridge.read(co, at: argument(1)).number ?? 0
            let answers = ScriptedCalls(LuaConfigValueBridge.read(co, at: argument(2)))
            backgroundHost.advance(by: seconds, answers: answers) { activity in
                answer(.success { activity.push($0) })
            }
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
            guard let connection = self.connection(LuaConfigValueBridge.read(co, at: argument(1))) else {
                return answer(.failure(PluginTestError("luxy_test: no such connection")))
            }
            let side: TCPSessionRun.TCPSide = LuaConfigValueBridge.read(co, at: argument(2)).text == "upstream"
                ? .upstream : .downstream
            let bytes = LuaConfigValueBridge.bytes(co, at: argument(3)) ?? []
            let endOfStream = LuaConfigValueBridge.read(co, at: argument(4)).isTrue
            connection.data(from: side, bytes, endOfStream: endOfStream) { forwarded in
                answer(.success { connection.push($0, forwarded: forwarded) })
            }
        case "tcp_close":
            guard let connection = self.connection(LuaConfigValueBridge.read(co, at: argument(1))) else {
                return answer(.failure(PluginTestError("luxy_test: no such connection")))
            }
            connection.close(by: nil) {
                answer(.success { connection.push($0, forwarded: []) })
            }
        default:
            answer(.failure(PluginTestError("luxy_test: unknown operation '\(op)'")))
        }
    }

    /// Raw bytes of `table[key]`, which may hold any bytes.
    func field(_ co: OpaquePointer, _ table: Int32, _ key: String) -> [UInt8]? {
        LuaConfigValueBridge.push(.string(key), onto: co)
        lua_rawget(co, table)
        defer { lua_settop(co, -2) }
        return lua_type(co, -1) == LUA_TSTRING ? LuaConfigValueBridge.bytes(co, at: -1) : nil
    }

    func responseBody(_ co: OpaquePointer, _ table: Int32) -> [UInt8]? {
        LuaConfigValueBridge.push(.string("response"), onto: co)
        lua_rawget(co, table)
        defer { lua_settop(co, -2) }
        guard lua_type(co, -1) == LUA_TTABLE else { return nil }
        return field(co, lua_gettop(co), "body")
    }

    func target(_ id: ConfigValue) -> LoadedTarget? {
        guard let index = id.integer, targets.indices.contains(index - 1) else { return nil }
        return targets[index - 1]
    }

    func connection(_ id: ConfigValue) -> TCPSessionRun? {
        guard let index = id.integer, connections.indices.contains(index - 1) else { return nil }
        return connections[index - 1]
    }
}
