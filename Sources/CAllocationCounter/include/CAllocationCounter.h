#ifndef C_ALLOCATION_COUNTER_H
#define C_ALLOCATION_COUNTER_H

#include <stdint.h>

// Counters kept by the malloc family defined in allocation_counter.c. Only the
// `luxy-alloc-counter` executable links this target: linked into anything else it would
// replace that program's malloc too.

/// Allocations since the last reset: malloc, calloc, posix_memalign, aligned_alloc,
/// memalign, valloc, pvalloc, and realloc of NULL.
int64_t luxy_alloc_count(void);
/// Frees since the last reset: free of a non-NULL pointer, and realloc to size 0.
int64_t luxy_free_count(void);
/// Reallocations since the last reset: realloc of a non-NULL pointer to a non-zero size
/// (a buffer that grows; not an allocation, but worth seeing).
int64_t luxy_realloc_count(void);
/// Sets all three counters to zero.
void luxy_alloc_reset(void);

#endif
