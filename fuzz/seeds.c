/* fuzz/seeds.c: writes the seed corpus of every harness: fuzz-seeds OUT CONFIGS_DIR makes OUT/<harness>/ with valid
 * inputs of each format (written with plast's own writers where it has them) and the repository's configs, so the
 * fuzzers start from files that reach deep into each loader. */
#include <dirent.h>
#include <stb/stb_image_write.h>
#include <sys/stat.h>

#include "fuzz_model.h"
#include "fuzz_util.h"
#include "plast/checkpoint.h"
#include "plast/safetensors.h"

static const char *out;

static void put(const char *harness, const char *name, const void *a, size_t na, const void *b, size_t nb) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", out, harness);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", out, harness, name);
    FILE *f = fopen(path, "wb");
    if (!f || (na && fwrite(a, 1, na, f) != na) || (nb && fwrite(b, 1, nb, f) != nb)) {
        fprintf(stderr, "fuzz-seeds: cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)sz + 1);
    *n = b && fread(b, 1, (size_t)sz, f) == (size_t)sz ? (size_t)sz : 0;
    fclose(f);
    return b;
}

/* parts joined by FUZZ_SEP after a one-byte prefix */
typedef struct buf {
    unsigned char *p;
    size_t n;
} buf;
static void add(buf *b, const void *d, size_t n) {
    b->p = realloc(b->p, b->n + n);
    memcpy(b->p + b->n, d, n);
    b->n += n;
}
static void sep(buf *b) { add(b, FUZZ_SEP, strlen(FUZZ_SEP)); }

static void seeds_safetensors(void) {
    fuzz_model f = fuzz_model_open();
    char path[1024];
    snprintf(path, sizeof path, "%s/ckpt.safetensors", fuzz_dir());
    if (plast_ckpt_save(path, f.p, f.o, 0, NULL, NULL, NULL) != PLAST_OK) exit(1);
    size_t n;
    unsigned char *d = slurp(path, &n);
    put("safetensors", "checkpoint", d, n, NULL, 0);
    put("checkpoint", "adam", d, n, NULL, 0);
    free(d);
    if (plast_ckpt_save(path, f.p, NULL, 0, NULL, NULL, NULL) != PLAST_OK) exit(1);
    d = slurp(path, &n);
    put("checkpoint", "params-only", d, n, NULL, 0);
    free(d);
    fuzz_model_close(&f);
    plast_st_writer *w = plast_st_writer_init(NULL);
    const int64_t shape[2] = {2, 3};
    const float v[6] = {1, -2, 3.5f, 0, 1e-3f, 7};
    plast_st_writer_add(w, "a", PLAST_DTYPE_F32, 2, shape, v, NULL);
    plast_st_writer_set_meta(w, "format", "pt", NULL);
    plast_st_writer_save(w, path, NULL);
    plast_st_writer_free(w);
    d = slurp(path, &n);
    put("safetensors", "small", d, n, NULL, 0);
    free(d);
}

static void seeds_config(const char *configs) {
    const char *sets[] = {"model.hidden=64", "train.lr=1e-3", "model.family=stpn", "env.name=maze",
                          "task.name=copy", "train.engine=fused", "model.rule=oja", "rl.gamma=0.9"};
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "set%zu", i);
        put("config", name, "\1", 1, sets[i], strlen(sets[i]));
    }
    /* every config of the repository, one folder down (configs/<paper>/<name>.json) */
    DIR *top = opendir(configs);
    struct dirent *e;
    int k = 0;
    while (top && (e = readdir(top))) {
        if (e->d_name[0] == '.') continue;
        char sub[1024];
        snprintf(sub, sizeof sub, "%s/%s", configs, e->d_name);
        DIR *d = opendir(sub);
        struct dirent *g;
        while (d && (g = readdir(d))) {
            if (!strstr(g->d_name, ".json")) continue;
            char path[2048], name[32];
            snprintf(path, sizeof path, "%s/%s", sub, g->d_name);
            size_t n;
            unsigned char *text = slurp(path, &n);
            snprintf(name, sizeof name, "file%d", k++);
            if (text) put("config", name, "\0", 1, text, n);
            free(text);
        }
        if (d) closedir(d);
    }
    if (top) closedir(top);
}

