import CLua
import CLuaShims
import LuxyConfig

extension LuaHTTPStream {
    /// `streamInfo():dynamicMetadata()` as it stands, filter name → its table: what the
    /// plugin test harness shows a test after the request. Call before `finish()`.
    public var dynamicMetadataSnapshot: ConfigValue {
        guard dynamicMetadataRef != LUA_NOREF, !vm.isClosed else { return .map([]) }
        let L = vm.L
        lua_rawgeti(L, luxy_registry_index(), lua_Integer(dynamicMetadataRef))
        defer { LuaStack(L).pop() }
        return LuaConfigValueBridge.read(L, at: -1)
    }
}
