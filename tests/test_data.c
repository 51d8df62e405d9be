/* tests/test_data.c: the image loaders on small files written here in each real format (gzip'd IDX, CIFAR-100
 * binary, PNG class folders in the miniImageNet and Omniglot layouts), the one-shot task's episodes on them, and
 * clear errors for missing and corrupt files. Debian's Fashion-MNIST is checked too when it is installed. */
#include <stb_image_write.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "data/image_set.h"
#include "plast.h"
#include "test.h"

static char root[256];

static void path_of(char *buf, size_t cap, const char *rel) { snprintf(buf, cap, "%s/%s", root, rel); }

static void mkdirs(const char *rel) {
    char p[512];
    path_of(p, sizeof p, rel);
    for (char *c = p + strlen(root) + 1; *c; c++)
        if (*c == '/') *c = '\0', mkdir(p, 0755), *c = '/';
    mkdir(p, 0755);
}

/* pixel value of image i of class c at (r, k): distinct per class, so loaders can be checked */
static unsigned char pixel(int c, int i, int r, int k) { return (unsigned char)(c * 40 + i * 3 + r + k); }

static void write_idx(const char *rel, int images, int n, int side, const unsigned char *labels) {
    char p[512];
    path_of(p, sizeof p, rel);
    gzFile f = gzopen(p, "wb");
    unsigned char head[16] = {0, 0, 8, (unsigned char)(images ? 3 : 1), 0, 0, 0, (unsigned char)n};
    head[11] = head[15] = (unsigned char)side;
    gzwrite(f, head, images ? 16 : 8);
    for (int i = 0; i < n; i++) {
        if (!images) {
            gzwrite(f, &labels[i], 1);
            continue;
        }
        for (int r = 0; r < side; r++)
            for (int k = 0; k < side; k++) {
                unsigned char v = pixel(labels[i], i, r, k);
                gzwrite(f, &v, 1);
            }
    }
    gzclose(f);
}

static void test_idx(void) {
    mkdirs("idx");
    unsigned char train[12], test[6];
    for (int i = 0; i < 12; i++) train[i] = (unsigned char)(i % 10);
    for (int i = 0; i < 6; i++) test[i] = (unsigned char)(i % 3);
    write_idx("idx/train-images-idx3-ubyte.gz", 1, 12, 20, train);
    write_idx("idx/train-labels-idx1-ubyte.gz", 0, 12, 20, train);
    write_idx("idx/t10k-images-idx3-ubyte.gz", 1, 6, 20, test);
    write_idx("idx/t10k-labels-idx1-ubyte.gz", 0, 6, 20, test);
    char dir[512];
    path_of(dir, sizeof dir, "idx");
    static const char *const names[10] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"};
    image_set s = {0};
    plast_err err;
    CHECK(image_set_load_idx(&s, dir, names, &err) == PLAST_OK, "idx: %s", err.msg);
    CHECK(s.n_images == 18 && s.n_classes == 10 && s.size == 20 && s.channels == 1, "idx: %lld images, %lld classes",
          (long long)s.n_images, (long long)s.n_classes);
    /* class 1: train images 1 and 11, then test images 1 and 4, in that order */
    CHECK(s.count[1] == 4 && s.pixels[s.first[1] * 400] == pixel(1, 1, 0, 0) &&
              s.pixels[(s.first[1] + 1) * 400 + 21] == pixel(1, 11, 1, 1) &&
              s.pixels[(s.first[1] + 3) * 400] == pixel(1, 4, 0, 0),
          "idx: images grouped by label in file order");
    image_set_free(&s);
    /* a corrupt file: wrong magic */
    write_idx("idx/t10k-labels-idx1-ubyte.gz", 1, 6, 20, test);
    CHECK(image_set_load_idx(&s, dir, names, &err) != PLAST_OK && strstr(err.msg, "t10k-labels") &&
              strstr(err.msg, "magic"),
          "idx: a label file with an image magic is refused naming the file: %s", err.msg);
    image_set_free(&s);
    /* bytes after the announced data (a labels file claiming 5 of its 6 labels) */
    write_idx("idx/t10k-labels-idx1-ubyte.gz", 0, 6, 20, test);
    char p[512];
    path_of(p, sizeof p, "idx/t10k-labels-idx1-ubyte.gz");
    gzFile g = gzopen(p, "wb");
    const unsigned char head[8] = {0, 0, 8, 1, 0, 0, 0, 5};
    gzwrite(g, head, 8);
    gzwrite(g, test, 6);
    gzclose(g);
    CHECK(image_set_load_idx(&s, dir, names, &err) != PLAST_OK && strstr(err.msg, "bytes after"),
          "idx: trailing bytes are refused: %s", err.msg);
    image_set_free(&s);
    /* a damaged gzip stream is named as such, not as a short header */
    FILE *raw = fopen(p, "wb");
    const unsigned char junk[12] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xff, 0xff};
    fwrite(junk, 1, sizeof junk, raw);
    fclose(raw);
    CHECK(image_set_load_idx(&s, dir, names, &err) != PLAST_OK && strstr(err.msg, "t10k-labels") &&
              (strstr(err.msg, "gzip") || strstr(err.msg, "truncated header (")),
          "idx: a damaged gzip file is refused with the reason: %s", err.msg);
    printf("idx: a damaged gzip file: %s\n", err.msg);
    image_set_free(&s);
}

