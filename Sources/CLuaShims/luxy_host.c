// The host-call trampoline: Swift returns a code, C does the longjmp (error or yield).

#include "CLuaShims.h"

static luxy_host_dispatch_fn luxy_dispatch = NULL;

void luxy_set_host_dispatch(luxy_host_dispatch_fn fn) { luxy_dispatch = fn; }

static int luxy_finish_host_call(lua_State *L, int rc, int method);

static int luxy_call_swift(lua_State *L, int method, int resumed) {
    if (luxy_dispatch == NULL) {
        lua_pushliteral(L, "host functions are not available");
        return LUXY_RC_ERROR;
    }
    // Swift must never see an allocation fail with a longjmp (LUA_ERRMEM) through its frames:
    // lift the cap for the length of the host call. What Swift allocated still counts, so the
    // script's next allocation over the cap fails in Lua, where a longjmp is harmless.
    luxy_vm *vm = luxy_vm_from_state(L);
    int enforce = luxy_vm_enforcement(vm, 0);
    int rc = luxy_dispatch(L, method, resumed);
    luxy_vm_enforcement(vm, enforce);
    return rc;
}

static int luxy_host_continuation(lua_State *L, int status, lua_KContext ctx) {
    (void)status;
    int method = (int)ctx;
    return luxy_finish_host_call(L, luxy_call_swift(L, method, 1), method);
}

int luxy_host_trampoline(lua_State *L) {
    int method = (int)lua_tointeger(L, lua_upvalueindex(1));
    return luxy_finish_host_call(L, luxy_call_swift(L, method, 0), method);
}

void luxy_push_host_method(lua_State *L, int method) {
    lua_pushinteger(L, method);
    lua_pushcclosure(L, luxy_host_trampoline, 1);
}

static int luxy_finish_host_call(lua_State *L, int rc, int method) {
    switch (rc) {
    case LUXY_RC_ERROR:
        luaL_where(L, 1);
        lua_insert(L, -2);
        lua_concat(L, 2);
        return lua_error(L);
    case LUXY_RC_ERROR_RAW:
        return lua_error(L);
    case LUXY_RC_BUDGET_EXCEEDED:
        return luxy_vm_budget_exceeded(L);
    case LUXY_RC_YIELD:
        return lua_yieldk(L, 0, (lua_KContext)method, luxy_host_continuation);
    case LUXY_RC_YIELD_FOREVER:
        return lua_yield(L, 0);
    default:
        return rc < 0 ? 0 : rc;
    }
}

void luxy_push_object(lua_State *L, int meta_ref, uint64_t token, int32_t kind, int32_t aux) {
    luxy_object *obj = (luxy_object *)lua_newuserdatauv(L, sizeof(luxy_object), 0);
    obj->token = token;
    obj->kind = kind;
    obj->aux = aux;
    lua_rawgeti(L, LUA_REGISTRYINDEX, meta_ref);
    lua_setmetatable(L, -2);
}

void luxy_push_handle(lua_State *L, uint64_t token) {
    lua_pushlightuserdata(L, (void *)(uintptr_t)(LUXY_HANDLE_TAG | token));
}

void luxy_set_handle_metatable(lua_State *L, int meta_ref) {
    lua_pushlightuserdata(L, NULL);
    lua_rawgeti(L, LUA_REGISTRYINDEX, meta_ref);
    lua_setmetatable(L, -2);
    lua_pop(L, 1);
}

int luxy_read_object(lua_State *L, int idx, luxy_object *out) {
    if (lua_type(L, idx) == LUA_TLIGHTUSERDATA) {
        // A handle, or a light userdata of a library (cjson.null is NULL), which is none.
        uint64_t value = (uint64_t)(uintptr_t)lua_touserdata(L, idx);
        if ((value & LUXY_HANDLE_TAG) == 0) return 0;
        out->token = value & ~LUXY_HANDLE_TAG;
        out->kind = LUXY_OBJECT_KIND_HANDLE;
        out->aux = 0;
        return 1;
    }
    // Scripts cannot make userdata of their own (no debug, no io), so a full userdata of
    // this exact size is one of ours.
    // lua_touserdata is NULL for anything but userdata, and a light userdata's raw length
    // is 0: one check of each tells a full userdata of our size.
    void *p = lua_touserdata(L, idx);
    if (p == NULL || lua_rawlen(L, idx) != sizeof(luxy_object)) return 0;
    *out = *(luxy_object *)p;
    return 1;
}

static int luxy_list_next(lua_State *L) {
    lua_Integer i = lua_tointeger(L, lua_upvalueindex(2));
    if (lua_rawgeti(L, lua_upvalueindex(1), i) == LUA_TNIL) return 1;
    lua_rawgeti(L, lua_upvalueindex(1), i + 1);
    lua_pushinteger(L, i + 2);
    lua_replace(L, lua_upvalueindex(2));
    return 2;
}

void luxy_push_list_iterator(lua_State *L) {
    lua_pushinteger(L, 1);
    lua_pushcclosure(L, luxy_list_next, 2);
}

// Like luxy_list_next, and at the end calls upvalue 3 (a host method) with upvalue 4 (the
// object iterated) once, so the host knows the loop is over (Envoy forbids changing a
// header map while an iteration over it is open).
static int luxy_list_next_notifying(lua_State *L) {
    lua_Integer i = lua_tointeger(L, lua_upvalueindex(2));
    if (lua_rawgeti(L, lua_upvalueindex(1), i) == LUA_TNIL) {
        if (!lua_isnil(L, lua_upvalueindex(3))) {
            lua_pushvalue(L, lua_upvalueindex(3));
            lua_pushvalue(L, lua_upvalueindex(4));
            lua_pushnil(L);
            lua_replace(L, lua_upvalueindex(3));
            lua_call(L, 1, 0);
        }
        return 1;
    }
    lua_rawgeti(L, lua_upvalueindex(1), i + 1);
    lua_pushinteger(L, i + 2);
    lua_replace(L, lua_upvalueindex(2));
    return 2;
}

void luxy_push_notifying_list_iterator(lua_State *L) {
    // Stack: list, on_end, object -> upvalues 1, 3, 4 (2 is the position).
    lua_pushinteger(L, 1);
    lua_insert(L, -3);
    lua_pushcclosure(L, luxy_list_next_notifying, 4);
}
