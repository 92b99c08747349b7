import CLua
import CLuaShims

extension LuaVM {
    /// `luxy.log_format(format)`: an Envoy text format string, or JSON fields as a list of
    /// `{key, format}` pairs (in that order) or a map of key to format (in key order). The
    /// format is parsed here, once; an unknown operator raises.
    func compileLogFormat(_ s: LuaStack) throws(LuaRaise) -> Int32 {
        let fname = "luxy.log_format"
        // Each format lives as long as the VM: one made per request would pile up.
        guard luxyState.loadingChunkName != nil else {
            throw LuaRaise("\(fname): formats are made by a script's top-level code, not in a phase or callback")
        }
        let layout: LuaLogFormat.Layout
        switch s.type(1) {
        case LUA_TSTRING:
            layout = .text(try parts(of: s.string(1) ?? "", fname))
        case LUA_TTABLE:
            var fields: [LuaLogFormat.Field] = []
            for entry in try jsonEntries(s, fname) {
                fields.append(LuaLogFormat.Field(key: entry.key, parts: try parts(of: entry.format, fname),
                                                 first: fields.isEmpty))
            }
            layout = .json(fields)
        default:
            throw LuaRaise("\(fname): the format must be a string or a table of JSON fields, got \(s.typeName(1))")
        }
        luxyState.logFormats.append(LuaLogFormat(layout: layout))
        pushLuxyObject(s.L, .logFormat, aux: luxyState.logFormats.count - 1)
        return 1
    }

    /// The log format object at `index` of the stack, if that is one.
    func logFormat(_ s: LuaStack, at index: Int32) -> LuaLogFormat? {
        guard let object = s.object(at: index), object.kind == LuxyObjectKind.logFormat.rawValue else {
            return nil
        }
        return luxyState.logFormats[Int(object.aux)]
    }

    /// `format:render(h)`: the line for the request of handle `h`, as a string.
    func renderLogFormat(_ s: LuaStack, _ format: LuaLogFormat) throws(LuaRaise) -> Int32 {
        guard let handle = s.object(at: 2), handle.kind == LuaObjectKind.handle.rawValue else {
            throw LuaRaise("render: the argument must be a request's handle, got \(s.typeName(2))")
        }
        guard let stream = runningStream(owning: handle) as? LuaHTTPStream else {
            throw LuaRaise("render: the handle is used outside of its request")
        }
        format.render(stream.host) { s.push(bytes: $0) }
        return 1
    }

    private func parts(of format: String, _ fname: String) throws(LuaRaise) -> [LuaLogFormat.Part] {
        do {
            return try LuaLogFormat.parts(of: format)
        } catch {
            throw LuaRaise("\(fname): \(error.message)")
        }
    }

    private struct JSONEntry {
        var key: String
        var format: String
    }

    /// A field's format: a string, or a number or boolean taken as its text (as `tostring`
    /// makes it: logging-http's `json_format` schema allows any value).
    private func formatText(_ s: LuaStack, _ index: Int32) -> String? {
        if s.type(index) == LUA_TBOOLEAN { return lua_toboolean(s.L, index) != 0 ? "true" : "false" }
        return s.string(index)
    }

    /// The JSON fields of the table at index 1: a list of `{key, format}` pairs keeps its
    /// order; a map is put in key order, so every line has its keys in the same order.
    private func jsonEntries(_ s: LuaStack, _ fname: String) throws(LuaRaise) -> [JSONEntry] {
        var entries: [JSONEntry] = []
        if lua_rawgeti(s.L, 1, 1) == LUA_TTABLE {
            s.pop()
            var i: lua_Integer = 1
            while lua_rawgeti(s.L, 1, i) != LUA_TNIL {
                let pair = s.top
                lua_rawgeti(s.L, pair, 1)
                lua_rawgeti(s.L, pair, 2)
                guard s.type(pair) == LUA_TTABLE, s.type(-2) == LUA_TSTRING, let key = s.string(-2),
                      let format = formatText(s, -1) else {
                    throw LuaRaise("\(fname): field \(i) must be a {key, format} pair of strings")
                }
                entries.append(JSONEntry(key: key, format: format))
                s.setTop(pair - 1)
                i += 1
            }
            s.pop()
            return entries
        }
        s.pop()
        lua_pushnil(s.L)
        while lua_next(s.L, 1) != 0 {
            guard s.type(-2) == LUA_TSTRING, let key = s.string(-2), let format = formatText(s, -1) else {
                throw LuaRaise("\(fname): the JSON fields must map string keys to format strings")
            }
            entries.append(JSONEntry(key: key, format: format))
            s.pop()
        }
        return entries.sorted { $0.key < $1.key }
    }
}
