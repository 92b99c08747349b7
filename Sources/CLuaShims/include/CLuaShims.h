#ifndef LUXY_CLUASHIMS_H
#define LUXY_CLUASHIMS_H

// The only C in Luxy. Swift cannot import Lua's macros, and must never be unwound by
// lua_error/lua_yield (both are longjmps), so everything that raises or yields lives here.

#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stddef.h>
#include <stdint.h>

// Return codes of the Swift host dispatch; non-negative values are result counts.
enum {
    /// Raise the message on top of the stack, prefixed with the caller's "chunk:line:".
    LUXY_RC_ERROR = -1,
    /// Suspend the coroutine; on resume the dispatch runs again with `resumed == 1`.
    LUXY_RC_YIELD = -2,
    /// Suspend the coroutine for good (respond()): it is never resumed.
    LUXY_RC_YIELD_FOREVER = -3,
    /// Raise the value on top of the stack as is.
    LUXY_RC_ERROR_RAW = -4,
    /// The host charged the instruction budget for its work and used it up: raise the
    /// budget error as the count hook does.
    LUXY_RC_BUDGET_EXCEEDED = -5,
};

/// Swift's entry point for every host method: `method` is the closure's upvalue.
typedef int (*luxy_host_dispatch_fn)(lua_State *L, int method, int resumed);

/// Registered once per process, before any VM runs Lua.
void luxy_set_host_dispatch(luxy_host_dispatch_fn fn);

/// The lua_CFunction behind every host method; upvalue 1 is the method id.
int luxy_host_trampoline(lua_State *L);

/// Pushes a host method closure for `method`.
void luxy_push_host_method(lua_State *L, int method);

// MARK: - VM: counting allocator, budget, extra space

typedef struct luxy_vm luxy_vm;

/// A new state whose allocator counts bytes and enforces `memory_limit` while Lua code runs.
/// `owner` is returned by luxy_vm_owner for any thread of the state. NULL if out of memory.
luxy_vm *luxy_vm_new(size_t memory_limit, void *owner);
void luxy_vm_close(luxy_vm *vm);
void luxy_vm_set_owner(luxy_vm *vm, void *owner);
lua_State *luxy_vm_state(luxy_vm *vm);
size_t luxy_vm_memory_in_use(luxy_vm *vm);
luxy_vm *luxy_vm_from_state(lua_State *L);
void *luxy_vm_owner(lua_State *L);
void luxy_vm_set_budget(luxy_vm *vm, int64_t instructions);
int64_t luxy_vm_budget(luxy_vm *vm);
/// Instructions one luxy_resume may run before the coroutine yields back to the host
/// (luxy_resume then returns LUXY_RESUME_SLICE_ENDED); 0 runs the whole budget at once.
void luxy_vm_set_slice(luxy_vm *vm, int64_t instructions);
/// The most bytes of source `load` compiles in one chunk (0: no limit).
void luxy_vm_set_max_chunk_bytes(luxy_vm *vm, size_t bytes);
size_t luxy_vm_max_chunk_bytes(luxy_vm *vm);
/// Switches the memory cap on or off; returns the previous setting.
int luxy_vm_enforcement(luxy_vm *vm, int enforce);

/// The phase's instruction budget, for C functions that charge their own work to it
/// (the pattern matcher): a budget at or below zero is exceeded.
int64_t *luxy_vm_budget_slot(lua_State *L);
/// For a resume of a coroutine the script made (luxy_coroutine.c): whether the coroutine
/// yielded because the slice ended (and forgets it).
int luxy_vm_take_slice_end(lua_State *L);
/// Yields `L` because the slice ended, to be continued by `k`: luxy_resume reports it as
/// LUXY_RESUME_SLICE_ENDED once it reaches the phase's coroutine.
int luxy_vm_end_slice(lua_State *L, lua_KContext ctx, lua_KFunction k);
/// Makes `thread` the one running Lua code (for the charges made in C); returns the last.
lua_State *luxy_vm_set_running(lua_State *L, lua_State *thread);
/// Replaces coroutine.create, resume and wrap in the library table at `library` with copies
/// of Lua's that pass the end of a slice up to the phase and charge the new coroutine's
/// calls (luxy_coroutine.c).
void luxy_install_coroutine_functions(lua_State *L, int library);
/// Called by a C function that charged the budget itself, before it returns: when the charge
/// used up the running slice, the slice ends at the phase's next instruction.
void luxy_vm_charged(lua_State *L);
/// A library function made a long list of values (table.unpack, string.byte...): from now on
/// the phase's calls are charged for the values they move, as a longer phase's are.
void luxy_vm_charge_calls(lua_State *L);
/// Gives a coroutine the script made the hooks every thread but a phase's own starts with.
void luxy_vm_arm_new_thread(lua_State *creator, lua_State *thread);
/// Raises "instruction budget exceeded" at the caller of the running C function, and makes
/// every further instruction of the thread fail as the count hook does. Does not return.
int luxy_vm_budget_exceeded(lua_State *L);

