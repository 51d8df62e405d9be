/* fuzz/fuzz_util.h: what the harnesses share: a private scratch folder per process, inputs split into files.
 *
 * A harness gets one byte string from libFuzzer. Loaders that read several files take it as parts separated by
 * FUZZ_SEP (the seeds in fuzz/seeds.c are written that way), so the fuzzer mutates every file and their sizes. */
#ifndef PLAST_FUZZ_UTIL_H
#define PLAST_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FUZZ_SEP "\n@@plast-part@@\n"

/* this process's scratch folder, made on first use (a fuzzing job runs one process per worker) */
static inline const char *fuzz_dir(void) {
    static char dir[64] = "";
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/plast-fuzz-XXXXXX");
        if (!mkdtemp(dir)) abort();
    }
    return dir;
}

/* writes n bytes to <fuzz_dir>/<name> (folders under it must exist); returns the path in a static buffer */
static inline const char *fuzz_file(const char *name, const uint8_t *data, size_t n) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (n && fwrite(data, 1, n, f) != n) abort();
    fclose(f);
    return path;
}

/* splits data at FUZZ_SEP into at most k parts (the rest empty): starts and lengths */
static inline int fuzz_split(const uint8_t *data, size_t n, int k, const uint8_t **part, size_t *len) {
    const size_t sl = strlen(FUZZ_SEP);
    int got = 0;
    size_t at = 0;
    for (int i = 0; i < k; i++) part[i] = data + n, len[i] = 0;
    while (got < k) {
        const uint8_t *hit = NULL;
        for (size_t j = at; j + sl <= n && got < k - 1; j++)
            if (memcmp(data + j, FUZZ_SEP, sl) == 0) {
                hit = data + j;
                break;
            }
        part[got] = data + at;
        len[got] = hit ? (size_t)(hit - (data + at)) : n - at;
        got++;
        if (!hit) break;
        at = (size_t)(hit - data) + sl;
    }
    return got;
}

#endif