static void test_cifar(void) {
    mkdirs("cifar");
    char p[512];
    path_of(p, sizeof p, "cifar/fine_label_names.txt");
    FILE *f = fopen(p, "w");
    for (int c = 0; c < 100; c++) fprintf(f, c == 3 ? "bicycle\n" : c == 5 ? "otter\n" : "class%d\n", c);
    fclose(f);
    const char *files[2] = {"cifar/train.bin", "cifar/test.bin"};
    for (int k = 0; k < 2; k++) {
        path_of(p, sizeof p, files[k]);
        f = fopen(p, "wb");
        for (int i = 0; i < 3; i++) { /* classes 3, 5, 7 */
            unsigned char rec[3074];
            rec[0] = 0, rec[1] = (unsigned char)(3 + 2 * i);
            for (int ch = 0; ch < 3; ch++)
                for (int q = 0; q < 1024; q++) rec[2 + ch * 1024 + q] = (unsigned char)(ch * 50 + i + k);
            fwrite(rec, 1, sizeof rec, f);
        }
        fclose(f);
    }
    char dir[512];
    path_of(dir, sizeof dir, "cifar");
    image_set s = {0};
    plast_err err;
    CHECK(image_set_load_cifar100(&s, dir, &err) == PLAST_OK, "cifar: %s", err.msg);
    CHECK(s.n_classes == 3 && s.n_images == 6 && s.size == 32 && s.channels == 3, "cifar: %lld classes",
          (long long)s.n_classes);
    if (s.n_classes == 3) {
        CHECK(!strcmp(s.names[0], "bicycle") && s.split[0] == 2 && !strcmp(s.names[1], "otter") && s.split[1] == 1 &&
                  s.split[2] == 0,
              "cifar: the CIFAR-FS split (bicycle test, otter validation, others training)");
        const unsigned char *px = s.pixels + (s.first[1] + 1) * 3072; /* otter, from test.bin */
        CHECK(px[0] == 1 + 1 && px[1] == 50 + 2 && px[2] == 100 + 2, "cifar: colour planes become channels last");
    }
    image_set_free(&s);
    path_of(p, sizeof p, "cifar/test.bin");
    f = fopen(p, "ab");
    fputc(7, f);
    fclose(f);
    CHECK(image_set_load_cifar100(&s, dir, &err) != PLAST_OK && strstr(err.msg, "test.bin") &&
              strstr(err.msg, "records"),
          "cifar: a truncated record is refused naming the file: %s", err.msg);
    image_set_free(&s);
    /* label names that miss the CIFAR-FS split: the one-shot task names the file and the empty split, not "0
     * classes" (issue 16) */
    path_of(p, sizeof p, "cifar/test.bin");
    f = fopen(p, "wb");
    unsigned char rec[3074] = {0, 3};
    fwrite(rec, 1, sizeof rec, f);
    fclose(f);
    path_of(p, sizeof p, "cifar/fine_label_names.txt");
    f = fopen(p, "w");
    for (int c = 0; c < 100; c++) fprintf(f, "coarse%d\n", c);
    fclose(f);
    plast_task_cfg cfg;
    char set[600];
    snprintf(set, sizeof set, "task.data_path=%s", dir);
    const char *sets[] = {"task.name=oneshot", "task.dataset=cifar", set};
    plast_cfg_defaults(plast_task_cfg_schema(), &cfg, NULL);
    for (int k = 0; k < 3; k++) plast_cfg_apply_set(plast_task_cfg_schema(), &cfg, sets[k], NULL);
    plast_task *t = plast_task_init(&cfg, &err);
    CHECK(!t && strstr(err.msg, "fine_label_names.txt") && strstr(err.msg, "validation"),
          "cifar: names missing the split are named: %s", t ? "(accepted)" : err.msg);
    plast_task_free(t);
}

