/// An enum of host functions (`LuaMethod` for handles, `LuxyMethod` for the `luxy` table,
/// `LuaModuleFunction` for the built-in modules): the id the one trampoline carries and the
/// name Lua sees. The VM builds the method tables of its objects from these
/// (`LuaVM.makeObjectMetatable`). Plain values.
protocol LuaHostFunction {
    var rawValue: Int32 { get }
    var luaName: String { get }
}

extension LuaHostFunction {
    /// "__pairs" and friends go in the metatable itself, not among the methods.
    var isMetamethod: Bool { luaName.hasPrefix("__") }
}

extension LuaMethod: LuaHostFunction {}
extension LuxyMethod: LuaHostFunction {}
extension LuaModuleFunction: LuaHostFunction {}
