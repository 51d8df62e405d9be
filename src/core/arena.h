/* src/core/arena.h: a growable bump allocator (internal).
 *
 * Memory comes in chunks that grow geometrically, so no one has to guess a size up front; everything is released
 * at once by plast_arena_reset (memory kept for reuse) or plast_arena_release (memory returned). Every block is
 * aligned to PLAST_ARENA_ALIGN bytes, enough for any SIMD load.
 */
#ifndef PLAST_CORE_ARENA_H
#define PLAST_CORE_ARENA_H

#include <stddef.h>

#define PLAST_ARENA_ALIGN 64

typedef struct plast_arena_chunk plast_arena_chunk;

typedef struct plast_arena {
    plast_arena_chunk *head;    /* chunk being filled; older chunks follow via ->next */
    plast_arena_chunk *spare;   /* chunks freed by reset, reused before asking the system */
    size_t min_chunk;           /* size of the first chunk */
    size_t used;                /* bytes handed out since the last reset */
    size_t reserved;            /* bytes held from the system */
} plast_arena;

void plast_arena_init(plast_arena *a, size_t min_chunk);
/* n bytes aligned to PLAST_ARENA_ALIGN, uninitialised; NULL if out of memory or n overflows. */
void *plast_arena_alloc(plast_arena *a, size_t n);
/* Forgets every block but keeps the chunks for reuse. */
void plast_arena_reset(plast_arena *a);
/* Returns all memory to the system. */
void plast_arena_release(plast_arena *a);

#endif
