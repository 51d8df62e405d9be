/* src/core/arena.c: growable bump allocator. */
#include <stdint.h>
#include <stdlib.h>

#include "core/arena.h"

struct plast_arena_chunk {
    plast_arena_chunk *next;
    size_t size; /* usable bytes after the header */
    size_t top;  /* bytes used */
    /* data follows, aligned */
};

#define MAX_GROW_CHUNK ((size_t)32 << 20)
#define HEADER_SIZE ((sizeof(plast_arena_chunk) + PLAST_ARENA_ALIGN - 1) / PLAST_ARENA_ALIGN * PLAST_ARENA_ALIGN)

static unsigned char *chunk_data(plast_arena_chunk *c) { return (unsigned char *)c + HEADER_SIZE; }

void plast_arena_init(plast_arena *a, size_t min_chunk) {
    a->head = NULL;
    a->spare = NULL;
    a->min_chunk = min_chunk < 4096 ? 4096 : min_chunk;
    a->used = 0;
    a->reserved = 0;
}

static plast_arena_chunk *chunk_new(plast_arena *a, size_t need) {
    /* reuse a spare chunk that is large enough */
    for (plast_arena_chunk **pp = &a->spare; *pp; pp = &(*pp)->next) {
        if ((*pp)->size >= need) {
            plast_arena_chunk *c = *pp;
            *pp = c->next;
            c->top = 0;
            return c;
        }
    }
    /* geometric growth up to MAX_GROW_CHUNK; a larger request gets a chunk of its own size */
    size_t size = a->min_chunk;
    if (a->head && a->head->size < MAX_GROW_CHUNK && a->head->size * 2 > size) size = a->head->size * 2;
    if (size > MAX_GROW_CHUNK && size > a->min_chunk) size = MAX_GROW_CHUNK;
    if (size < need) size = need;
    if (size > SIZE_MAX - HEADER_SIZE) return NULL;
    plast_arena_chunk *c = aligned_alloc(PLAST_ARENA_ALIGN, (HEADER_SIZE + size + PLAST_ARENA_ALIGN - 1) /
                                                                PLAST_ARENA_ALIGN * PLAST_ARENA_ALIGN);
    if (!c) return NULL;
    c->size = size;
    c->top = 0;
    c->next = NULL;
    a->reserved += size;
    return c;
}

void *plast_arena_alloc(plast_arena *a, size_t n) {
    if (n > SIZE_MAX - PLAST_ARENA_ALIGN) return NULL;
    size_t need = (n + PLAST_ARENA_ALIGN - 1) / PLAST_ARENA_ALIGN * PLAST_ARENA_ALIGN;
    if (need == 0) need = PLAST_ARENA_ALIGN;
    if (!a->head || a->head->size - a->head->top < need) {
        plast_arena_chunk *c = chunk_new(a, need);
        if (!c) return NULL;
        c->next = a->head;
        a->head = c;
    }
    void *p = chunk_data(a->head) + a->head->top;
    a->head->top += need;
    a->used += need;
    return p;
}

static void free_list(plast_arena_chunk *c);

void plast_arena_reset(plast_arena *a) {
    /* A tape replays much the same requests after every reset. When they took several chunks, the chunks are
     * replaced by one that holds them all: from then on nothing is allocated, and its pages, once touched, stay
     * mapped (fresh pages cost a kernel page fault and a clearing each, which dominated large tapes). */
    const size_t used = a->used;
    const int several = a->head && (a->head->next || a->spare);
    if (several && used > a->head->size) {
        free_list(a->head);
        free_list(a->spare);
        a->head = a->spare = NULL;
        a->reserved = 0;
        plast_arena_chunk *c = chunk_new(a, used + used / 16); /* room for small variations */
        if (c) a->spare = c;
    }
    while (a->head) {
        plast_arena_chunk *c = a->head;
        a->head = c->next;
        c->top = 0;
        c->next = a->spare;
        a->spare = c;
    }
    a->used = 0;
}

static void free_list(plast_arena_chunk *c) {
    while (c) {
        plast_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
}

void plast_arena_release(plast_arena *a) {
    free_list(a->head);
    free_list(a->spare);
    a->head = a->spare = NULL;
    a->used = a->reserved = 0;
}
