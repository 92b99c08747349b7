// Per-VM accounting: the counting allocator (memory cap), the count hook (instruction
// budget, cut into slices) and the protected entry points that switch both on while Lua
// code runs.

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
    /// Instructions one resume may run before the phase gives the loop back (0: no slices).
    int64_t slice;
    /// The budget at which the running resume's slice ends. Kept as a level of the budget,
    /// not a count of its own, so that whatever charges the budget (the count hook, pattern
    /// steps, library loops, allocations) uses up the slice too.
    int64_t slice_floor;
    /// The coroutine luxy_resume runs; NULL outside a phase (top-level code at load), where
    /// there are no slices.
    lua_State *phase;
    /// The thread running Lua code in the phase: the phase's coroutine, or one the script
    /// made and resumes (luxy_coroutine.c), which passes the end of a slice up to the phase.
    lua_State *running;
    /// The most bytes of source `load` compiles (the script size limit).
    size_t max_chunk_bytes;
    /// Why the phase's coroutine last yielded.
    enum { LUXY_YIELD_BY_SCRIPT, LUXY_YIELD_SLICE_ENDED } yield_reason;
    /// Whether calls are charged for the values they move (the call hook is on). Off only in
    /// the first resume of a phase, until the phase has run a hook step or a library
    /// function made a long list of values (luxy_vm_charge_calls): before either, no list
    /// is longer than the instructions that made it, so no instruction moves many values.
    /// A small phase then never runs the call hook, which costs at every call it makes
    /// (about 0.5 µs per request with the three bench plugins).
    int charge_calls;
    void *owner;
};

#define LUXY_HOOK_STEP 1000
/// How many slices a phase may run past the end of its slice where it cannot yield.
#define LUXY_UNYIELDABLE_SLICES 2
/// The hook runs every LUXY_HOOK_STEP instructions, and at every function call: a call
/// can carry up to a million arguments (`f(table.unpack(t))`, `g(...)`), copied in one
/// instruction, so calls are charged for what they move.
#define LUXY_HOOK_MASK (LUA_MASKCOUNT | LUA_MASKCALL)
/// The hook of a phase's coroutine before its calls are charged (see `charge_calls`).
#define LUXY_COUNT_ONLY_MASK LUA_MASKCOUNT
/// Arguments a call moves per instruction charged (a copy of a value is cheap, but
/// `while true do g(...) end` with 1,000 arguments ran 150 ns per instruction counted).
#define LUXY_ARGUMENTS_PER_INSTRUCTION 4
/// Bytes an allocation made while Lua code runs may take per instruction charged: copying
/// and filling memory (string.rep, `..`, table.concat, gsub's result) is work the
/// instruction count does not see, one instruction can copy megabytes.
#define LUXY_BYTES_PER_INSTRUCTION 8
#define LUXY_TRACEBACK_KEY "luxy.traceback"

static void luxy_count_hook(lua_State *L, lua_Debug *ar);

// Only the phase's coroutine ever runs without the call hook: threads the script makes get
// it at birth (luxy_vm_arm_new_thread), and top-level code always has it.
static int luxy_hook_mask(const luxy_vm *vm, lua_State *L) {
    return vm->charge_calls || L != vm->phase ? LUXY_HOOK_MASK : LUXY_COUNT_ONLY_MASK;
}

// From now on the phase's calls are charged. Its coroutine runs the count hook at its next
// instruction, which arms both hooks; that hook charges one instruction for the up to
// LUXY_HOOK_STEP that ran since the last, once per phase at most. `rearmed` is a thread
// whose hook the caller sets itself.
static void luxy_start_charging_calls(luxy_vm *vm, lua_State *rearmed) {
    if (vm->charge_calls) return;
    vm->charge_calls = 1;
    if (vm->phase != NULL && vm->phase != rearmed) lua_sethook(vm->phase, luxy_count_hook, LUXY_HOOK_MASK, 1);
}

void luxy_vm_charge_calls(lua_State *L) { luxy_start_charging_calls(luxy_vm_from_state(L), NULL); }

void luxy_vm_arm_new_thread(lua_State *creator, lua_State *thread) {
    int step = lua_gethookcount(creator);
    lua_sethook(thread, luxy_count_hook, LUXY_HOOK_MASK, step > 0 ? step : LUXY_HOOK_STEP);
}

// A charge made in C (an allocation, pattern steps, a library loop) may use up the slice
// between two runs of the count hook, which are up to LUXY_HOOK_STEP instructions apart,
// and an instruction can be a C call that does megabytes of work: then the hook is made to
// run at the phase's next instruction, where the slice ends.
static void luxy_settle(luxy_vm *vm) {
    // Only where the thread can yield there: elsewhere (a sort comparator) the slice can't end
    // early anyway, and a hook at every instruction would only make that code far slower.
    if (vm->running != NULL && vm->slice > 0 && vm->budget <= vm->slice_floor && lua_isyieldable(vm->running)) {
        // Only sets and reads fields of the thread; safe from inside any Lua call or allocation.
        lua_sethook(vm->running, luxy_count_hook, luxy_hook_mask(vm, vm->running), 1);
    }
}

