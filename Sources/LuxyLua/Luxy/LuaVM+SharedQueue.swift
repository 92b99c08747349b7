import CLua
import CLuaShims

/// `luxy.queue(name[, {max_length = N}])` and the queue's methods.
extension LuaVM {
    func openSharedQueue(_ s: LuaStack) throws(LuaRaise) -> Int32 {
        guard s.type(1) == LUA_TSTRING, let name = s.string(1), !name.isEmpty else {
            throw LuaRaise("luxy.queue: the name must be a non-empty string, got \(s.typeName(1))")
        }
        var maxLength: Int?
        if s.type(2) == LUA_TTABLE {
            lua_pushnil(s.L)
            while lua_next(s.L, 2) != 0 {
                guard s.type(-2) == LUA_TSTRING, s.string(-2) == "max_length" else {
                    throw LuaRaise("luxy.queue: unknown option '\(s.string(-2) ?? s.typeName(-2))' (known: max_length)")
                }
                guard let n = s.integer(-1), n > 0 else { throw LuaRaise("luxy.queue: max_length must be an integer > 0") }
                maxLength = n
                s.pop()
            }
        } else if s.type(2) > LUA_TNIL {
            throw LuaRaise("luxy.queue: options must be a table, got \(s.typeName(2))")
        }
        let queue = luxyState.platform.sharedQueue(named: name, maxLength: maxLength)
        let index = luxyState.queues.firstIndex { $0 === queue } ?? {
            luxyState.queues.append(queue)
            return luxyState.queues.count - 1
        }()
        pushLuxyObject(s.L, .queue, aux: index)
        return 1
    }

    func callSharedQueue(_ method: LuxyMethod, _ s: LuaStack, _ queue: LuaSharedQueue) throws(LuaRaise) -> Int32 {
        switch method {
        case .queueEnqueue:
            guard let value = try s.sharedValue(2, "enqueue") else { throw LuaRaise("enqueue: the value must not be nil") }
            s.push(queue.enqueue(value))
            return 1
        case .queueDequeue:
            s.push(shared: queue.dequeue())
            return 1
        case .queueLength:
            s.push(queue.length)
            return 1
        case .queueConsume:
            guard let chunkName = luxyState.loadingChunkName else {
                throw LuaRaise("consume: a consumer is registered by a script's top-level code")
            }
            guard s.type(2) == LUA_TFUNCTION else {
                throw LuaRaise("consume: the callback must be a function, got \(s.typeName(2))")
            }
            lua_pushvalue(s.L, 2)
            luxyState.consumers.append(LuaQueueConsumer(queue: queue, chunkName: chunkName,
                                                        functionRef: luaL_ref(s.L, luxy_registry_index())))
            return 0
        default:
            throw LuaRaise("'\(method.luaName)' is not a method of a queue")
        }
    }
}