/// What luxy_resume returns when the coroutine used up its slice and yielded to give the
/// event loop back: resume it again (with no arguments) to go on. Not a Lua status.
enum { LUXY_RESUME_SLICE_ENDED = 100 };

/// lua_resume with the memory cap and the instruction budget in force. The coroutine yields
/// by itself when its slice runs out, at a point where it can (LUXY_RESUME_SLICE_ENDED),
/// told apart from the yields of host calls and scripts (LUA_YIELD).
int luxy_resume(lua_State *co, lua_State *from, int nargs, int *nresults);
/// lua_pcall with the memory cap and instruction budget in force; a traceback of the
/// failure is left in the registry (read it with luxy_push_last_traceback).
int luxy_pcall(lua_State *L, int nargs, int nresults);
void luxy_push_last_traceback(lua_State *L);

/// Compiles `len` bytes of text at `source` as `chunkname` and gives it a fresh script
/// environment (see luxy_push_environment) whose `config` is the value on top of the stack.
/// Replaces that value with the chunk, then the environment. Everything runs in a protected
/// call with the memory cap on, so a script too large to compile is an error, never a panic:
/// returns a Lua status, the error message on top of the stack instead when not LUA_OK.
int luxy_load_script(lua_State *L, const char *source, size_t len, const char *chunkname, int globals_meta_ref);

// MARK: - Sandbox

/// Opens the allowed libraries into the global table and strips what scripts must not
/// reach. Protected: returns a Lua status, error message on the stack when not LUA_OK.
int luxy_open_sandbox(lua_State *L);
/// Replaces find, match, gmatch and gsub in the library table at `library` with copies of
/// Lua's that run under a step budget (luxy_pattern.c).
void luxy_install_pattern_functions(lua_State *L, int library);
/// Replaces table.insert, remove, move and concat in the table library at `table_library`
/// and string.rep in the one at `string_library` with copies of Lua's that charge their
/// loops to the instruction budget (luxy_library.c).
void luxy_install_library_functions(lua_State *L, int table_library, int string_library);
/// Replaces table.unpack, string.byte, string.unpack and utf8.codepoint with Lua's own
/// that make the phase's calls charged once they return a long list (luxy_lists.c).
void luxy_install_list_functions(lua_State *L, int table_library, int string_library, int utf8_library);
// string.format writing plain %d/%i/%x/%X, %s and %% itself; every other format is Lua's own.
void luxy_install_format(lua_State *L, int string_library);
/// Pushes a fresh script environment: globals fall back to the sandbox, `_G` is the
/// environment itself and `load` defaults to it. `globals_meta_ref` is a registry ref to
/// the shared metatable `{__index = globals}`.
void luxy_push_environment(lua_State *L, int globals_meta_ref);
/// Pushes a new table with the fields of the table at `idx` (raw reads and writes).
void luxy_push_shallow_copy(lua_State *L, int idx);
/// Pops a table whose [1],[2],[3],[4]... are key/value pairs; pushes an iterator function
/// over them (what a __pairs metamethod returns).
void luxy_push_list_iterator(lua_State *L);
/// Pops a pair list as above, a function and an object; pushes an iterator over the list
/// that, when it reaches the end, calls the function once with the object.
void luxy_push_notifying_list_iterator(lua_State *L);

// MARK: - require and built-in modules (luxy_require.c, luxy_json.c)