void luxy_vm_charged(lua_State *L) { luxy_settle(luxy_vm_from_state(L)); }

// The allocator cannot raise (it runs inside C functions): it only charges; the count hook
// raises or ends the slice when it next runs.
static void luxy_charge_allocation(luxy_vm *vm, size_t grown) {
    vm->budget -= (int64_t)(grown / LUXY_BYTES_PER_INSTRUCTION);
    luxy_settle(vm);
}

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
    if (nsize > old && vm->enforce) luxy_charge_allocation(vm, nsize - old);
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

static void luxy_arm_hook(luxy_vm *vm, lua_State *L);

static int luxy_raise_budget_exceeded(lua_State *L, int level) {
    // From now on every instruction of this thread fails, so a script cannot swallow the
    // error with pcall and loop on.
    lua_sethook(L, luxy_count_hook, LUXY_HOOK_MASK, 1);
    luaL_where(L, level);
    lua_pushliteral(L, "instruction budget exceeded");
    lua_concat(L, 2);
    return lua_error(L);
}

// The values a call hands the function being entered, where there can be many: the
// arguments of a C function (its whole stack while the hook runs) and the extra arguments
// of a vararg Lua function (found by probing lua_getlocal's negative indices, O(log n),
// which finds nothing for a C function). A Lua function with fixed parameters drops extra
// arguments without copying them.
static int64_t luxy_call_arguments(lua_State *L, lua_Debug *ar) {
    if (!lua_getinfo(L, "u", ar) || !ar->isvararg) return 0;
    int64_t present = 0, absent = 1;
    while (absent <= 2000000 && lua_getlocal(L, ar, (int)-absent) != NULL) {
        lua_pop(L, 1);
        present = absent;
        absent *= 2;
    }
    while (absent - present > 1) {
        int64_t middle = present + (absent - present) / 2;
        if (lua_getlocal(L, ar, (int)-middle) != NULL) {
            lua_pop(L, 1);
            present = middle;
        } else {
            absent = middle;
        }
    }
    return present + lua_gettop(L);
}

static void luxy_count_hook(lua_State *L, lua_Debug *ar) {
    luxy_vm *vm = luxy_vm_from_state(L);
    if (ar->event == LUA_HOOKCALL || ar->event == LUA_HOOKTAILCALL) {
        // A call hook cannot yield: it charges, and the slice ends at the next count hook
        // (made to come at once when this used it up).
        // Every call costs an instruction at least: metamethods that C functions call
        // (table.unpack over a proxy whose __index is rawlen) run no instruction at all.
        vm->budget -= 1 + luxy_call_arguments(L, ar) / LUXY_ARGUMENTS_PER_INSTRUCTION;
        if (vm->budget <= 0) {
            luxy_raise_budget_exceeded(L, 1);
            return;
        }
        luxy_settle(vm);
        return;
    }
    int64_t ran = lua_gethookcount(L);
    vm->budget -= ran;
    if (vm->budget <= 0) {
        luxy_raise_budget_exceeded(L, 0);
        return;
    }
    // A phase that ran a whole step is no small one: its calls are charged from here on.
    luxy_start_charging_calls(vm, L);
    luxy_arm_hook(vm, L);
    if (vm->phase == NULL || vm->slice <= 0 || vm->budget > vm->slice_floor) return;
    // The slice is over. A coroutine the script made yields to Luxy's coroutine.resume,
    // which yields the phase in turn.
    if (lua_isyieldable(L)) {
        vm->yield_reason = LUXY_YIELD_SLICE_ENDED;
        lua_yield(L, 0);
        return;
    }
    // Where the thread cannot yield (inside a C call: table.sort's comparator, gsub's
    // replacement function, a metamethod called from C) it runs on to its next yieldable
    // point, but not for long: past LUXY_UNYIELDABLE_SLICES more slices the phase fails as
    // over budget, so no script holds the loop much longer than a slice.
    if (vm->slice_floor - vm->budget >= vm->slice * LUXY_UNYIELDABLE_SLICES) {
        vm->budget = 0;
        luxy_raise_budget_exceeded(L, 0);
    }
}

int luxy_vm_take_slice_end(lua_State *L) {
    luxy_vm *vm = luxy_vm_from_state(L);
    int ended = vm->yield_reason == LUXY_YIELD_SLICE_ENDED;
    vm->yield_reason = LUXY_YIELD_BY_SCRIPT;
    return ended;
}

int luxy_vm_end_slice(lua_State *L, lua_KContext ctx, lua_KFunction k) {
    luxy_vm_from_state(L)->yield_reason = LUXY_YIELD_SLICE_ENDED;
    return lua_yieldk(L, 0, ctx, k);
}

