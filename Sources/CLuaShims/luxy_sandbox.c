// The sandbox every script runs in (DESIGN §3 rule 5).

#include "CLuaShims.h"

#include <string.h>

#define LUXY_RAWLOAD_KEY "luxy.rawload"

// load() that only accepts text chunks: binary chunks can crash Lua. Upvalue 1 is the
// original load, upvalue 2 the environment used when the caller gives none (or nil).
static int luxy_load_text(lua_State *L) {
    int nargs = lua_gettop(L);
    if (nargs < 3) lua_settop(L, 3);
    if (nargs > 4) lua_settop(L, 4);
    lua_pushliteral(L, "t");
    lua_replace(L, 3);
    if (lua_gettop(L) < 4 && !lua_isnil(L, lua_upvalueindex(2))) {
        lua_pushvalue(L, lua_upvalueindex(2));
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

static int luxy_collectgarbage(lua_State *L) {
    const char *opt = luaL_optstring(L, 1, "collect");
    if (strcmp(opt, "count") != 0) {
        return luaL_error(L, "collectgarbage('%s') is not allowed; only 'count' is", opt);
    }
    int kb = lua_gc(L, LUA_GCCOUNT, 0);
    int b = lua_gc(L, LUA_GCCOUNTB, 0);
    lua_pushnumber(L, (lua_Number)kb + ((lua_Number)b / 1024));
    return 1;
}

// setmetatable (lbaselib.c's) that refuses a metatable with a __gc field. Lua runs
// finalizers with hooks off, so one that loops would stop the event loop for good, or
// lua_close when the VM goes. Only this check matters: Lua marks an object for finalization
// when its metatable is set, and a __gc added to the metatable later is ignored.
static int luxy_setmetatable(lua_State *L) {
    int t = lua_type(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL) {
        return luaL_error(L, "cannot change a protected metatable");
    }
    if (t == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL) {
            return luaL_error(L, "__gc metamethods are not allowed");
        }
        lua_pop(L, 1);
    }
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

static void luxy_copy_field(lua_State *L, int from, const char *name) {
    lua_getfield(L, from, name);
    lua_setfield(L, -2, name);
}

static int luxy_setup_sandbox(lua_State *L) {
    luaL_requiref(L, LUA_GNAME, luaopen_base, 1);
    lua_pop(L, 1);
    luaL_requiref(L, LUA_COLIBNAME, luaopen_coroutine, 1);
    lua_pop(L, 1);
    luaL_requiref(L, LUA_TABLIBNAME, luaopen_table, 1);
    lua_pop(L, 1);
    luaL_requiref(L, LUA_STRLIBNAME, luaopen_string, 1);
    lua_pop(L, 1);
    luaL_requiref(L, LUA_MATHLIBNAME, luaopen_math, 1);
    lua_pop(L, 1);
    luaL_requiref(L, LUA_UTF8LIBNAME, luaopen_utf8, 1);
    lua_pop(L, 1);

    // os: only the clock functions.
    luaL_requiref(L, LUA_OSLIBNAME, luaopen_os, 0);
    int full_os = lua_gettop(L);
    lua_createtable(L, 0, 3);
    luxy_copy_field(L, full_os, "time");
    luxy_copy_field(L, full_os, "clock");
    luxy_copy_field(L, full_os, "date");
    lua_setglobal(L, LUA_OSLIBNAME);
    lua_pop(L, 1);

    lua_pushglobaltable(L);
    int g = lua_gettop(L);
    lua_pushnil(L);
    lua_setfield(L, g, "dofile");
    lua_pushnil(L);
    lua_setfield(L, g, "loadfile");

    lua_getfield(L, g, "load");
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, LUXY_RAWLOAD_KEY);
    lua_pushnil(L);
    lua_pushcclosure(L, luxy_load_text, 2);
    lua_setfield(L, g, "load");

    lua_pushcfunction(L, luxy_collectgarbage);
    lua_setfield(L, g, "collectgarbage");

    lua_pushcfunction(L, luxy_setmetatable);
    lua_setfield(L, g, "setmetatable");

    // This table is also the string metatable's __index, so ("s"):find(...) gets the
    // budgeted functions too.
    lua_getfield(L, g, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    luxy_install_pattern_functions(L, -1);
    lua_pop(L, 1);

    // Every string shares one metatable; hide it so no plugin can swap `("").x` methods
    // under the others in the same VM.
    lua_pushliteral(L, "");
    if (lua_getmetatable(L, -1)) {
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
        lua_pop(L, 1);
    }
    lua_pop(L, 1);

    // Envoy's timestamp resolution "enum" (Timestamp::Resolution order).
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, 0);
    lua_setfield(L, -2, "MILLISECOND");
    lua_pushinteger(L, 1);
    lua_setfield(L, -2, "MICROSECOND");
    lua_setfield(L, g, "EnvoyTimestampResolution");

    lua_pop(L, 1);
    return 0;
}

int luxy_open_sandbox(lua_State *L) {
    lua_pushcfunction(L, luxy_setup_sandbox);
    return lua_pcall(L, 0, 0, 0);
}

// The library tables a script may change without touching the other scripts of its VM.
static const char *const luxy_private_libraries[] = {
    LUA_STRLIBNAME, LUA_TABLIBNAME, LUA_MATHLIBNAME, LUA_UTF8LIBNAME, LUA_COLIBNAME, LUA_OSLIBNAME, NULL,
};

void luxy_push_environment(lua_State *L, int globals_meta_ref) {
    lua_createtable(L, 0, 8);
    int env = lua_gettop(L);
    // Shallow copies: `string.find = spy` in one plugin must not reach another's data.
    for (const char *const *name = luxy_private_libraries; *name != NULL; name++) {
        if (lua_getglobal(L, *name) != LUA_TTABLE) {
            lua_pop(L, 1);
            continue;
        }
        int library = lua_gettop(L);
        lua_createtable(L, 0, 16);
        lua_pushnil(L);
        while (lua_next(L, library) != 0) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, -4);
        }
        lua_setfield(L, env, *name);
        lua_pop(L, 1);
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, globals_meta_ref);
    lua_setmetatable(L, env);
    lua_pushvalue(L, env);
    lua_setfield(L, env, LUA_GNAME);
    lua_getfield(L, LUA_REGISTRYINDEX, LUXY_RAWLOAD_KEY);
    lua_pushvalue(L, env);
    lua_pushcclosure(L, luxy_load_text, 2);
    lua_setfield(L, env, "load");
}
