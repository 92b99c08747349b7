// Library functions whose stock versions loop in C for as long as their arguments say, out
// of reach of the count hook: `table.move({}, 1, 2^40, 2)`, `table.insert`/`table.remove`
// on a table whose __len claims 2^50 elements, `table.concat` over a proxy whose __index is
// a C function, and `string.rep('', 2^40)` each keep the loop busy for hours in stock Lua.
// These copies of Lua 5.4's (ltablib.c, lstrlib.c) charge every step to the phase's
// instruction budget and raise the budget error when it runs out; results and errors are
// otherwise stock Lua's.

#include "CLuaShims.h"

#include <string.h>

/// What one step of these loops (a lua_geti and a lua_seti through the API, or a piece
/// added to a buffer) is charged, in instructions: measured, such a step takes about as
/// long as eight instructions of a tight Lua loop.
#define LUXY_LIBRARY_STEP_COST 8

/// One step of a library loop: raises the budget error once the phase has no budget left.
static void luxy_charge_step(lua_State *L, int64_t *budget) {
    *budget -= LUXY_LIBRARY_STEP_COST;
    if (*budget <= 0) luxy_vm_budget_exceeded(L);
}

#define TAB_R 1
#define TAB_W 2
#define TAB_L 4
#define TAB_RW (TAB_R | TAB_W)

static int luxy_check_field(lua_State *L, const char *key, int n) {
    lua_pushstring(L, key);
    return lua_rawget(L, -n) != LUA_TNIL;
}

static void luxy_check_table(lua_State *L, int arg, int what) {
    if (lua_type(L, arg) != LUA_TTABLE) {
        int n = 1;
        if (lua_getmetatable(L, arg) && (!(what & TAB_R) || luxy_check_field(L, "__index", ++n)) &&
            (!(what & TAB_W) || luxy_check_field(L, "__newindex", ++n)) &&
            (!(what & TAB_L) || luxy_check_field(L, "__len", ++n))) {
            lua_pop(L, n);
        } else {
            luaL_checktype(L, arg, LUA_TTABLE);
        }
    }
}

static lua_Integer luxy_length(lua_State *L, int arg, int what) {
    luxy_check_table(L, arg, what | TAB_L);
    return luaL_len(L, arg);
}

static int luxy_table_insert(lua_State *L) {
    int64_t *budget = luxy_vm_budget_slot(L);
    lua_Integer pos;
    lua_Integer e = luxy_length(L, 1, TAB_RW);
    e = (lua_Integer)((lua_Unsigned)e + 1u);
    switch (lua_gettop(L)) {
    case 2:
        pos = e;
        break;
    case 3: {
        pos = luaL_checkinteger(L, 2);
        luaL_argcheck(L, (lua_Unsigned)pos - 1u < (lua_Unsigned)e, 2, "position out of bounds");
        for (lua_Integer i = e; i > pos; i--) {
            luxy_charge_step(L, budget);
            lua_geti(L, 1, i - 1);
            lua_seti(L, 1, i);
        }
        break;
    }
    default:
        return luaL_error(L, "wrong number of arguments to 'insert'");
    }
    lua_seti(L, 1, pos);
    luxy_vm_charged(L);
    return 0;
}

static int luxy_table_remove(lua_State *L) {
    int64_t *budget = luxy_vm_budget_slot(L);
    lua_Integer size = luxy_length(L, 1, TAB_RW);
    lua_Integer pos = luaL_optinteger(L, 2, size);
    if (pos != size) {
        luaL_argcheck(L, (lua_Unsigned)pos - 1u <= (lua_Unsigned)size, 2, "position out of bounds");
    }
    lua_geti(L, 1, pos);
    for (; pos < size; pos++) {
        luxy_charge_step(L, budget);
        lua_geti(L, 1, pos + 1);
        lua_seti(L, 1, pos);
    }
    lua_pushnil(L);
    lua_seti(L, 1, pos);
    luxy_vm_charged(L);
    return 1;
}

