// Per-VM accounting: the counting allocator (memory cap), the count hook (instruction
// budget) and the protected entry points that switch both on while Lua code runs.

#include "CLuaShims.h"

#include <stdlib.h>

struct luxy_vm {
    lua_State *L;
    size_t used;
    size_t limit;
    // Non-zero while Lua code runs; zero while Swift manipulates the state, so that an
    // allocation made by Swift can never fail with a longjmp through a Swift frame.
    int enforce;
    int64_t budget;
    void *owner;
};

#define LUXY_HOOK_STEP 1000
#define LUXY_TRACEBACK_KEY "luxy.traceback"

static void *luxy_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    luxy_vm *vm = (luxy_vm *)ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        vm->used -= old;
        return NULL;
    }
    // Shrinking must never fail (Lua relies on it), so only growth is checked.
    if (nsize > old && vm->enforce && vm->used - old + nsize > vm->limit) return NULL;
    void *p = realloc(ptr, nsize);
    if (p == NULL) return NULL;
    vm->used = vm->used - old + nsize;
    return p;
}

static int luxy_panic(lua_State *L) {
    // Only reachable for a real out-of-memory outside any protected call.
    const char *msg = lua_tostring(L, -1);
    (void)msg;
    abort();
    return 0;
}

luxy_vm *luxy_vm_from_state(lua_State *L) { return *(luxy_vm **)lua_getextraspace(L); }

void *luxy_vm_owner(lua_State *L) { return luxy_vm_from_state(L)->owner; }

static void luxy_count_hook(lua_State *L, lua_Debug *ar);

static int luxy_raise_budget_exceeded(lua_State *L, int level) {
    // From now on every instruction of this thread fails, so a script cannot swallow the
    // error with pcall and loop on.
    lua_sethook(L, luxy_count_hook, LUA_MASKCOUNT, 1);
    luaL_where(L, level);
    lua_pushliteral(L, "instruction budget exceeded");
    lua_concat(L, 2);
    return lua_error(L);
}

static void luxy_count_hook(lua_State *L, lua_Debug *ar) {
    (void)ar;
    luxy_vm *vm = luxy_vm_from_state(L);
    vm->budget -= lua_gethookcount(L);
    if (vm->budget > 0) return;
    luxy_raise_budget_exceeded(L, 0);
}

int64_t *luxy_vm_budget_slot(lua_State *L) { return &luxy_vm_from_state(L)->budget; }

int luxy_vm_budget_exceeded(lua_State *L) { return luxy_raise_budget_exceeded(L, 1); }

static void luxy_arm_hook(luxy_vm *vm, lua_State *L) {
    int step = LUXY_HOOK_STEP;
    if (vm->budget < step) step = vm->budget > 0 ? (int)vm->budget : 1;
    lua_sethook(L, luxy_count_hook, LUA_MASKCOUNT, step);
}

luxy_vm *luxy_vm_new(size_t memory_limit, void *owner) {
    luxy_vm *vm = (luxy_vm *)calloc(1, sizeof(luxy_vm));
    if (vm == NULL) return NULL;
    vm->limit = memory_limit;
    vm->owner = owner;
    vm->budget = LUXY_HOOK_STEP * 100;
    lua_State *L = lua_newstate(luxy_alloc, vm);
    if (L == NULL) {
        free(vm);
        return NULL;
    }
    vm->L = L;
    // Threads copy the main thread's extra space, so every coroutine finds its VM.
    *(luxy_vm **)lua_getextraspace(L) = vm;
    lua_atpanic(L, luxy_panic);
    // Threads inherit the hook too: finalizers run outside a phase stay bounded.
    luxy_arm_hook(vm, L);
    return vm;
}

void luxy_vm_close(luxy_vm *vm) {
    if (vm == NULL) return;
    vm->enforce = 0;
    lua_close(vm->L);
    free(vm);
}

lua_State *luxy_vm_state(luxy_vm *vm) { return vm->L; }
void luxy_vm_set_owner(luxy_vm *vm, void *owner) { vm->owner = owner; }
size_t luxy_vm_memory_in_use(luxy_vm *vm) { return vm->used; }
void luxy_vm_set_budget(luxy_vm *vm, int64_t instructions) { vm->budget = instructions; }
int64_t luxy_vm_budget(luxy_vm *vm) { return vm->budget; }

int luxy_vm_enforcement(luxy_vm *vm, int enforce) {
    int previous = vm->enforce;
    vm->enforce = enforce;
    return previous;
}

int luxy_resume(lua_State *co, lua_State *from, int nargs, int *nresults) {
    luxy_vm *vm = luxy_vm_from_state(co);
    int saved = vm->enforce;
    vm->enforce = 1;
    luxy_arm_hook(vm, co);
    int status = lua_resume(co, from, nargs, nresults);
    vm->enforce = saved;
    return status;
}

static int luxy_message_handler(lua_State *L) {
    luxy_vm *vm = luxy_vm_from_state(L);
    vm->enforce = 0;
    luaL_traceback(L, L, NULL, 1);
    lua_setfield(L, LUA_REGISTRYINDEX, LUXY_TRACEBACK_KEY);
    return 1;
}

int luxy_pcall(lua_State *L, int nargs, int nresults) {
    luxy_vm *vm = luxy_vm_from_state(L);
    int base = lua_gettop(L) - nargs;
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, LUXY_TRACEBACK_KEY);
    lua_pushcfunction(L, luxy_message_handler);
    lua_insert(L, base);
    int saved = vm->enforce;
    vm->enforce = 1;
    luxy_arm_hook(vm, L);
    int status = lua_pcall(L, nargs, nresults, base);
    vm->enforce = saved;
    lua_remove(L, base);
    return status;
}

void luxy_push_last_traceback(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, LUXY_TRACEBACK_KEY);
}