/// Makes the global `require`, with empty tables of libraries, built-in modules and loaded
/// values in the registry. `globals_meta_ref` as for luxy_push_environment.
void luxy_install_require(lua_State *L, int globals_meta_ref);
/// Adds a library `require(name)` compiles as `chunkname` (say "@lib/name.lua") when first asked.
void luxy_add_library_source(lua_State *L, const char *name, const char *source, size_t len, const char *chunkname);
/// Pops a table: what `require(name)` returns a shallow copy of.
void luxy_add_builtin_module(lua_State *L, const char *name);
/// Pushes the list of requires made so far: {chunk, name, line} per call.
void luxy_push_require_edges(lua_State *L);
/// Adds the built-in modules `cjson` and `cjson.safe` (Debian's lua-cjson), bounded by
/// `max_json_bytes`. Protected: returns a Lua status, error message on the stack when not LUA_OK.
int luxy_open_json(lua_State *L, size_t max_json_bytes);
/// Stock lua-cjson's opener, unbounded: for a plain Lua state that runs no plugin (the test
/// files of `luxy test` decode access-log lines with it), never for a sandboxed VM.
int luaopen_cjson(lua_State *L);
/// Pushes a read-only view of the table at `table` (and of its sub-tables, replaced in it by
/// their views): reads go through, writes raise (luxy_readonly.c).
void luxy_push_readonly(lua_State *L, int table);

// MARK: - Host objects

/// The block behind every handle userdata. Validity is checked by `token`: it names the
/// phase run that created the object, so nothing dangles after the run ends.
typedef struct luxy_object {
    uint64_t token;
    int32_t kind;
    int32_t aux;
} luxy_object;

/// Pushes a new object userdata with the metatable stored at registry ref `meta_ref`.
void luxy_push_object(lua_State *L, int meta_ref, uint64_t token, int32_t kind, int32_t aux);
/// Copies the object at `idx` into `out` and returns 1, or returns 0 when the value is no
/// luxy object. A copy, not a pointer into the userdata: a phase handle (a light userdata,
/// below) has no block to point into.
int luxy_read_object(lua_State *L, int idx, luxy_object *out);

/// `LuaObjectKind.handle`: the one kind made as a light userdata.
#define LUXY_OBJECT_KIND_HANDLE 0
/// A phase's handle is a light userdata whose value is its token with this bit set: every
/// phase needs one, and a full userdata cost an allocation and its collection each time.
/// Its identity is its token, so a handle kept past its phase is still told apart (Envoy's
/// "object used outside of proper scope"); real pointers never have the top bit set.
#define LUXY_HANDLE_TAG 0x8000000000000000ULL
/// Pushes the handle of the phase run named by `token` (below 2^63).
void luxy_push_handle(lua_State *L, uint64_t token);
/// Makes the metatable at registry ref `meta_ref` that of every light userdata: the handles'.
void luxy_set_handle_metatable(lua_State *L, int meta_ref);

// MARK: - Macro wrappers

// MARK: - Cycle counter

/// The CPU's cycle counter where reading it is one instruction (x86-64's TSC, AArch64's
/// virtual counter), else 0: the phase clock (LuaPhaseClock) uses it only once it has checked
/// the counter runs at a constant rate on every CPU and worked out its rate.
static inline uint64_t luxy_cycle_counter(void) {
#if defined(__x86_64__)
    return __builtin_ia32_rdtsc();
#elif defined(__aarch64__)
    uint64_t value;
    __asm__ __volatile__("mrs %0, cntvct_el0" : "=r"(value));
    return value;
#else
    return 0;
#endif
}

static inline int luxy_registry_index(void) { return LUA_REGISTRYINDEX; }
static inline void luxy_pop(lua_State *L, int n) { lua_pop(L, n); }
static inline void luxy_newtable(lua_State *L) { lua_newtable(L); }
static inline void luxy_insert(lua_State *L, int idx) { lua_insert(L, idx); }
static inline void luxy_remove(lua_State *L, int idx) { lua_remove(L, idx); }
static inline void luxy_replace(lua_State *L, int idx) { lua_replace(L, idx); }
static inline int luxy_upvalue_index(int i) { return lua_upvalueindex(i); }
static inline void luxy_pushglobaltable(lua_State *L) { lua_pushglobaltable(L); }
static inline const char *luxy_tostring(lua_State *L, int idx) { return lua_tostring(L, idx); }
static inline lua_Integer luxy_tointeger(lua_State *L, int idx) { return lua_tointeger(L, idx); }
static inline int luxy_isnoneornil(lua_State *L, int idx) { return lua_isnoneornil(L, idx); }
static inline void *luxy_getextraspace(lua_State *L) { return lua_getextraspace(L); }
static inline void luxy_full_gc(lua_State *L) { lua_gc(L, LUA_GCCOLLECT); }
static inline void luxy_pushcfunction(lua_State *L, lua_CFunction f) { lua_pushcfunction(L, f); }
static inline int luxy_loadbuffer(lua_State *L, const char *buf, size_t len, const char *name, const char *mode) {
    return luaL_loadbufferx(L, buf, len, name, mode);
}

#endif