static int luxy_table_move(lua_State *L) {
    int64_t *budget = luxy_vm_budget_slot(L);
    lua_Integer f = luaL_checkinteger(L, 2);
    lua_Integer e = luaL_checkinteger(L, 3);
    lua_Integer t = luaL_checkinteger(L, 4);
    int tt = !lua_isnoneornil(L, 5) ? 5 : 1;
    luxy_check_table(L, 1, TAB_R);
    luxy_check_table(L, tt, TAB_W);
    if (e >= f) {
        luaL_argcheck(L, f > 0 || e < LUA_MAXINTEGER + f, 3, "too many elements to move");
        lua_Integer n = e - f + 1;
        luaL_argcheck(L, t <= LUA_MAXINTEGER - n + 1, 4, "destination wrap around");
        if (t > e || t <= f || (tt != 1 && !lua_compare(L, 1, tt, LUA_OPEQ))) {
            for (lua_Integer i = 0; i < n; i++) {
                luxy_charge_step(L, budget);
                lua_geti(L, 1, f + i);
                lua_seti(L, tt, t + i);
            }
        } else {
            for (lua_Integer i = n - 1; i >= 0; i--) {
                luxy_charge_step(L, budget);
                lua_geti(L, 1, f + i);
                lua_seti(L, tt, t + i);
            }
        }
    }
    lua_pushvalue(L, tt);
    luxy_vm_charged(L);
    return 1;
}

static void luxy_add_field(lua_State *L, luaL_Buffer *b, lua_Integer i) {
    lua_geti(L, 1, i);
    if (!lua_isstring(L, -1)) {
        luaL_error(L, "invalid value (at index %I) in table for 'concat'", (LUAI_UACINT)i);
    }
    luaL_addvalue(b);
}

static int luxy_table_concat(lua_State *L) {
    int64_t *budget = luxy_vm_budget_slot(L);
    luaL_Buffer b;
    lua_Integer last = luxy_length(L, 1, TAB_R);
    size_t lsep;
    const char *sep = luaL_optlstring(L, 2, "", &lsep);
    lua_Integer i = luaL_optinteger(L, 3, 1);
    last = luaL_optinteger(L, 4, last);
    luaL_buffinit(L, &b);
    for (; i < last; i++) {
        luxy_charge_step(L, budget);
        luxy_add_field(L, &b, i);
        luaL_addlstring(&b, sep, lsep);
    }
    if (i == last) luxy_add_field(L, &b, i);
    luaL_pushresult(&b);
    luxy_vm_charged(L);
    return 1;
}

// Stock string.rep copies `s` and `sep` once per repetition, even when both are empty (then
// it loops n times doing nothing). This one fills the first repetition and doubles what is
// written, so the time is that of the copying, which the allocator charges.
static int luxy_string_rep(lua_State *L) {
    size_t l, lsep;
    const char *s = luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    const char *sep = luaL_optlstring(L, 3, "", &lsep);
    if (n <= 0 || l + lsep == 0) {
        lua_pushliteral(L, "");
        return 1;
    }
    size_t max = (size_t)(~(size_t)0 >> 1);
    if (l + lsep < l || l + lsep > max / (lua_Unsigned)n) return luaL_error(L, "resulting string too large");
    size_t unit = l + lsep;
    size_t total = (size_t)n * l + (size_t)(n - 1) * lsep;
    luaL_Buffer b;
    char *p = luaL_buffinitsize(L, &b, total);
    // [s sep] (n - 1) times, then s: the first part is periodic, so copy it from its start.
    size_t periodic = total - l;
    if (periodic > 0) {
        memcpy(p, s, l);
        memcpy(p + l, sep, lsep);
        size_t filled = unit;
        while (filled < periodic) {
            size_t chunk = filled < periodic - filled ? filled : periodic - filled;
            memcpy(p + filled, p, chunk);
            filled += chunk;
        }
    }
    memcpy(p + periodic, s, l);
    luaL_pushresultsize(&b, total);
    return 1;
}

void luxy_install_library_functions(lua_State *L, int table_library, int string_library) {
    table_library = lua_absindex(L, table_library);
    string_library = lua_absindex(L, string_library);
    static const luaL_Reg table_functions[] = {
        {"insert", luxy_table_insert},
        {"remove", luxy_table_remove},
        {"move", luxy_table_move},
        {"concat", luxy_table_concat},
        {NULL, NULL},
    };
    for (const luaL_Reg *f = table_functions; f->name != NULL; f++) {
        lua_pushcfunction(L, f->func);
        lua_setfield(L, table_library, f->name);
    }
    lua_pushcfunction(L, luxy_string_rep);
    lua_setfield(L, string_library, "rep");
}