static void write_png(const char *rel, int side, int channels, int c, int i) {
    char p[512];
    path_of(p, sizeof p, rel);
    unsigned char px[64 * 64 * 3];
    for (int r = 0; r < side; r++)
        for (int k = 0; k < side; k++)
            for (int ch = 0; ch < channels; ch++) px[(r * side + k) * channels + ch] = pixel(c, i, r, k);
    stbi_write_png(p, side, side, channels, px, side * channels);
}

static void test_folders(void) {
    /* miniImageNet layout: split folders of class folders, RGB */
    const char *splits[3] = {"train", "val", "test"};
    char rel[256];
    for (int k = 0; k < 3; k++)
        for (int c = 0; c < 2; c++) {
            snprintf(rel, sizeof rel, "mini/%s/n0%d%d", splits[k], k, c);
            mkdirs(rel);
            for (int i = 0; i < 3; i++) {
                snprintf(rel, sizeof rel, "mini/%s/n0%d%d/img%d.png", splits[k], k, c, i);
                write_png(rel, 12, 3, 2 * k + c, i);
            }
        }
    char dir[512];
    path_of(dir, sizeof dir, "mini");
    image_set s = {0};
    plast_err err;
    CHECK(image_set_load_folder(&s, dir, 0, &err) == PLAST_OK, "folder: %s", err.msg);
    CHECK(s.n_classes == 6 && s.n_images == 18 && s.channels == 3 && s.size == 12, "folder: %lld classes",
          (long long)s.n_classes);
    if (s.n_classes == 6)
        CHECK(s.split[0] == 0 && s.split[2] == 1 && s.split[5] == 2 && !strcmp(s.names[3], "n011") &&
                  s.pixels[(s.first[3] + 2) * 432 + 3 * 13] == pixel(3, 2, 1, 1),
              "folder: split folders, class names, pixel values");
    image_set_free(&s);
    CHECK(image_set_load_folder(&s, dir, 6, &err) == PLAST_OK && s.size == 6, "folder: resized to 6: %s", err.msg);
    image_set_free(&s);
    /* a symbolic link back to a folder above is refused, not followed into a loop */
    char link[512], target[512];
    path_of(link, sizeof link, "mini/train/n000/back");
    path_of(target, sizeof target, "mini/train");
    CHECK(symlink(target, link) == 0, "symlink");
    CHECK(image_set_load_folder(&s, dir, 0, &err) != PLAST_OK && strstr(err.msg, "symbolic link loop") &&
              strstr(err.msg, "back"), "folder: a symlink loop is refused: %s", err.msg);
    image_set_free(&s);
    unlink(link);
    /* an image directly in a split folder is not a class named "" */
    write_png("mini/train/stray.png", 12, 3, 0, 0);
    CHECK(image_set_load_folder(&s, dir, 0, &err) != PLAST_OK && strstr(err.msg, "holds images directly") &&
              strstr(err.msg, "stray.png"), "folder: a stray image is refused: %s", err.msg);
    image_set_free(&s);
    path_of(link, sizeof link, "mini/train/stray.png");
    unlink(link);

    /* Omniglot layout: alphabets of characters, greyscale; every 10th background character validates */
    for (int c = 0; c < 12; c++) {
        snprintf(rel, sizeof rel, "omni/images_%s/alpha%d/char%02d", c < 10 ? "background" : "evaluation", c % 2, c);
        mkdirs(rel);
        for (int i = 0; i < 2; i++) {
            snprintf(rel, sizeof rel, "omni/images_%s/alpha%d/char%02d/%d.png", c < 10 ? "background" : "evaluation",
                     c % 2, c, i);
            write_png(rel, 10, 1, c, i);
        }
    }
    path_of(dir, sizeof dir, "omni");
    CHECK(image_set_load_folder(&s, dir, 0, &err) == PLAST_OK, "omniglot: %s", err.msg);
    CHECK(s.n_classes == 12 && s.channels == 1 && image_set_split_count(&s, 0) == 9 &&
              image_set_split_count(&s, 1) == 1 && image_set_split_count(&s, 2) == 2,
          "omniglot: 9 training, 1 validation, 2 test classes (got %lld %lld %lld)",
          (long long)image_set_split_count(&s, 0), (long long)image_set_split_count(&s, 1),
          (long long)image_set_split_count(&s, 2));
    if (s.n_classes == 12) CHECK(!strcmp(s.names[0], "alpha0/char00"), "omniglot: names %s", s.names[0]);
    image_set_free(&s);
    /* a split file */
    char p[512];
    path_of(p, sizeof p, "split.txt");
    FILE *f = fopen(p, "w");
    for (int c = 0; c < 12; c++) fprintf(f, "%s alpha%d/char%02d\n", c < 6 ? "train" : c < 9 ? "val" : "test", c % 2, c);
    fclose(f);
    CHECK(image_set_load_folder(&s, dir, 0, &err) == PLAST_OK && image_set_split_file(&s, p, &err) == PLAST_OK &&
              image_set_split_count(&s, 1) == 3,
          "split file: %s", err.msg);
    image_set_free(&s);
    f = fopen(p, "a");
    fprintf(f, "test nosuchclass\n");
    fclose(f);
    CHECK(image_set_load_folder(&s, dir, 0, &err) == PLAST_OK && image_set_split_file(&s, p, &err) != PLAST_OK &&
              strstr(err.msg, "nosuchclass") && strstr(err.msg, ":13:"),
          "split file: an unknown class is refused with its line: %s", err.msg);
    image_set_free(&s);
    /* a corrupt image and a wrong layout */
    path_of(p, sizeof p, "omni/images_evaluation/alpha0/char10/1.png");
    f = fopen(p, "w");
    fputs("not a png", f);
    fclose(f);
    CHECK(image_set_load_folder(&s, dir, 0, &err) != PLAST_OK && strstr(err.msg, "char10/1.png"),
          "folder: a corrupt image is refused naming it: %s", err.msg);
    image_set_free(&s);
    path_of(dir, sizeof dir, "idx");
    CHECK(image_set_load_folder(&s, dir, 0, &err) != PLAST_OK && strstr(err.msg, "layout"),
          "folder: a folder in neither layout: %s", err.msg);
    image_set_free(&s);
}

