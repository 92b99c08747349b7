// Read-only views of library tables (the `luxy` global): a script may read them but not
// change what the other scripts of its VM see.

#include "CLuaShims.h"

static int luxy_readonly_newindex(lua_State *L) {
    return luaL_error(L, "the luxy table is read-only (field '%s')", luaL_optstring(L, 2, "?"));
}

void luxy_push_readonly(lua_State *L, int table) {
    table = lua_absindex(L, table);
    // Sub-tables first, so the view is read-only all the way down.
    lua_pushnil(L);
    while (lua_next(L, table) != 0) {
        if (lua_type(L, -1) == LUA_TTABLE) {
            luxy_push_readonly(L, -1);
            lua_pushvalue(L, -3);
            lua_insert(L, -2);
            lua_rawset(L, table);
        }
        lua_pop(L, 1);
    }
    lua_createtable(L, 0, 0);
    lua_createtable(L, 0, 3);
    lua_pushvalue(L, table);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, luxy_readonly_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
}
