import CLua
import CLuaShims

/// `luxy.shared(name)` and the dictionary's methods. Return values follow OpenResty's
/// `ngx.shared.DICT` (`ok, err, forcible`), so scripts written for it read the same way.
extension LuaVM {
    func openSharedDict(_ s: LuaStack) throws(LuaRaise) -> Int32 {
        guard s.type(1) == LUA_TSTRING, let name = s.string(1), !name.isEmpty else {
            throw LuaRaise("luxy.shared: the name must be a non-empty string, got \(s.typeName(1))")
        }
        let state = luxyState
        let index: Int
        if let known = state.dictIndexByName[name] {
            index = known
        } else {
            index = state.dicts.count
            state.dicts.append(state.platform.sharedDict(named: name))
            state.dictIndexByName[name] = index
        }
        pushLuxyObject(s.L, .sharedDict, aux: index)
        return 1
    }

    func callSharedDict(_ method: LuxyMethod, _ s: LuaStack, _ dict: LuaSharedDict) throws(LuaRaise) -> Int32 {
        let fname = method.luaName
        switch method {
        case .dictGet:
            s.push(shared: dict.get(try s.sharedKey(2, fname)))
            return 1
        case .dictSet:
            let key = try s.sharedKey(2, fname)
            return Self.push(dict.set(key, try s.sharedValue(3, fname), ttl: try s.optSeconds(4, fname, "the ttl")), s)
        case .dictAdd:
            let key = try s.sharedKey(2, fname)
            guard let value = try s.sharedValue(3, fname) else { throw LuaRaise("add: the value must not be nil") }
            guard let outcome = dict.add(key, value, ttl: try s.optSeconds(4, fname, "the ttl")) else {
                s.push(false)
                s.push("exists")
                return 2
            }
            return Self.push(outcome, s)
        case .dictIncr:
            let key = try s.sharedKey(2, fname)
            guard let delta = try s.sharedValue(3, fname), Self.isNumber(delta) else {
                throw LuaRaise("incr: the delta must be a number, got \(s.typeName(3))")
            }
            let initial = try s.sharedValue(4, fname)
            if let initial, !Self.isNumber(initial) { throw LuaRaise("incr: init must be a number, got \(s.typeName(4))") }
            let outcome = dict.incr(key, by: delta, initial: initial, ttl: try s.optSeconds(5, fname, "the ttl"))
            return Self.push(outcome, s)
        case .dictCompareAndSet:
            let key = try s.sharedKey(2, fname)
            let old = try s.sharedValue(3, fname)
            let new = try s.sharedValue(4, fname)
            let outcome = dict.compareAndSet(key, old: old, new: new, ttl: try s.optSeconds(5, fname, "the ttl"))
            if case .stored(_, let forcible) = outcome {
                s.push(true)
                s.pushNil()
                s.push(forcible)
                return 3
            }
            return Self.push(outcome, s)
        case .dictDelete:
            dict.delete(try s.sharedKey(2, fname))
            return 0
        case .dictKeys:
            let limit = s.type(2) <= LUA_TNIL ? 1024 : try s.checkInteger(2, fname)
            guard limit >= 0 else { throw LuaRaise("keys: the limit must be >= 0") }
            let keys = dict.keys(limit: limit)
            lua_createtable(s.L, Int32(clamping: keys.count), 0)
            for (i, key) in keys.enumerated() {
                s.push(key)
                lua_rawseti(s.L, -2, lua_Integer(i + 1))
            }
            return 1
        default:
            throw LuaRaise("'\(fname)' is not a method of a shared dictionary")
        }
    }

    private static func isNumber(_ value: LuaSharedValue) -> Bool {
        switch value {
        case .integer, .number: true
        case .string, .boolean: false
        }
    }

    /// `true, nil, forcible` or `false, "no memory"`.
    private static func push(_ outcome: LuaSharedDictTable.StoreOutcome, _ s: LuaStack) -> Int32 {
        switch outcome {
        case .stored(let forcible):
            s.push(true)
            s.pushNil()
            s.push(forcible)
            return 3
        case .tooLarge:
            s.push(false)
            s.push("no memory")
            return 2
        }
    }

    /// incr: `value, nil, forcible` or `nil, err`; cas: `false, current` or `nil, "no memory"`.
    private static func push(_ outcome: LuaSharedDict.UpdateOutcome, _ s: LuaStack) -> Int32 {
        switch outcome {
        case .stored(let value, let forcible):
            s.push(shared: value)
            s.pushNil()
            s.push(forcible)
            return 3
        case .notFound:
            s.pushNil()
            s.push("not found")
            return 2
        case .notANumber:
            s.pushNil()
            s.push("not a number")
            return 2
        case .mismatch(let current):
            s.push(false)
            s.push(shared: current)
            return 2
        case .tooLarge:
            s.pushNil()
            s.push("no memory")
            return 2
        }
    }
}