/* Episodes of the one-shot task on the miniImageNet-style folder: labels, support and queries, weights. */
static void test_episodes(void) {
    plast_task_cfg cfg;
    plast_cfg_defaults(plast_task_cfg_schema(), &cfg, NULL);
    char dir[512], set[600];
    path_of(dir, sizeof dir, "mini");
    const char *sets[] = {"task.name=oneshot", "task.dataset=folder", "task.items=2", "task.shots=1", "task.queries=2",
                          set};
    snprintf(set, sizeof set, "task.data_path=%s", dir);
    plast_err err;
    for (int k = 0; k < 6; k++) plast_cfg_apply_set(plast_task_cfg_schema(), &cfg, sets[k], NULL);
    plast_task *t = plast_task_init(&cfg, &err);
    CHECK(t != NULL, "oneshot task: %s", err.msg);
    if (!t) return;
    const int64_t T = plast_task_steps(t), I = plast_task_input(t), B = 4, px = 12 * 12 * 3;
    CHECK(T == 6 && I == px + 2 && plast_task_output(t) == 2, "oneshot sizes T=%lld I=%lld", (long long)T, (long long)I);
    plast_batch *b = plast_batch_init(t, B, &err);
    plast_rng rng;
    plast_rng_init(&rng, 3, 3);
    for (int split = 0; split < 3; split++) {
        CHECK(plast_task_sample(t, &rng, split, b, &err) == PLAST_OK, "sample: %s", err.msg);
        int ok = 1;
        for (int64_t e = 0; e < B; e++) {
            double first[2] = {NAN, NAN}; /* a pixel of each label's support image */
            for (int64_t s = 0; s < T; s++) {
                const plast_real *x = b->x + (s * B + e) * I, *y = b->target + (s * B + e) * 2;
                const int label = y[1] == 1;
                ok &= y[0] + y[1] == 1;
                if (s < 2) { /* support: the label is shown */
                    ok &= x[px + label] == 1 && x[px + 1 - label] == 0 && b->loss_w[s * B + e] == 0;
                    first[label] = x[0];
                } else {
                    ok &= x[px] == 0 && x[px + 1] == 0 && b->loss_w[s * B + e] == 1;
                }
                ok &= b->metric_w[s * B + e] == (s == 2);
            }
            ok &= first[0] == first[0] && first[1] == first[1]; /* both labels appear in the support */
        }
        CHECK(ok, "oneshot split %d: support with labels, queries without, loss on queries, metric on the first", split);
    }
    plast_batch_free(b);
    plast_task_free(t);
    /* too many ways for the splits */
    plast_cfg_apply_set(plast_task_cfg_schema(), &cfg, "task.items=3", NULL);
    t = plast_task_init(&cfg, &err);
    CHECK(!t && strstr(err.msg, "task.items") == NULL && strstr(err.msg, "'items'") && strstr(err.msg, "2 classes"),
          "3 ways with 2 classes per split: %s", t ? "accepted" : err.msg);
    plast_task_free(t);
}

