// coroutine.resume and coroutine.wrap (lcorolib.c's) that pass the end of a slice up: when
// a coroutine the script made yields because the slice ended, the resume yields the thread
// that called it too, up to the phase's coroutine, which gives the event loop back. Resumed
// later, each goes on resuming its coroutine where it stopped. Without this a script could
// keep its loop for its whole budget by looping inside a coroutine of its own. Where the
// caller cannot yield (a resume inside a table.sort comparator, say), the coroutine is
// resumed again at once and runs on under the budget. Results and errors are stock Lua's.
// coroutine.create and wrap also give the new coroutine the call hook (see luxy_co_create).

#include "CLuaShims.h"

enum { LUXY_CO_RESUME = 1, LUXY_CO_WRAP = 2 };

static lua_State *luxy_get_co(lua_State *L, lua_KContext kind) {
    if (kind == LUXY_CO_WRAP) return lua_tothread(L, lua_upvalueindex(1));
    lua_State *co = lua_tothread(L, 1);
    luaL_argexpected(L, co, 1, "coroutine");
    return co;
}

static int luxy_co_finish(lua_State *L, int status, lua_KContext kind);

// Resumes `co` with `narg` values already moved onto it, and finishes or passes the end of
// the slice up.
static int luxy_co_run(lua_State *L, lua_State *co, int narg, lua_KContext kind) {
    int nres = 0;
    lua_State *previous = luxy_vm_set_running(L, co);
    int status = lua_resume(co, L, narg, &nres);
    while (status == LUA_YIELD && luxy_vm_take_slice_end(L)) {
        if (lua_isyieldable(L)) {
            luxy_vm_set_running(L, previous);
            return luxy_vm_end_slice(L, kind, luxy_co_finish);
        }
        status = lua_resume(co, L, 0, &nres);
    }
    luxy_vm_set_running(L, previous);
    if (status == LUA_OK || status == LUA_YIELD) {
        if (!lua_checkstack(L, nres + 1)) {
            lua_pop(co, nres);
            lua_pushliteral(L, "too many results to resume");
            return -1;
        }
        lua_xmove(co, L, nres);
        return nres;
    }
    lua_xmove(co, L, 1);
    return -1;
}

// The outcome as lcorolib.c's luaB_coresume and auxwrap give it.
static int luxy_co_outcome(lua_State *L, lua_State *co, int r, lua_KContext kind) {
    if (kind == LUXY_CO_RESUME) {
        if (r < 0) {
            lua_pushboolean(L, 0);
            lua_insert(L, -2);
            return 2;
        }
        lua_pushboolean(L, 1);
        lua_insert(L, -(r + 1));
        return r + 1;
    }
    if (r < 0) {
        int stat = lua_status(co);
        if (stat != LUA_OK && stat != LUA_YIELD) {
            stat = lua_resetthread(co);
            lua_xmove(co, L, 1);
        }
        if (stat != LUA_ERRMEM && lua_type(L, -1) == LUA_TSTRING) {
            luaL_where(L, 1);
            lua_insert(L, -2);
            lua_concat(L, 2);
        }
        return lua_error(L);
    }
    return r;
}

// Continues after the phase was resumed: the coroutine goes on where its slice ended.
static int luxy_co_finish(lua_State *L, int status, lua_KContext kind) {
    (void)status;
    lua_State *co = luxy_get_co(L, kind);
    return luxy_co_outcome(L, co, luxy_co_run(L, co, 0, kind), kind);
}

static int luxy_co_start(lua_State *L, lua_KContext kind) {
    lua_State *co = luxy_get_co(L, kind);
    int narg = kind == LUXY_CO_RESUME ? lua_gettop(L) - 1 : lua_gettop(L);
    if (!lua_checkstack(co, narg)) {
        lua_pushliteral(L, "too many arguments to resume");
        return luxy_co_outcome(L, co, -1, kind);
    }
    lua_xmove(L, co, narg);
    return luxy_co_outcome(L, co, luxy_co_run(L, co, narg, kind), kind);
}

static int luxy_co_resume(lua_State *L) { return luxy_co_start(L, LUXY_CO_RESUME); }

static int luxy_co_auxwrap(lua_State *L) { return luxy_co_start(L, LUXY_CO_WRAP); }

// Pushes a new coroutine of the function at 1 (lcorolib.c's luaB_cocreate). A new thread
// copies its creator's hooks, and a phase's coroutine may not charge its calls yet (luxy_vm.c's
// `charge_calls`): a coroutine the script makes charges them from birth.
static int luxy_co_create(lua_State *L) {
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State *co = lua_newthread(L);
    luxy_vm_arm_new_thread(L, co);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    return 1;
}

static int luxy_co_wrap(lua_State *L) {
    luxy_co_create(L);
    lua_pushcclosure(L, luxy_co_auxwrap, 1);
    return 1;
}

void luxy_install_coroutine_functions(lua_State *L, int library) {
    library = lua_absindex(L, library);
    lua_pushcfunction(L, luxy_co_create);
    lua_setfield(L, library, "create");
    lua_pushcfunction(L, luxy_co_resume);
    lua_setfield(L, library, "resume");
    lua_pushcfunction(L, luxy_co_wrap);
    lua_setfield(L, library, "wrap");
}
