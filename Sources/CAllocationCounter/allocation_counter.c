// Counts every allocation in the process by defining the malloc family here and forwarding
// to glibc's own implementation (`__libc_*`), which is how glibc documents replacing malloc.
// The definitions live in the executable, and the dynamic linker resolves the references of
// every shared library (libswiftCore, Foundation, liblua) to the executable's symbols first,
// so Swift, NIO, Lua and libc's internal callers are all counted. Forwarding to `__libc_*`
// rather than `dlsym(RTLD_NEXT, ...)` needs no lookup at start-up, where dlsym itself can
// call calloc.
//
// The counters are relaxed atomics: the process has several threads, and the counts are only
// read after the measured requests have finished.

#include "CAllocationCounter.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t count, size_t size);
extern void *__libc_realloc(void *pointer, size_t size);
extern void __libc_free(void *pointer);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void *__libc_valloc(size_t size);
extern void *__libc_pvalloc(size_t size);

static _Atomic int64_t allocations;
static _Atomic int64_t frees;
static _Atomic int64_t reallocations;

static inline void count(_Atomic int64_t *counter) {
    atomic_fetch_add_explicit(counter, 1, memory_order_relaxed);
}

int64_t luxy_alloc_count(void) { return atomic_load_explicit(&allocations, memory_order_relaxed); }
int64_t luxy_free_count(void) { return atomic_load_explicit(&frees, memory_order_relaxed); }
int64_t luxy_realloc_count(void) { return atomic_load_explicit(&reallocations, memory_order_relaxed); }

void luxy_alloc_reset(void) {
    atomic_store_explicit(&allocations, 0, memory_order_relaxed);
    atomic_store_explicit(&frees, 0, memory_order_relaxed);
    atomic_store_explicit(&reallocations, 0, memory_order_relaxed);
}

void *malloc(size_t size) {
    count(&allocations);
    return __libc_malloc(size);
}

void *calloc(size_t count_, size_t size) {
    count(&allocations);
    return __libc_calloc(count_, size);
}

void *realloc(void *pointer, size_t size) {
    // Lua allocates through realloc(NULL, n) and frees through its own size-0 path, so
    // realloc must be split into the three things it can mean.
    if (pointer == NULL) {
        count(&allocations);
    } else if (size == 0) {
        count(&frees);
    } else {
        count(&reallocations);
    }
    return __libc_realloc(pointer, size);
}

void free(void *pointer) {
    if (pointer != NULL) count(&frees);
    __libc_free(pointer);
}

int posix_memalign(void **result, size_t alignment, size_t size) {
    // The checks glibc makes: a power of two and a multiple of sizeof(void *).
    if (alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0 || alignment == 0) {
        return EINVAL;
    }
    count(&allocations);
    void *pointer = __libc_memalign(alignment, size);
    if (pointer == NULL) return ENOMEM;
    *result = pointer;
    return 0;
}

void *aligned_alloc(size_t alignment, size_t size) {
    count(&allocations);
    return __libc_memalign(alignment, size);
}

void *memalign(size_t alignment, size_t size) {
    count(&allocations);
    return __libc_memalign(alignment, size);
}

void *valloc(size_t size) {
    count(&allocations);
    return __libc_valloc(size);
}

void *pvalloc(size_t size) {
    count(&allocations);
    return __libc_pvalloc(size);
}