static void be32(buf *b, unsigned v) {
    const unsigned char c[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                                (unsigned char)v};
    add(b, c, 4);
}

static void seeds_idx(void) {
    buf b = {NULL, 0};
    add(&b, "\0", 1);
    be32(&b, 0x803), be32(&b, 10), be32(&b, 6), be32(&b, 6);
    for (int i = 0; i < 10 * 36; i++) add(&b, &(unsigned char){(unsigned char)(i * 7)}, 1);
    sep(&b);
    be32(&b, 0x801), be32(&b, 10);
    for (int i = 0; i < 10; i++) add(&b, &(unsigned char){(unsigned char)i}, 1);
    put("idx", "ten", b.p, b.n, NULL, 0);
    free(b.p);
}

static const char *const CIFAR_NAMES =
    "apple\naquarium_fish\nbaby\nbear\nbeaver\nbed\nbee\nbeetle\nbicycle\nbottle\nbowl\nboy\nbridge\nbus\nbutterfly\n"
    "camel\ncan\ncastle\ncaterpillar\ncattle\nchair\nchimpanzee\nclock\ncloud\ncockroach\ncouch\ncrab\ncrocodile\ncup\n"
    "dinosaur\ndolphin\nelephant\nflatfish\nforest\nfox\ngirl\nhamster\nhouse\nkangaroo\nkeyboard\nlamp\nlawn_mower\n"
    "leopard\nlion\nlizard\nlobster\nman\nmaple_tree\nmotorcycle\nmountain\nmouse\nmushroom\noak_tree\norange\norchid\n"
    "otter\npalm_tree\npear\npickup_truck\npine_tree\nplain\nplate\npoppy\nporcupine\npossum\nrabbit\nraccoon\nray\n"
    "road\nrocket\nrose\nsea\nseal\nshark\nshrew\nskunk\nskyscraper\nsnail\nsnake\nspider\nsquirrel\nstreetcar\n"
    "sunflower\nsweet_pepper\ntable\ntank\ntelephone\ntelevision\ntiger\ntractor\ntrain\ntrout\ntulip\nturtle\n"
    "wardrobe\nwhale\nwillow_tree\nwolf\nwoman\nworm\n";

static void seeds_cifar(void) {
    buf b = {NULL, 0};
    add(&b, "\0", 1);
    unsigned char rec[2 + 3072];
    for (int r = 0; r < 3; r++) { /* two training records, one test record */
        rec[0] = (unsigned char)r, rec[1] = (unsigned char)(r * 37 % 100);
        for (int i = 0; i < 3072; i++) rec[2 + i] = (unsigned char)(i * (r + 3));
        if (r == 2) sep(&b);
        add(&b, rec, sizeof rec);
    }
    sep(&b);
    add(&b, CIFAR_NAMES, strlen(CIFAR_NAMES));
    put("cifar", "three", b.p, b.n, NULL, 0);
    free(b.p);
}

static void write_image(void *ctx, void *data, int size) { add(ctx, data, (size_t)size); }

static void seeds_folder(void) {
    unsigned char px[8 * 8 * 3];
    for (int i = 0; i < (int)sizeof px; i++) px[i] = (unsigned char)(i * 5);
    buf b = {NULL, 0};
    add(&b, "\0", 1);
    stbi_write_png_to_func(write_image, &b, 8, 8, 3, px, 8 * 3);
    sep(&b);
    stbi_write_png_to_func(write_image, &b, 8, 8, 1, px, 8);
    sep(&b);
    stbi_write_jpg_to_func(write_image, &b, 8, 8, 3, px, 90);
    sep(&b);
    stbi_write_bmp_to_func(write_image, &b, 8, 8, 3, px);
    put("folder", "four", b.p, b.n, NULL, 0);
    free(b.p);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: fuzz-seeds OUT CONFIGS_DIR\n");
        return 2;
    }
    out = argv[1];
    mkdir(out, 0755);
    seeds_safetensors();
    seeds_config(argv[2]);
    seeds_idx();
    seeds_cifar();
    seeds_folder();
    return 0;
}
