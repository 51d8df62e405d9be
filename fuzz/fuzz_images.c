/* fuzz/fuzz_images.c: the image-set loaders of src/data/ on arbitrary files, one harness per format (FUZZ_FORMAT,
 * set by fuzz/CMakeLists.txt):
 *   0  fuzz_idx: IDX (Fashion-MNIST): parts images and labels, written as the training and the t10k files, named
 *      .gz or not by the first byte (zlib reads plain files through gzread too)
 *   1  fuzz_cifar: CIFAR-100 binary: parts train.bin, test.bin, fine_label_names.txt
 *   2  fuzz_folder: image folders (stb_image decodes untrusted PNG, JPEG, BMP here): parts become train/a/0.png,
 *      val/b/0.png, test/c/0.jpg and train/a/1.bmp
 * then the set is resized to 8 x 8 and its statistics computed, as the one-shot task does. */
#include <sys/stat.h>

#include "data/image_set.h"
#include "fuzz_util.h"

static const char *const NAMES[10] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};

static void folder(const char *sub) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", fuzz_dir(), sub);
    mkdir(path, 0700);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    if (n < 1) return 0;
    const uint8_t *part[4];
    size_t len[4];
    fuzz_split(data + 1, n - 1, 4, part, len);
    char dir[512];
    image_set s;
    memset(&s, 0, sizeof s);
    plast_err err;
    plast_status st = PLAST_ERR_INVALID_ARG;
    switch (FUZZ_FORMAT) {
    case 0: {
        const char *gz = data[0] % 2 ? ".gz" : "";
        folder("idx");
        char name[64];
        const char *const stem[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                                     "t10k-labels-idx1-ubyte"};
        for (int k = 0; k < 4; k++) {
            snprintf(name, sizeof name, "idx/%s%s", stem[k], gz);
            fuzz_file(name, part[k % 2], len[k % 2]);
        }
        snprintf(dir, sizeof dir, "%s/idx", fuzz_dir());
        st = image_set_load_idx(&s, dir, NAMES, &err);
        break;
    }
    case 1:
        folder("cifar");
        fuzz_file("cifar/train.bin", part[0], len[0]);
        fuzz_file("cifar/test.bin", part[1], len[1]);
        fuzz_file("cifar/fine_label_names.txt", part[2], len[2]);
        snprintf(dir, sizeof dir, "%s/cifar", fuzz_dir());
        st = image_set_load_cifar100(&s, dir, &err);
        break;
    default:
        folder("img"), folder("img/train"), folder("img/val"), folder("img/test");
        folder("img/train/a"), folder("img/val/b"), folder("img/test/c");
        fuzz_file("img/train/a/0.png", part[0], len[0]);
        fuzz_file("img/val/b/0.png", part[1], len[1]);
        fuzz_file("img/test/c/0.jpg", part[2], len[2]);
        fuzz_file("img/train/a/1.bmp", part[3], len[3]);
        snprintf(dir, sizeof dir, "%s/img", fuzz_dir());
        st = image_set_load_folder(&s, dir, 0, &err);
        break;
    }
    if (st == PLAST_OK && image_set_resize(&s, 8, &err) == PLAST_OK) image_set_stats(&s);
    image_set_free(&s);
    return 0;
}
