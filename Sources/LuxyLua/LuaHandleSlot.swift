/// The objects a handle hands out made once per phase and handed out again on every later
/// call, as Envoy's stream handle keeps its header map and stream info wrappers: so
/// `h:headers() == h:headers()`, and a script that calls `h:headers()` for each field it
/// reads allocates one object, not one per call. Each is a user value of the handle
/// (`lua_setiuservalue`): it lives as long as the handle, and carries the handle's token, so
/// it goes out of scope with it.
enum LuaHandleSlot: Int32, CaseIterable {
    case headers = 1, requestHeaders, streamInfo
}
