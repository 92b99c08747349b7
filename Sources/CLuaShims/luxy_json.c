// `require("cjson")` and `require("cjson.safe")`: Debian's lua-cjson, linked in (luaopen_cjson,
// luaopen_cjson_safe), behind wrappers that keep its C loops inside the instruction budget.
//
// Stock cjson.decode parses its whole input in C, and cjson.encode walks a table in C and
// writes into a buffer it mallocs itself, out of the memory cap: a table that holds the same
// big string a thousand times, or nests one table in itself twenty times over, encodes to
// gigabytes. So:
// - decode refuses input over the JSON size limit (limits.lua_max_json_bytes) and charges the
//   budget LUXY_JSON_DECODE_COST instructions a byte before it parses; what it builds is
//   allocated through Lua's allocator, capped and charged as any allocation;
// - encode first walks the value as cjson will (raw reads, no metamethods run), charging
//   LUXY_JSON_STEP_COST per value and adding up the size of the text it will write; over the
//   limit it refuses before cjson runs, and the walk stops there, so it costs at most the
//   limit's worth of steps (or the budget, whichever comes first);
// - the configuration functions (encode_sparse_array, encode_max_depth, new, …) are left out:
//   each VM shares one cjson, and encode_sparse_array(true, 0) would make `{[2^40] = 1}`
//   write 2^40 nulls in one C loop.
// cjson.safe returns nil and the message instead of raising, for the size limit too.
//
// Known gap: decode parses into a scratch buffer of the text's size that cjson mallocs; a
// memory error (the VM at its cap) in the middle of a decode unwinds past cjson, and that
// buffer, at most the JSON size limit, is lost.

#include "CLuaShims.h"

int luaopen_cjson(lua_State *L);
int luaopen_cjson_safe(lua_State *L);

/// Instructions charged per byte of JSON text decoded, and per byte encoded. Measured with
/// Debian's lua5.4 and lua-cjson on the 2-core development machine, over an array of small
/// objects: decoding took 25 ns a byte and encoding 12.5 ns, where one instruction of a tight
/// Lua loop under Luxy's count hook takes about 7 ns.
#define LUXY_JSON_DECODE_COST 4
#define LUXY_JSON_ENCODE_COST 2
/// One value visited by the encode walk (a lua_next step and a type check).
#define LUXY_JSON_STEP_COST 4
/// cjson's default encode_max_depth: deeper, cjson raises "excessive nesting" itself.
#define LUXY_JSON_MAX_DEPTH 1000

typedef struct luxy_json_walk {
    size_t total;
    size_t limit;
    int64_t *budget;
} luxy_json_walk;

static void luxy_json_charge(lua_State *L, int64_t *budget, int64_t cost) {
    *budget -= cost;
    if (*budget <= 0) luxy_vm_budget_exceeded(L);
}

// Returns 1 once the text would be over the limit. cjson escapes a byte in at most 6.
static int luxy_json_size(lua_State *L, int idx, int depth, luxy_json_walk *w) {
    luxy_json_charge(L, w->budget, LUXY_JSON_STEP_COST);
    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
        w->total += lua_rawlen(L, idx) * 6 + 2;
        break;
    case LUA_TTABLE: {
        if (depth > LUXY_JSON_MAX_DEPTH) return 0;
        luaL_checkstack(L, 3, "JSON nesting");
        w->total += 2;
        lua_pushnil(L);
        while (lua_next(L, idx) != 0) {
            w->total += lua_type(L, -2) == LUA_TSTRING ? lua_rawlen(L, -2) * 6 + 4 : 24;
            if (w->total > w->limit || luxy_json_size(L, lua_gettop(L), depth + 1, w)) {
                lua_pop(L, 2);
                return 1;
            }
            lua_pop(L, 1);
        }
        break;
    }
    default:
        w->total += 24;
        break;
    }
    return w->total > w->limit;
}

// Upvalues: 1 the stock function, 2 the limit in bytes, 3 true for cjson.safe.
static int luxy_json_refuse(lua_State *L, const char *what, size_t limit) {
    if (lua_toboolean(L, lua_upvalueindex(3))) {
        lua_pushnil(L);
        lua_pushfstring(L, "%s over the JSON size limit of %I bytes (limits.lua_max_json_bytes)", what,
                        (LUAI_UACINT)limit);
        return 2;
    }
    return luaL_error(L, "%s over the JSON size limit of %I bytes (limits.lua_max_json_bytes)", what,
                      (LUAI_UACINT)limit);
}

static int luxy_json_call(lua_State *L) {
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    luxy_vm_charged(L);
    return lua_gettop(L);
}

static int luxy_json_decode(lua_State *L) {
    size_t limit = (size_t)lua_tointeger(L, lua_upvalueindex(2));
    if (lua_type(L, 1) == LUA_TSTRING) {
        size_t len = lua_rawlen(L, 1);
        if (len > limit) return luxy_json_refuse(L, "JSON text", limit);
        luxy_json_charge(L, luxy_vm_budget_slot(L), (int64_t)len * LUXY_JSON_DECODE_COST);
    }
    return luxy_json_call(L);
}

static int luxy_json_encode(lua_State *L) {
    size_t limit = (size_t)lua_tointeger(L, lua_upvalueindex(2));
    luxy_json_walk walk = {0, limit, luxy_vm_budget_slot(L)};
    if (lua_gettop(L) >= 1 && luxy_json_size(L, 1, 1, &walk)) return luxy_json_refuse(L, "the encoded value is", limit);
    int n = luxy_json_call(L);
    if (lua_type(L, 1) == LUA_TSTRING) {
        luxy_json_charge(L, luxy_vm_budget_slot(L), (int64_t)lua_rawlen(L, 1) * LUXY_JSON_ENCODE_COST);
    }
    return n;
}

/// Pushes the sandbox's table for one flavour of cjson: encode and decode wrapped, `null`,
/// and the names.
static void luxy_push_json_module(lua_State *L, lua_CFunction open, size_t limit, int safe) {
    lua_pushcfunction(L, open);
    lua_call(L, 0, 1);
    int stock = lua_gettop(L);
    lua_createtable(L, 0, 5);
    static const char *const copied[] = {"null", "_NAME", "_VERSION", NULL};
    for (const char *const *name = copied; *name != NULL; name++) {
        lua_getfield(L, stock, *name);
        lua_setfield(L, -2, *name);
    }
    lua_getfield(L, stock, "decode");
    lua_pushinteger(L, (lua_Integer)limit);
    lua_pushboolean(L, safe);
    lua_pushcclosure(L, luxy_json_decode, 3);
    lua_setfield(L, -2, "decode");
    lua_getfield(L, stock, "encode");
    lua_pushinteger(L, (lua_Integer)limit);
    lua_pushboolean(L, safe);
    lua_pushcclosure(L, luxy_json_encode, 3);
    lua_setfield(L, -2, "encode");
    lua_remove(L, stock);
}

static int luxy_open_json_protected(lua_State *L) {
    size_t limit = (size_t)lua_tointeger(L, 1);
    luxy_push_json_module(L, luaopen_cjson, limit, 0);
    luxy_add_builtin_module(L, "cjson");
    luxy_push_json_module(L, luaopen_cjson_safe, limit, 1);
    luxy_add_builtin_module(L, "cjson.safe");
    return 0;
}

int luxy_open_json(lua_State *L, size_t max_json_bytes) {
    lua_pushcfunction(L, luxy_open_json_protected);
    lua_pushinteger(L, (lua_Integer)max_json_bytes);
    return lua_pcall(L, 1, 0, 0);
}