lua_State *luxy_vm_set_running(lua_State *L, lua_State *thread) {
    luxy_vm *vm = luxy_vm_from_state(L);
    lua_State *previous = vm->running;
    vm->running = thread;
    return previous;
}

int64_t *luxy_vm_budget_slot(lua_State *L) { return &luxy_vm_from_state(L)->budget; }

int luxy_vm_budget_exceeded(lua_State *L) { return luxy_raise_budget_exceeded(L, 1); }

static void luxy_arm_hook(luxy_vm *vm, lua_State *L) {
    int64_t step = LUXY_HOOK_STEP;
    if (vm->budget < step) step = vm->budget;
    // Up to the end of the slice; once past it (the thread could not yield there), the usual
    // step, so code that cannot yield does not run the hook at every instruction.
    int64_t to_slice_end = vm->budget - vm->slice_floor;
    if (vm->slice > 0 && vm->phase != NULL && to_slice_end > 0 && to_slice_end < step) step = to_slice_end;
    lua_sethook(L, luxy_count_hook, luxy_hook_mask(vm, L), step > 0 ? (int)step : 1);
}

luxy_vm *luxy_vm_new(size_t memory_limit, void *owner) {
    luxy_vm *vm = (luxy_vm *)calloc(1, sizeof(luxy_vm));
    if (vm == NULL) return NULL;
    vm->limit = memory_limit;
    vm->owner = owner;
    vm->budget = LUXY_HOOK_STEP * 100;
    vm->charge_calls = 1;
    lua_State *L = lua_newstate(luxy_alloc, vm);
    if (L == NULL) {
        free(vm);
        return NULL;
    }
    vm->L = L;
    // Threads copy the main thread's extra space, so every coroutine finds its VM.
    *(luxy_vm **)lua_getextraspace(L) = vm;
    lua_atpanic(L, luxy_panic);
    // Generational collection: what a request makes (its handles, header maps, strings) dies
    // with it, and a minor collection frees such young objects without sweeping the scripts'
    // tables and closures again, as each incremental cycle does. With the observability
    // modules the collector's share of the proxy's CPU went from 0.66% to 0.31%
    // (perf, 2026-12-05). Scripts cannot switch it back: `collectgarbage` only counts.
    lua_gc(L, LUA_GCGEN, 0, 0);
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
void luxy_vm_set_slice(luxy_vm *vm, int64_t instructions) { vm->slice = instructions > 0 ? instructions : 0; }
void luxy_vm_set_max_chunk_bytes(luxy_vm *vm, size_t bytes) { vm->max_chunk_bytes = bytes; }
size_t luxy_vm_max_chunk_bytes(luxy_vm *vm) { return vm->max_chunk_bytes; }

int luxy_vm_enforcement(luxy_vm *vm, int enforce) {
    int previous = vm->enforce;
    vm->enforce = enforce;
    return previous;
}

int luxy_resume(lua_State *co, lua_State *from, int nargs, int *nresults) {
    luxy_vm *vm = luxy_vm_from_state(co);
    // A host call may resume another phase inside this one: what belongs to the outer
    // resume is put back when the inner one returns.
    int saved = vm->enforce;
    lua_State *saved_phase = vm->phase;
    lua_State *saved_running = vm->running;
    int64_t saved_slice_floor = vm->slice_floor;
    int saved_charge_calls = vm->charge_calls;
    vm->enforce = 1;
    // A phase starting charges its calls once it proves not small (see `charge_calls`); one
    // going on after a wait or a slice does from its first instruction.
    vm->charge_calls = lua_status(co) != LUA_OK;
    vm->phase = co;
    vm->running = co;
    vm->slice_floor = vm->budget - vm->slice;
    vm->yield_reason = LUXY_YIELD_BY_SCRIPT;
    luxy_arm_hook(vm, co);
    int status = lua_resume(co, from, nargs, nresults);
    if (status == LUA_YIELD && vm->yield_reason == LUXY_YIELD_SLICE_ENDED) status = LUXY_RESUME_SLICE_ENDED;
    vm->yield_reason = LUXY_YIELD_BY_SCRIPT;
    vm->enforce = saved;
    vm->phase = saved_phase;
    vm->running = saved_running;
    vm->slice_floor = saved_slice_floor;
    vm->charge_calls = saved_charge_calls;
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
    lua_State *saved_phase = vm->phase;
    lua_State *saved_running = vm->running;
    vm->enforce = 1;
    // Top-level code runs on the main thread, which cannot yield: no slices here.
    vm->phase = NULL;
    vm->running = NULL;
    luxy_arm_hook(vm, L);
    int status = lua_pcall(L, nargs, nresults, base);
    vm->enforce = saved;
    vm->phase = saved_phase;
    vm->running = saved_running;
    lua_remove(L, base);
    return status;
}

void luxy_push_last_traceback(lua_State *L) {
    lua_getfield(L, LUA_REGISTRYINDEX, LUXY_TRACEBACK_KEY);
}
