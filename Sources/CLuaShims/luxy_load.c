// Loading a script: compiling it, making its environment and setting its `config`, all in
// one protected call with the memory cap on. Outside a protected call a Lua error (an
// allocation over the cap, say) would reach the panic handler, which aborts the process.

#include "CLuaShims.h"

typedef struct luxy_load_request {
    const char *source;
    size_t len;
    const char *chunkname;
    int globals_meta_ref;
} luxy_load_request;

// Stack: 1 the request (light userdata), 2 the config value. Returns the chunk and its
// environment.
static int luxy_load_protected(lua_State *L) {
    const luxy_load_request *request = (const luxy_load_request *)lua_touserdata(L, 1);
    if (luaL_loadbufferx(L, request->source, request->len, request->chunkname, "t") != LUA_OK) {
        return lua_error(L);
    }
    int chunk = lua_gettop(L);
    luxy_push_environment(L, request->globals_meta_ref);
    int env = lua_gettop(L);
    lua_pushvalue(L, 2);
    lua_setfield(L, env, "config");
    // The chunk's only upvalue is _ENV.
    lua_pushvalue(L, env);
    if (lua_setupvalue(L, chunk, 1) == NULL) lua_pop(L, 1);
    return 2;
}

int luxy_load_script(lua_State *L, const char *source, size_t len, const char *chunkname, int globals_meta_ref) {
    luxy_load_request request = {source, len, chunkname, globals_meta_ref};
    luxy_vm *vm = luxy_vm_from_state(L);
    // A light C function and a light userdata: pushing them allocates nothing.
    lua_pushcfunction(L, luxy_load_protected);
    lua_insert(L, -2);
    lua_pushlightuserdata(L, &request);
    lua_insert(L, -2);
    int enforce = luxy_vm_enforcement(vm, 1);
    int status = lua_pcall(L, 2, 2, 0);
    luxy_vm_enforcement(vm, enforce);
    if (status != LUA_OK) {
        // One value on error, two on success: callers count on exactly that.
        return status;
    }
    return LUA_OK;
}
