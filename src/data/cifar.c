/* src/data/cifar.c: the CIFAR-100 binary version (<dir>/train.bin, test.bin and fine_label_names.txt; records of a
 * coarse label byte, a fine label byte and 32 x 32 x 3 pixels as three colour planes), pooled and grouped by fine
 * label, with the CIFAR-FS class split of Bertinetto et al. 2019 (64 training, 16 validation, 20 test classes) that
 * Duan et al. use through MetaOptNet's pickles. The split lists below are those of the CIFAR-FS release; a split
 * file (task.split_file) overrides them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "data/image_set.h"
#include "core/fileio.h"

enum { SIDE = 32, RECORD = 2 + SIDE * SIDE * 3, FINE = 100 };

static const char *const CIFAR_FS_VAL[16] = {"otter",    "motorcycle", "television", "lamp",     "crocodile", "shark",
                                             "butterfly", "beaver",    "beetle",     "tractor",  "flatfish",  "maple_tree",
                                             "camel",    "crab",       "sea",        "cattle"};
static const char *const CIFAR_FS_TEST[20] = {"baby",     "bed",   "bicycle",      "chimpanzee", "fox",
                                              "leopard",  "man",   "pickup_truck", "plain",      "poppy",
                                              "rocket",   "rose",  "snail",        "sweet_pepper", "table",
                                              "telephone", "wardrobe", "whale",    "woman",      "worm"};

static int in_list(const char *name, const char *const *list, int n) {
    for (int i = 0; i < n; i++)
        if (strcmp(name, list[i]) == 0) return 1;
    return 0;
}

plast_status image_set_load_cifar100(image_set *s, const char *dir, plast_err *err) {
    char path[4096];
    unsigned char *names_buf = NULL, *bin[2] = {NULL, NULL};
    size_t names_size, size[2] = {0, 0};
    char names[FINE][IMAGE_CLASS_NAME_MAX];
    snprintf(path, sizeof path, "%s/fine_label_names.txt", dir);
    plast_status st = plast_file_read_all(path, &names_buf, &names_size, err);
    int n_names = 0;
    if (st == PLAST_OK) {
        char *save = NULL;
        for (char *l = strtok_r((char *)names_buf, "\r\n", &save); l && n_names < FINE; l = strtok_r(NULL, "\r\n", &save))
            if (*l) snprintf(names[n_names++], IMAGE_CLASS_NAME_MAX, "%s", l);
        if (n_names != FINE)
            st = plast_err_set(err, PLAST_ERR_FORMAT, "%s: %d class names, CIFAR-100 has %d", path, n_names, FINE);
    } else {
        plast_err_prefix(err, st, "task.data_path (the CIFAR-100 binary version): ");
    }
    static const char *const files[2] = {"train.bin", "test.bin"};
    for (int k = 0; k < 2 && st == PLAST_OK; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[k]);
        st = plast_file_read_all(path, &bin[k], &size[k], err);
        if (st == PLAST_OK && (size[k] == 0 || size[k] % RECORD != 0))
            st = plast_err_set(err, PLAST_ERR_FORMAT, "%s: %zu bytes, not a whole number of %d-byte records", path,
                               size[k], RECORD);
        for (size_t r = 0; st == PLAST_OK && r < size[k] / RECORD; r++)
            if (bin[k][r * RECORD + 1] >= FINE)
                st = plast_err_set(err, PLAST_ERR_FORMAT, "%s: record %zu has fine label %d", path, r,
                                   bin[k][r * RECORD + 1]);
    }
    if (st == PLAST_OK) {
        int64_t count[FINE] = {0};
        for (int k = 0; k < 2; k++)
            for (size_t r = 0; r < size[k] / RECORD; r++) count[bin[k][r * RECORD + 1]]++;
        image_set_init(s, SIDE, 3);
        for (int c = 0; c < FINE && st == PLAST_OK; c++) {
            if (!count[c]) continue; /* a class without images cannot be sampled: leave it out */
            unsigned char *dst = image_set_add_class(s, names[c], count[c], err);
            if (!dst) {
                st = PLAST_ERR_NOMEM;
                break;
            }
            s->split[s->n_classes - 1] = in_list(names[c], CIFAR_FS_VAL, 16) ? 1 : in_list(names[c], CIFAR_FS_TEST, 20) ? 2 : 0;
            for (int k = 0; k < 2; k++)
                for (size_t r = 0; r < size[k] / RECORD; r++) {
                    const unsigned char *rec = bin[k] + r * RECORD;
                    if (rec[1] != c) continue;
                    for (int p = 0; p < SIDE * SIDE; p++) /* colour planes to channels last */
                        for (int ch = 0; ch < 3; ch++) dst[p * 3 + ch] = rec[2 + ch * SIDE * SIDE + p];
                    dst += SIDE * SIDE * 3;
                }
        }
    }
    free(names_buf);
    free(bin[0]);
    free(bin[1]);
    return st;
}
