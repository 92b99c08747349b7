// `require`: the libraries of the generation (lib/NAME.lua, handed over as source text by the
// host when the VM is made) and the built-in modules (cjson, luxy.base64, …). One loaded
// table per VM, as Lua's package.loaded: a library's top-level code runs once per VM and
// every script that requires it gets the same value. Libraries run in the sandbox, each in a
// fresh environment of its own (luxy_push_environment), under the instruction budget and
// the memory cap of whoever required them.

#include "CLuaShims.h"

#include <string.h>

#define LUXY_LOADED_KEY "luxy.require.loaded"
#define LUXY_BUILTIN_KEY "luxy.require.builtin"
#define LUXY_SOURCES_KEY "luxy.require.sources"
#define LUXY_LOADING_KEY "luxy.require.loading"
#define LUXY_EDGES_KEY "luxy.require.edges"

// Upvalue 1 of `require`: the registry ref of the globals metatable, for new environments.

/// Records "the chunk calling require asked for `name`" for `luxy check` (its libraries list).
static void luxy_note_edge(lua_State *L, int name) {
    lua_Debug ar;
    const char *source = "?";
    int line = 0;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar)) {
        source = ar.source[0] == '@' ? ar.source + 1 : ar.short_src;
        line = ar.currentline;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, LUXY_EDGES_KEY);
    lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
    lua_createtable(L, 3, 0);
    lua_pushstring(L, source);
    lua_rawseti(L, -2, 1);
    lua_pushvalue(L, name);
    lua_rawseti(L, -2, 2);
    lua_pushinteger(L, line);
    lua_rawseti(L, -2, 3);
    lua_rawseti(L, -2, n + 1);
    lua_pop(L, 1);
}

/// "a → b → a": the libraries being loaded, then `name`.
static void luxy_push_cycle(lua_State *L, int loading, int name) {
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    lua_Integer n = (lua_Integer)lua_rawlen(L, loading);
    lua_Integer first = n;
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, loading, i);
        int same = lua_rawequal(L, -1, name);
        lua_pop(L, 1);
        if (same) {
            first = i;
            break;
        }
    }
    for (lua_Integer i = first; i <= n; i++) {
        lua_rawgeti(L, loading, i);
        luaL_addvalue(&b);
        luaL_addstring(&b, " -> ");
    }
    lua_pushvalue(L, name);
    luaL_addvalue(&b);
    luaL_pushresult(&b);
}

// Stack of require while a library loads: 1 name, 2 loaded, 3 loading, 4 the chunk's result
// (or the error).
static int luxy_require_finish(lua_State *L, int status, lua_KContext ctx) {
    (void)ctx;
    lua_pushnil(L);
    lua_rawseti(L, 3, (lua_Integer)lua_rawlen(L, 3));
    if (status != LUA_OK && status != LUA_YIELD) {
        // Forget the half-loaded library, so a later require tries it again.
        lua_pushnil(L);
        lua_setfield(L, 2, lua_tostring(L, 1));
        return lua_error(L);
    }
    if (lua_isnil(L, 4)) {
        lua_pushboolean(L, 1);
        lua_replace(L, 4);
    }
    lua_pushvalue(L, 4);
    lua_setfield(L, 2, lua_tostring(L, 1));
    return 1;
}

static int luxy_require(lua_State *L) {
    luaL_checkstring(L, 1);
    lua_settop(L, 1);
    luxy_note_edge(L, 1);
    const char *name = lua_tostring(L, 1);

    // A built-in module: a fresh shallow copy for every require, so a plugin that changes
    // `cjson.encode` changes it for itself only.
    lua_getfield(L, LUA_REGISTRYINDEX, LUXY_BUILTIN_KEY);
    if (lua_getfield(L, -1, name) == LUA_TTABLE) {
        luxy_push_shallow_copy(L, -1);
        return 1;
    }
    lua_settop(L, 1);

    lua_getfield(L, LUA_REGISTRYINDEX, LUXY_LOADED_KEY);
    lua_getfield(L, LUA_REGISTRYINDEX, LUXY_LOADING_KEY);
    if (lua_getfield(L, 2, name) != LUA_TNIL) {
        if (lua_rawequal(L, -1, 3)) {
            luxy_push_cycle(L, 3, 1);
            return luaL_error(L, "cyclic require of '%s' (%s)", name, lua_tostring(L, -1));
        }
        return 1;
    }
    lua_pop(L, 1);

    lua_getfield(L, LUA_REGISTRYINDEX, LUXY_SOURCES_KEY);
    if (lua_getfield(L, -1, name) != LUA_TTABLE) {
        return luaL_error(L, "module '%s' not found: no library '%s' in the lib folder, and no built-in module "
                          "of that name", name, name);
    }
    // {source, chunkname}
    int entry = lua_gettop(L);
    lua_rawgeti(L, entry, 1);
    lua_rawgeti(L, entry, 2);
    size_t len;
    const char *source = lua_tolstring(L, -2, &len);
    const char *chunkname = lua_tostring(L, -1);
    if (luaL_loadbufferx(L, source, len, chunkname, "t") != LUA_OK) return lua_error(L);
    int chunk = lua_gettop(L);
    luxy_push_environment(L, (int)lua_tointeger(L, lua_upvalueindex(1)));
    if (lua_setupvalue(L, chunk, 1) == NULL) lua_pop(L, 1);
    lua_replace(L, 4);
    lua_settop(L, 4);

    // Marked as loading (the loading table itself is the mark) until its top level returns.
    lua_pushvalue(L, 3);
    lua_setfield(L, 2, name);
    lua_pushvalue(L, 1);
    lua_rawseti(L, 3, (lua_Integer)lua_rawlen(L, 3) + 1);

    lua_pushvalue(L, 1);
    int status = lua_pcallk(L, 1, 1, 0, 0, luxy_require_finish);
    return luxy_require_finish(L, status, 0);
}

void luxy_install_require(lua_State *L, int globals_meta_ref) {
    static const char *const tables[] = {LUXY_LOADED_KEY, LUXY_BUILTIN_KEY, LUXY_SOURCES_KEY, LUXY_LOADING_KEY,
                                         LUXY_EDGES_KEY, NULL};
    for (const char *const *key = tables; *key != NULL; key++) {
        lua_newtable(L);
        lua_setfield(L, LUA_REGISTRYINDEX, *key);
    }
    lua_pushglobaltable(L);
    lua_pushinteger(L, globals_meta_ref);
    lua_pushcclosure(L, luxy_require, 1);
    lua_setfield(L, -2, "require");
    lua_pop(L, 1);
}

void luxy_add_library_source(lua_State *L, const char *name, const char *source, size_t len,
                             const char *chunkname) {
    lua_getfield(L, LUA_REGISTRYINDEX, LUXY_SOURCES_KEY);
    lua_createtable(L, 2, 0);
    lua_pushlstring(L, source, len);
    lua_rawseti(L, -2, 1);
    lua_pushstring(L, chunkname);
    lua_rawseti(L, -2, 2);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
}

void luxy_add_builtin_module(lua_State *L, const char *name) {
    lua_getfield(L, LUA_REGISTRYINDEX, LUXY_BUILTIN_KEY);
    lua_insert(L, -2);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
}

void luxy_push_require_edges(lua_State *L) { lua_getfield(L, LUA_REGISTRYINDEX, LUXY_EDGES_KEY); }
