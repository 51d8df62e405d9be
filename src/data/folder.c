/* src/data/folder.c: images in class folders, decoded by stb_image (PNG, JPEG, BMP, PGM/PPM, ...) and resized to
 * task.image_size (default: the first image's width; other shapes are stretched to the square). A class is a
 * folder that directly holds image files; its name is its path under the split's folder. Two layouts:
 *   miniImageNet style:  <dir>/train/<class>/<images>, <dir>/val/..., <dir>/test/...
 *   Omniglot:            <dir>/images_background/<alphabet>/<character>/<images> (training; every 10th character,
 *                        in sorted order, for validation) and <dir>/images_evaluation/... (test)
 * Images are read as greyscale when the first one is (Omniglot), as RGB otherwise. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* stb_image compiled here (static, not Debian's libstb), from Debian's header with the fixes of
 * cmake/stb_image_fixes.cmake (a JPEG table overrun of 2.27, fixed in 2.28), so that its allocations go through
 * decode_alloc: a damaged PNG's zlib stream can make stb 2.27 ask for gigabytes for an 8 x 8 image (found by
 * fuzz/fuzz_folder), and each allocation is refused above what the image's own header allows. stb's allocator has no context
 * argument, so the bound is per thread (set by image_info before each decode): the one piece of state here. */
static _Thread_local size_t decode_limit;
static void *decode_alloc(size_t n) { return n <= decode_limit ? malloc(n) : NULL; }
static void *decode_realloc(void *p, size_t n) { return n <= decode_limit ? realloc(p, n) : NULL; }
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_MALLOC(n) decode_alloc(n)
#define STBI_REALLOC(p, n) decode_realloc(p, n)
#define STBI_FREE(p) free(p)
#define STBI_MAX_DIMENSIONS 4096
/* stb declares functions it defines only in some builds; GCC reports them at the end of the file */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wtype-limits"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#include "stb_image_fixed.h" /* written into the build tree by cmake/stb_image_fixes.cmake */
#pragma GCC diagnostic pop
#include <stb_image_resize.h>

#include "core/err.h"
#include "data/image_set.h"

#define PATH_CAP 4096

typedef struct name_list {
    char **v;
    int n, cap;
} name_list;

static void names_free(name_list *l) {
    for (int i = 0; i < l->n; i++) free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof *l);
}

