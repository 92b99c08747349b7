import CLua
import CLuaShims
import LuxyConfig

extension LuaHTTPStream {
    /// `handle:metadata()`: the route's `metadata:` from YAML.
    func callMetadata(_ method: LuaMethod, _ s: LuaStack) throws(LuaRaise) -> Int32 {
        switch method {
        case .metadataGet:
            let key = try s.checkString(2, method.luaName)
            s.push(config: host.routeMetadata[key] ?? .null)
            return 1
        case .metadataPairs:
            guard case .map(let entries) = host.routeMetadata else {
                lua_createtable(s.L, 0, 0)
                luxy_push_list_iterator(s.L)
                return 1
            }
            lua_createtable(s.L, Int32(clamping: entries.count * 2), 0)
            var i: lua_Integer = 1
            for entry in entries {
                if case .null = entry.value { continue }
                s.push(entry.key)
                lua_rawseti(s.L, -2, i)
                s.push(config: entry.value)
                lua_rawseti(s.L, -2, i + 1)
                i += 2
            }
            luxy_push_list_iterator(s.L)
            return 1
        default:
            throw LuaRaise("'\(method.luaName)' is not a metadata method")
        }
    }

    /// streamInfo(), its dynamicMetadata() and connection().
    func callStreamInfo(_ method: LuaMethod, _ s: LuaStack, _ run: PhaseRun) throws(LuaRaise) -> Int32 {
        switch method {
        case .infoLocalAddress: s.push(host.streamInfo.downstreamLocalAddress)
        case .infoDirectLocalAddress: s.push(host.streamInfo.downstreamDirectLocalAddress)
        case .infoDirectRemoteAddress: s.push(host.streamInfo.downstreamDirectRemoteAddress)
        case .infoRemoteAddress: s.push(host.downstreamRemoteAddress)
        case .infoRequestedServerName: s.push(host.streamInfo.requestedServerName)
        case .infoRouteName: s.push(host.streamInfo.routeName)
        // Luxy has no virtual clusters, so none ever matches: Envoy's answer for that is "".
        case .infoVirtualClusterName: s.push("")
        // Envoy's C++ StreamInfo::attemptCount(): upstream attempts made so far (retries
        // included); read live, as it grows while the request is retried.
        case .infoAttemptCount: lua_pushinteger(s.L, lua_Integer(host.attemptCount))
        case .infoResponseCode: s.push(host.requestOutcome.responseCode)
        case .infoResponseFlags: s.push(host.requestOutcome.responseFlags)
        case .infoBytesReceived: s.push(host.requestOutcome.bytesReceived)
        case .infoBytesSent: s.push(host.requestOutcome.bytesSent)
        case .infoDuration: lua_pushnumber(s.L, host.requestOutcome.durationMilliseconds)
        case .infoStartTime: lua_pushnumber(s.L, host.requestOutcome.startTimeMilliseconds)
        case .infoSetResponseFlag:
            let code = try s.checkString(2, method.luaName)
            guard host.setResponseFlag(code) else { throw LuaRaise("unknown response flag '\(code)'") }
            return 0
        case .infoDynamicMetadata: vm.pushObject(s.L, .dynamicMetadata, token: run.token)
        case .connectionSsl, .infoDownstreamSslConnection: return pushSSL(s, run)
        case .dynamicGet:
            let filter = try s.checkString(2, method.luaName)
            pushDynamicMetadata(s)
            s.push(filter)
            lua_rawget(s.L, -2)
            // The reader's own copy, as Envoy builds a new table on every get().
            try s.pushMetadataCopy(of: -1)
        case .dynamicSet:
            let filter = try s.checkString(2, method.luaName)
            _ = try s.checkString(3, method.luaName)
            s.setTop(4)  // a missing value must read as nil, not as what we push next
            pushDynamicMetadata(s)
            let table = s.top
            lua_pushvalue(s.L, 2)
            if lua_rawget(s.L, table) != LUA_TTABLE {
                s.pop()
                lua_createtable(s.L, 0, 2)
                s.push(filter)
                lua_pushvalue(s.L, -2)
                lua_rawset(s.L, table)
            }
            lua_pushvalue(s.L, 3)
            try s.pushMetadataCopy(of: 4)
            lua_rawset(s.L, -3)
            return 0
        case .dynamicPairs:
            pushDynamicMetadata(s)
            let table = s.top
            lua_createtable(s.L, 8, 0)
            var i: lua_Integer = 1
            lua_pushnil(s.L)
            while lua_next(s.L, table) != 0 {
                lua_pushvalue(s.L, -2)
                lua_rawseti(s.L, -4, i)
                lua_rawseti(s.L, -3, i + 1)
                i += 2
            }
            luxy_push_list_iterator(s.L)
        default:
            throw LuaRaise("'\(method.luaName)' is not a stream info method")
        }
        return 1
    }

    /// The stream's dynamic metadata table, shared by all its phases and scripts.
    private func pushDynamicMetadata(_ s: LuaStack) {
        if dynamicMetadataRef == LUA_NOREF {
            lua_createtable(s.L, 0, 4)
            lua_pushvalue(s.L, -1)
            dynamicMetadataRef = luaL_ref(s.L, luxy_registry_index())
        } else {
            lua_rawgeti(s.L, luxy_registry_index(), lua_Integer(dynamicMetadataRef))
        }
    }
}
