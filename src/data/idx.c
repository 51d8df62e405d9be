/* src/data/idx.c: MNIST-style IDX files (LeCun's format: a big-endian magic 0x0803 for images or 0x0801 for labels,
 * the sizes as big-endian 32-bit words, then bytes), gzip'd or not, as Debian's dataset-fashion-mnist ships them
 * (/usr/share/datasets/fashion-mnist). The training and test files are pooled: few-shot splits are by class. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "core/err.h"
#include "data/image_set.h"

typedef struct idx_file {
    int64_t n, rows, cols; /* rows = cols = 0 for labels */
    unsigned char *data;
} idx_file;

/* Reads <dir>/<stem> or <dir>/<stem>.gz whole (zlib reads plain files too). */
static plast_status idx_read(const char *dir, const char *stem, int images, idx_file *f, plast_err *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.gz", dir, stem);
    if (access(path, R_OK) != 0) snprintf(path, sizeof path, "%s/%s", dir, stem);
    gzFile gz = gzopen(path, "rb");
    if (!gz)
        return plast_err_set(err, PLAST_ERR_IO, "task.data_path: %s[.gz]: cannot open: %s", path, strerror(errno));
    unsigned char head[16];
    const int hn = images ? 16 : 8;
    plast_status s = PLAST_OK;
    if (gzread(gz, head, (unsigned)hn) != hn) {
        int zerr = Z_OK;
        const char *why = gzerror(gz, &zerr);
        s = zerr != Z_OK && zerr != Z_STREAM_END
                ? plast_err_set(err, PLAST_ERR_FORMAT, "%s: not a readable gzip file (%s)", path, why)
                : plast_err_set(err, PLAST_ERR_FORMAT, "%s: truncated header (%d bytes, an IDX header has %d)", path,
                                hn, hn);
    } else {
        const unsigned magic = (unsigned)head[0] << 24 | (unsigned)head[1] << 16 | (unsigned)head[2] << 8 | head[3];
        const unsigned want = images ? 0x803 : 0x801;
        uint32_t dims[3] = {0, 0, 0};
        for (int k = 0; k < (images ? 3 : 1); k++)
            dims[k] = (uint32_t)head[4 + 4 * k] << 24 | (uint32_t)head[5 + 4 * k] << 16 |
                      (uint32_t)head[6 + 4 * k] << 8 | head[7 + 4 * k];
        f->n = dims[0], f->rows = images ? dims[1] : 1, f->cols = images ? dims[2] : 1;
        if (magic != want)
            s = plast_err_set(err, PLAST_ERR_FORMAT, "%s: magic 0x%08x, not an IDX %s file (0x%08x)", path, magic,
                              images ? "image" : "label", want);
        else if (f->n < 1 || f->n > 100000000 || f->rows < 1 || f->rows > 4096 || f->cols != f->rows)
            s = plast_err_set(err, PLAST_ERR_FORMAT, "%s: implausible sizes %lld x %lld x %lld", path, (long long)f->n,
                              (long long)f->rows, (long long)f->cols);
    }
    const int64_t bytes = s == PLAST_OK ? f->n * f->rows * f->cols : 0;
    /* the buffer grows with the data read, so that a damaged header announcing terabytes ends as "truncated", not
     * as an allocation of what it claims (found by fuzz/fuzz_idx) */
    int64_t cap = 0;
    for (int64_t done = 0; s == PLAST_OK && done < bytes;) {
        if (done == cap) {
            cap = cap ? (2 * cap < bytes ? 2 * cap : bytes) : (bytes < (1 << 24) ? bytes : (1 << 24));
            unsigned char *grown = realloc(f->data, (size_t)cap);
            if (!grown) {
                s = plast_err_set(err, PLAST_ERR_NOMEM, "%s: out of memory for %lld bytes", path, (long long)cap);
                break;
            }
            f->data = grown;
        }
        int chunk = (int)(cap - done < (1 << 30) ? cap - done : (1 << 30));
        int got = gzread(gz, f->data + done, (unsigned)chunk);
        if (got <= 0)
            s = plast_err_set(err, PLAST_ERR_FORMAT, "%s: truncated after %lld of %lld bytes", path, (long long)done,
                              (long long)bytes);
        done += got;
    }
    unsigned char extra;
    if (s == PLAST_OK && gzread(gz, &extra, 1) == 1) /* an IDX file is its header and exactly its data */
        s = plast_err_set(err, PLAST_ERR_FORMAT, "%s: bytes after the %lld of data its header announces (a wrong or "
                          "damaged file)", path, (long long)bytes);
    gzclose(gz);
    if (s != PLAST_OK) free(f->data), f->data = NULL;
    return s;
}

plast_status image_set_load_idx(image_set *s, const char *dir, const char *const names[10], plast_err *err) {
    static const char *const stems[2][2] = {{"train-images-idx3-ubyte", "train-labels-idx1-ubyte"},
                                            {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}};
    idx_file img[2] = {{0}}, lab[2] = {{0}};
    plast_status st = PLAST_OK;
    for (int k = 0; k < 2 && st == PLAST_OK; k++) {
        st = idx_read(dir, stems[k][0], 1, &img[k], err);
        if (st == PLAST_OK) st = idx_read(dir, stems[k][1], 0, &lab[k], err);
        if (st == PLAST_OK && img[k].n != lab[k].n)
            st = plast_err_set(err, PLAST_ERR_MISMATCH, "%s/%s: %lld images but %lld labels", dir, stems[k][0],
                               (long long)img[k].n, (long long)lab[k].n);
        if (st == PLAST_OK && k == 1 && img[1].rows != img[0].rows)
            st = plast_err_set(err, PLAST_ERR_MISMATCH, "%s: training and test images differ in size", dir);
    }
    int64_t count[10] = {0};
    for (int k = 0; k < 2 && st == PLAST_OK; k++)
        for (int64_t i = 0; i < lab[k].n && st == PLAST_OK; i++) {
            if (lab[k].data[i] > 9)
                st = plast_err_set(err, PLAST_ERR_FORMAT, "%s/%s: label %d of image %lld is not 0..9", dir, stems[k][1],
                                   lab[k].data[i], (long long)i);
            else
                count[lab[k].data[i]]++;
        }
    if (st == PLAST_OK) {
        const int64_t px = img[0].rows * img[0].cols;
        image_set_init(s, img[0].rows, 1);
        for (int c = 0; c < 10 && st == PLAST_OK; c++) { /* group the images by label, in file order */
            unsigned char *dst = image_set_add_class(s, names[c], count[c], err);
            if (!dst) {
                st = PLAST_ERR_NOMEM;
                break;
            }
            for (int k = 0; k < 2; k++)
                for (int64_t i = 0; i < lab[k].n; i++)
                    if (lab[k].data[i] == c) memcpy(dst, img[k].data + i * px, (size_t)px), dst += px;
        }
    }
    for (int k = 0; k < 2; k++) free(img[k].data), free(lab[k].data);
    return st;
}