static int names_push(name_list *l, const char *s) {
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 32;
        char **v = realloc(l->v, sizeof(char *) * (size_t)cap);
        if (!v) return 0;
        l->v = v, l->cap = cap;
    }
    return (l->v[l->n] = strdup(s)) ? (l->n++, 1) : 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_image(const char *name) {
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    static const char *const ext[] = {".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".PNG", ".JPG", ".JPEG"};
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
        if (strcmp(dot, ext[i]) == 0) return 1;
    return 0;
}

/* The sorted entries of dir: subfolders into dirs, image files into files. */
static plast_status list_dir(const char *dir, name_list *dirs, name_list *files, plast_err *err) {
    DIR *d = opendir(dir);
    if (!d) return plast_err_set(err, PLAST_ERR_IO, "task.data_path: %s: cannot open the folder: %s", dir, strerror(errno));
    struct dirent *e;
    char path[PATH_CAP];
    int ok = 1;
    while (ok && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (is_dir(path)) ok = names_push(dirs, e->d_name);
        else if (is_image(e->d_name)) ok = names_push(files, e->d_name);
    }
    closedir(d);
    if (!ok) return plast_err_set(err, PLAST_ERR_NOMEM, "%s: out of memory listing the folder", dir);
    if (dirs->n > 1) qsort(dirs->v, (size_t)dirs->n, sizeof(char *), cmp_str);
    if (files->n > 1) qsort(files->v, (size_t)files->n, sizeof(char *), cmp_str);
    return PLAST_OK;
}

enum { WALK_DEPTH_MAX = 64 };

typedef struct walk {
    image_set *s;
    int depth;                              /* folders on the current path */
    dev_t dev[WALK_DEPTH_MAX];              /* their identities: a folder met again is a symlink loop */
    ino_t ino[WALK_DEPTH_MAX];
    int64_t size, channels; /* 0 until the first image fixes them */
    int split;
    int every_tenth_val; /* Omniglot's background: classes 9, 19, ... go to validation */
    int64_t classes_seen;
} walk;

/* images larger than this per side are refused before decoding: a damaged or hostile header could otherwise ask
 * stb_image for gigabytes (found by fuzz/fuzz_folder) */
enum { IMAGE_SIDE_MAX = 4096 };

/* the image's size from its header, refused when unreadable or larger than IMAGE_SIDE_MAX */
static plast_status image_info(const char *path, int *iw, int *ih, int *n, plast_err *err) {
    decode_limit = (size_t)1 << 20; /* reading a header needs little */
    if (!stbi_info(path, iw, ih, n))
        return plast_err_set(err, PLAST_ERR_FORMAT, "%s: cannot decode: %s", path, stbi_failure_reason());
    if (*iw < 1 || *ih < 1 || *iw > IMAGE_SIDE_MAX || *ih > IMAGE_SIDE_MAX)
        return plast_err_set(err, PLAST_ERR_FORMAT, "%s: an image of %d x %d pixels (plast reads at most %d x %d)", path,
                             *iw, *ih, IMAGE_SIDE_MAX, IMAGE_SIDE_MAX);
    /* any one allocation of the decode: at most 4 times the raw image at 16-bit RGBA with PNG's filter bytes, and
     * 16 MB for small images */
    decode_limit = 4 * (size_t)*ih * ((size_t)*iw * 8 + 1) + ((size_t)16 << 20);
    return PLAST_OK;
}

/* decodes one image into dst (size x size x channels) */
static plast_status load_image(walk *w, const char *path, unsigned char *dst, plast_err *err) {
    int iw, ih, n;
    plast_status st = image_info(path, &iw, &ih, &n, err);
    if (st != PLAST_OK) return st;
    unsigned char *px = stbi_load(path, &iw, &ih, &n, (int)w->channels);
    if (!px) return plast_err_set(err, PLAST_ERR_FORMAT, "%s: cannot decode: %s", path, stbi_failure_reason());
    int ok = 1;
    if (iw == w->size && ih == w->size) memcpy(dst, px, (size_t)(w->size * w->size * w->channels));
    else
        ok = stbir_resize_uint8(px, iw, ih, 0, dst, (int)w->size, (int)w->size, 0, (int)w->channels);
    stbi_image_free(px);
    return ok ? PLAST_OK : plast_err_set(err, PLAST_ERR_NOMEM, "%s: resizing failed", path);
}

static plast_status walk_dir(walk *w, const char *dir, const char *rel, plast_err *err) {
    struct stat self;
    if (stat(dir, &self) != 0) return plast_err_set(err, PLAST_ERR_IO, "task.data_path: %s: %s", dir, strerror(errno));
    for (int k = 0; k < w->depth; k++)
        if (w->dev[k] == self.st_dev && w->ino[k] == self.st_ino)
            return plast_err_set(err, PLAST_ERR_FORMAT, "task.data_path: %s leads back to a folder above it (a symbolic "
                                 "link loop)", dir);
    if (w->depth == WALK_DEPTH_MAX)
        return plast_err_set(err, PLAST_ERR_FORMAT, "task.data_path: %s: folders nested deeper than %d", dir,
                             WALK_DEPTH_MAX);
    w->dev[w->depth] = self.st_dev, w->ino[w->depth] = self.st_ino;
    w->depth++;
    name_list dirs = {0}, files = {0};
    plast_status st = list_dir(dir, &dirs, &files, err);
    char path[PATH_CAP], sub[PATH_CAP];
    if (st == PLAST_OK && files.n > 0 && !*rel) /* a split's own folder holds classes, not images */
        st = plast_err_set(err, PLAST_ERR_FORMAT, "task.data_path: %s holds images directly (%s, ...): put each class's "
                           "images in a folder of their own under it", dir, files.v[0]);
    if (st == PLAST_OK && files.n > 0) { /* a class */
        if (!w->channels) { /* the first image fixes the geometry */
            snprintf(path, sizeof path, "%s/%s", dir, files.v[0]);
            int iw = 0, ih = 0, n = 0;
            st = image_info(path, &iw, &ih, &n, err);
            w->channels = n <= 2 ? 1 : 3;
            if (!w->size) w->size = iw;
            w->s->size = w->size, w->s->channels = w->channels;
        }
        unsigned char *dst = st == PLAST_OK ? image_set_add_class(w->s, rel, files.n, err) : NULL;
        if (st == PLAST_OK && !dst) st = PLAST_ERR_NOMEM;
        if (st == PLAST_OK) {
            int split = w->split;
            if (w->every_tenth_val && w->classes_seen % 10 == 9) split = 1;
            w->s->split[w->s->n_classes - 1] = (int8_t)split;
            w->classes_seen++;
        }
        for (int i = 0; i < files.n && st == PLAST_OK; i++) {
            snprintf(path, sizeof path, "%s/%s", dir, files.v[i]);
            st = load_image(w, path, dst + (int64_t)i * w->size * w->size * w->channels, err);
        }
    }
    for (int i = 0; i < dirs.n && st == PLAST_OK; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, dirs.v[i]);
        snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "", dirs.v[i]);
        st = walk_dir(w, path, sub, err);
    }
    names_free(&dirs);
    names_free(&files);
    w->depth--;
    return st;
}

plast_status image_set_load_folder(image_set *s, const char *dir, int64_t size, plast_err *err) {
    char path[PATH_CAP];
    walk w;
    memset(&w, 0, sizeof w);
    w.s = s, w.size = size;
    image_set_init(s, size, 0);
    static const char *const split_dirs[3] = {"train", "val", "test"};
    snprintf(path, sizeof path, "%s/%s", dir, split_dirs[0]);
    plast_status st = PLAST_OK;
    if (is_dir(path)) {
        for (int k = 0; k < 3 && st == PLAST_OK; k++) {
            snprintf(path, sizeof path, "%s/%s", dir, split_dirs[k]);
            if (!is_dir(path))
                return plast_err_set(err, PLAST_ERR_IO, "task.data_path: %s/train exists but %s does not", dir, path);
            w.split = k;
            st = walk_dir(&w, path, "", err);
        }
    } else {
        snprintf(path, sizeof path, "%s/images_background", dir);
        if (!is_dir(path))
            return plast_err_set(err, PLAST_ERR_IO,
                                 "task.data_path: %s holds neither train/, val/, test/ class folders (miniImageNet "
                                 "layout) nor images_background/ and images_evaluation/ (Omniglot layout)",
                                 dir);
        w.split = 0, w.every_tenth_val = 1;
        st = walk_dir(&w, path, "", err);
        snprintf(path, sizeof path, "%s/images_evaluation", dir);
        if (st == PLAST_OK && !is_dir(path))
            return plast_err_set(err, PLAST_ERR_IO, "task.data_path: %s: no such folder (Omniglot's test classes)", path);
        w.split = 2, w.every_tenth_val = 0;
        if (st == PLAST_OK) st = walk_dir(&w, path, "", err);
    }
    if (st == PLAST_OK && s->n_classes == 0)
        st = plast_err_set(err, PLAST_ERR_FORMAT, "task.data_path: %s: no images found", dir);
    return st;
}
