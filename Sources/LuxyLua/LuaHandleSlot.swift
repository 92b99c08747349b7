/// The objects a handle hands out made once per phase and handed out again on every later
/// call, as Envoy's stream handle keeps its wrappers: so `h:requestHeaders() ==
/// h:requestHeaders()`, and a script that calls it for each field it reads allocates one
/// object, not one per call. Each is a user value of the handle (`lua_setiuservalue`): it
/// lives as long as the handle, and carries the handle's token, so it goes out of scope with
/// it. (The phase's own header map and stream info need no slot: the handle answers their
/// methods itself, `LuaMethod.handleMethods`.)
enum LuaHandleSlot: Int32, CaseIterable {
    case requestHeaders = 1
}
