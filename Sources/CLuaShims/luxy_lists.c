// The library functions that can return a long list of values: table.unpack, string.byte,
// utf8.codepoint and string.unpack. Lua code alone makes lists no longer than the
// instructions it ran, so a phase's calls are charged for the values they move only once the
// phase ran a hook step (luxy_vm.c's `charge_calls`); a list made here in one call makes
// them charged at once. Else `spin(table.unpack(t))` with 100,000 values, where
// `spin(...)` loops on `g(...)`, would copy them 1,000 times before its first hook.
// Results and errors are stock Lua's.

#include "CLuaShims.h"

#include <limits.h>
#include <stdint.h>

/// Values one call may return before the phase's calls are charged (see above).
#define LUXY_LONG_LIST 64

// lua_CFunction pointers kept as light userdata upvalues (POSIX makes the conversion safe).
static void luxy_push_stock(lua_State *L, lua_CFunction stock) {
    lua_pushlightuserdata(L, (void *)(uintptr_t)stock);
}

static lua_CFunction luxy_stock(lua_State *L) {
    return (lua_CFunction)(uintptr_t)lua_touserdata(L, lua_upvalueindex(1));
}

// string.byte, utf8.codepoint, string.unpack: the stock function runs in this call's frame
// (so its errors name the function the script called), and a long result arms the charge.
// They call no Lua code while they make the list.
static int luxy_list_result(lua_State *L) {
    int results = luxy_stock(L)(L);
    if (results > LUXY_LONG_LIST) luxy_vm_charge_calls(L);
    return results;
}

// table.unpack (ltablib.c's tunpack): armed before the list is made, since a proxy's
// __index runs for every value and those calls are charged too.
static int luxy_table_unpack(lua_State *L) {
    lua_Unsigned n;
    lua_Integer i = luaL_optinteger(L, 2, 1);
    lua_Integer e = luaL_opt(L, luaL_checkinteger, 3, luaL_len(L, 1));
    if (i > e) return 0;
    n = (lua_Unsigned)e - i;
    if (n >= (unsigned int)INT_MAX || !lua_checkstack(L, (int)(++n))) return luaL_error(L, "too many results to unpack");
    if (n > LUXY_LONG_LIST) luxy_vm_charge_calls(L);
    for (; i < e; i++) lua_geti(L, 1, i);
    lua_geti(L, 1, e);
    return (int)n;
}

static void luxy_wrap_list_result(lua_State *L, int library, const char *name) {
    lua_getfield(L, library, name);
    lua_CFunction stock = lua_tocfunction(L, -1);
    lua_pop(L, 1);
    if (stock == NULL) return;
    luxy_push_stock(L, stock);
    lua_pushcclosure(L, luxy_list_result, 1);
    lua_setfield(L, library, name);
}

void luxy_install_list_functions(lua_State *L, int table_library, int string_library, int utf8_library) {
    table_library = lua_absindex(L, table_library);
    string_library = lua_absindex(L, string_library);
    utf8_library = lua_absindex(L, utf8_library);
    lua_pushcfunction(L, luxy_table_unpack);
    lua_setfield(L, table_library, "unpack");
    luxy_wrap_list_result(L, string_library, "byte");
    luxy_wrap_list_result(L, string_library, "unpack");
    luxy_wrap_list_result(L, utf8_library, "codepoint");
}
