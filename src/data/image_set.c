/* src/data/image_set.c: the image set container: classes, splits, statistics, resizing. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image_resize.h>

#include "core/err.h"
#include "data/image_set.h"
#include "core/fileio.h"

void image_set_init(image_set *s, int64_t size, int64_t channels) {
    memset(s, 0, sizeof *s);
    s->size = size, s->channels = channels;
}

void image_set_free(image_set *s) {
    free(s->pixels);
    free(s->first);
    free(s->count);
    free(s->split);
    free(s->names);
    memset(s, 0, sizeof *s);
}


/* grows a buffer to hold at least `need` items of `size` bytes, doubling */
static int grow(void **buf, int64_t *cap, int64_t need, size_t size) {
    if (need <= *cap) return 1;
    int64_t n = *cap ? *cap : 16;
    while (n < need) n *= 2;
    void *p = realloc(*buf, (size_t)n * size);
    if (!p) return 0;
    *buf = p;
    *cap = n;
    return 1;
}

unsigned char *image_set_add_class(image_set *s, const char *name, int64_t n, plast_err *err) {
    const int64_t c = s->n_classes, bytes = s->size * s->size * s->channels;
    int64_t cap = s->cap_classes;
    int ok = grow((void **)&s->first, &cap, c + 1, sizeof(int64_t));
    cap = s->cap_classes;
    ok = ok && grow((void **)&s->count, &cap, c + 1, sizeof(int64_t));
    cap = s->cap_classes;
    ok = ok && grow((void **)&s->split, &cap, c + 1, 1);
    cap = s->cap_classes;
    ok = ok && grow((void **)&s->names, &cap, c + 1, IMAGE_CLASS_NAME_MAX);
    if (ok) s->cap_classes = cap;
    int64_t cap_px = s->cap_images;
    ok = ok && grow((void **)&s->pixels, &cap_px, s->n_images + n, (size_t)bytes);
    if (!ok) {
        plast_err_set(err, PLAST_ERR_NOMEM, "images: out of memory for %lld images of %lld x %lld x %lld",
                      (long long)(s->n_images + n), (long long)s->size, (long long)s->size, (long long)s->channels);
        return NULL;
    }
    s->cap_images = cap_px;
    s->first[c] = s->n_images, s->count[c] = n, s->split[c] = 0;
    snprintf(s->names[c], IMAGE_CLASS_NAME_MAX, "%s", name);
    s->n_classes++;
    s->n_images += n;
    return s->pixels + s->first[c] * bytes;
}

void image_set_stats(image_set *s) {
    const int64_t C = s->channels, px = s->size * s->size;
    double sum[4] = {0}, sq[4] = {0}, n = 0;
    for (int64_t c = 0; c < s->n_classes; c++) {
        if (s->split[c] != 0) continue;
        const unsigned char *p = s->pixels + s->first[c] * px * C;
        for (int64_t i = 0; i < s->count[c] * px; i++)
            for (int64_t ch = 0; ch < C; ch++) {
                double v = p[i * C + ch] / 255.0;
                sum[ch] += v, sq[ch] += v * v;
            }
        n += (double)(s->count[c] * px);
    }
    for (int64_t ch = 0; ch < C; ch++) {
        s->mean[ch] = n > 0 ? sum[ch] / n : 0.5;
        double var = n > 0 ? sq[ch] / n - s->mean[ch] * s->mean[ch] : 0;
        s->std[ch] = var > 1e-8 ? sqrt(var) : 1;
    }
}

int64_t image_set_split_count(const image_set *s, int split) {
    int64_t n = 0;
    for (int64_t c = 0; c < s->n_classes; c++) n += s->split[c] == split;
    return n;
}

plast_status image_set_split_file(image_set *s, const char *path, plast_err *err) {
    unsigned char *buf;
    size_t size;
    plast_status st = plast_file_read_all(path, &buf, &size, err);
    if (st != PLAST_OK) return plast_err_prefix(err, st, "task.split_file: ");
    int8_t *seen = calloc((size_t)s->n_classes + 1, 1);
    if (!seen) {
        free(buf);
        return plast_err_set(err, PLAST_ERR_NOMEM, "%s: out of memory", path);
    }
    int line_no = 0;
    char *save = NULL;
    for (char *line = strtok_r((char *)buf, "\n", &save); line && st == PLAST_OK; line = strtok_r(NULL, "\n", &save)) {
        line_no++;
        while (*line == ' ' || *line == '\t') line++;
        size_t len = strlen(line);
        while (len && (line[len - 1] == '\r' || line[len - 1] == ' ')) line[--len] = '\0';
        if (!*line || *line == '#') continue;
        char *name = strpbrk(line, " \t");
        int split = -1;
        if (name) {
            *name++ = '\0';
            while (*name == ' ' || *name == '\t') name++;
            split = !strcmp(line, "train") ? 0 : !strcmp(line, "val") ? 1 : !strcmp(line, "test") ? 2 : -1;
        }
        if (split < 0 || !*name) {
            st = plast_err_set(err, PLAST_ERR_FORMAT, "%s:%d: expected \"train|val|test <class name>\"", path, line_no);
            break;
        }
        int64_t c = 0;
        while (c < s->n_classes && strcmp(s->names[c], name) != 0) c++;
        if (c == s->n_classes)
            st = plast_err_set(err, PLAST_ERR_MISMATCH, "%s:%d: no class \"%s\" in the data", path, line_no, name);
        else
            s->split[c] = (int8_t)split, seen[c] = 1;
    }
    for (int64_t c = 0; c < s->n_classes && st == PLAST_OK; c++)
        if (!seen[c]) st = plast_err_set(err, PLAST_ERR_MISMATCH, "%s: class \"%s\" is in no split", path, s->names[c]);
    free(seen);
    free(buf);
    return st;
}

plast_status image_set_resize(image_set *s, int64_t size, plast_err *err) {
    if (size == s->size || s->n_images == 0) {
        s->size = size;
        return PLAST_OK;
    }
    const int64_t C = s->channels, in = s->size * s->size * C, out = size * size * C;
    unsigned char *px = malloc((size_t)(s->n_images * out));
    if (!px) return plast_err_set(err, PLAST_ERR_NOMEM, "images: out of memory resizing to %lld", (long long)size);
    for (int64_t i = 0; i < s->n_images; i++)
        if (!stbir_resize_uint8(s->pixels + i * in, (int)s->size, (int)s->size, 0, px + i * out, (int)size, (int)size, 0,
                                (int)C)) {
            free(px);
            return plast_err_set(err, PLAST_ERR_NOMEM, "images: resizing failed");
        }
    free(s->pixels);
    s->pixels = px;
    s->size = size;
    s->cap_images = s->n_images;
    return PLAST_OK;
}
