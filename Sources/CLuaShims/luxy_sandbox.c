// The sandbox every script runs in (DESIGN §3 rule 5).

#include "CLuaShims.h"

#include <string.h>

#define LUXY_RAWLOAD_KEY "luxy.rawload"

// load() that only accepts text chunks: binary chunks can crash Lua. Upvalue 1 is the
// original load, upvalue 2 the environment used when the caller gives none (or nil).
// Chunks are held to the script size limit: compiling takes time in C, out of reach of the
// count hook, in proportion to the text. A reader function is read here, piece by piece,
// so the limit holds for it too.
static int luxy_load_text(lua_State *L) {
    int nargs = lua_gettop(L);
    if (nargs < 3) lua_settop(L, 3);
    if (nargs > 4) lua_settop(L, 4);
    size_t limit = luxy_vm_max_chunk_bytes(luxy_vm_from_state(L));
    if (lua_type(L, 1) == LUA_TFUNCTION) {
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        size_t total = 0;
        for (;;) {
            lua_pushvalue(L, 1);
            lua_call(L, 0, 1);
            if (lua_isnil(L, -1)) {
                lua_pop(L, 1);
                break;
            }
            if (!lua_isstring(L, -1)) return luaL_error(L, "reader function must return a string");
            size_t len = lua_rawlen(L, -1);
            if (len == 0) {
                lua_pop(L, 1);
                break;
            }
            total += len;
            if (limit > 0 && total > limit) {
                luaL_pushfail(L);
                lua_pushfstring(L, "chunk too large (over %I bytes, the script size limit)", (LUAI_UACINT)limit);
                return 2;
            }
            luaL_addvalue(&b);
        }
        luaL_pushresult(&b);
        lua_replace(L, 1);
    } else if (lua_type(L, 1) == LUA_TSTRING && limit > 0 && lua_rawlen(L, 1) > limit) {
        luaL_pushfail(L);
        lua_pushfstring(L, "chunk too large (%I bytes; the script size limit is %I)", (LUAI_UACINT)lua_rawlen(L, 1),
                        (LUAI_UACINT)limit);
        return 2;
    }
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

// setmetatable (lbaselib.c's) that refuses a metatable with a __gc or __close field.
// Lua runs finalizers with hooks off, so one that loops would stop the event loop for good,
// or lua_close when the VM goes. For __gc only this check matters: Lua marks an object for
// finalization when its metatable is set, and a __gc added to the metatable later is ignored.
// __close is refused so to-be-closed variables, which run code while a phase unwinds from
// an error (the budget's own included), stay out of plugins; one added to a metatable later
// is looked up when `local x <close>` runs, and still works: it runs as Lua code with the
// count hook on, under the budget, in every path Luxy takes (block exit, error unwinding in
// pcall, coroutine.close). Luxy never closes or resets a thread that has to-be-closed
// variables pending: a failed or abandoned phase's coroutine is dropped, not reset.
static int luxy_setmetatable(lua_State *L) {
    int t = lua_type(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL) {
        return luaL_error(L, "cannot change a protected metatable");
    }
    if (t == LUA_TTABLE) {
        static const char *const refused[] = {"__gc", "__close", NULL};
        for (const char *const *name = refused; *name != NULL; name++) {
            lua_pushstring(L, *name);
            if (lua_rawget(L, 2) != LUA_TNIL) {
                return luaL_error(L, "%s metamethods are not allowed", *name);
            }
            lua_pop(L, 1);
        }
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
    luxy_install_format(L, -1);
    lua_getfield(L, g, LUA_TABLIBNAME);
    luxy_install_library_functions(L, -1, -2);
    lua_getfield(L, g, LUA_UTF8LIBNAME);
    luxy_install_list_functions(L, -2, -3, -1);
    lua_pop(L, 3);

    lua_getfield(L, g, LUA_COLIBNAME);
    luxy_install_coroutine_functions(L, -1);
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

void luxy_push_shallow_copy(lua_State *L, int idx) {
    idx = lua_absindex(L, idx);
    lua_createtable(L, 0, 16);
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
}

void luxy_push_environment(lua_State *L, int globals_meta_ref) {
    lua_createtable(L, 0, 8);
    int env = lua_gettop(L);
    // Shallow copies: `string.find = spy` in one plugin must not reach another's data.
    for (const char *const *name = luxy_private_libraries; *name != NULL; name++) {
        if (lua_getglobal(L, *name) != LUA_TTABLE) {
            lua_pop(L, 1);
            continue;
        }
        luxy_push_shallow_copy(L, -1);
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