static void test_fashion_mnist(void) {
    if (access("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", R_OK) != 0) {
        printf("Debian's dataset-fashion-mnist is not installed: skipping its check\n");
        return;
    }
    plast_task_cfg cfg;
    plast_cfg_defaults(plast_task_cfg_schema(), &cfg, NULL);
    plast_cfg_apply_set(plast_task_cfg_schema(), &cfg, "task.name=oneshot", NULL);
    plast_err err;
    plast_task *t = plast_task_init(&cfg, &err);
    CHECK(t != NULL, "fashion-mnist: %s", err.msg);
    if (t) {
        int64_t ch, side;
        CHECK(plast_task_image(t, &ch, &side) && ch == 1 && side == 28 && plast_task_input(t) == 784 + 5,
              "fashion-mnist: 28 x 28 x 1 images");
        CHECK(strstr(plast_task_describe(t), "24/8/8") != NULL, "fashion-mnist: %s", plast_task_describe(t));
    }
    plast_task_free(t);
}

int main(void) {
    snprintf(root, sizeof root, "/tmp/plast_test_data_%d", (int)getpid());
    mkdir(root, 0755);
    test_idx();
    test_cifar();
    test_folders();
    test_episodes();
    test_fashion_mnist();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
    return test_finish("test_data");
}
