/* tests/test_io.c: safetensors files and checkpoints: round trips, clean errors on every truncation and on random
 * corruption (run under AddressSanitizer in CI, so a crash or an out-of-bounds read fails the test), malformed
 * headers, mismatched checkpoints, and atomic replacement. */
#include <sys/stat.h>
#include <unistd.h>

#include "plast.h"
#include "test.h"

static char dir[256];

static const char *tmp_path(const char *name) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n + 1);
    if (fread(b, 1, *n, f) != *n) *n = 0;
    fclose(f);
    return b;
}

static void spit(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
}

/* writes a file with a hand-made header and `data_len` zero bytes of data */
static void write_raw(const char *path, const char *header, size_t data_len) {
    size_t hl = strlen(header);
    unsigned char *b = calloc(1, 8 + hl + data_len);
    for (int k = 0; k < 8; k++) b[k] = (unsigned char)((uint64_t)hl >> (8 * k));
    memcpy(b + 8, header, hl);
    spit(path, b, 8 + hl + data_len);
    free(b);
}

static void test_round_trip(void) {
    plast_err err;
    plast_st_writer *w = plast_st_writer_init(&err);
    double d[6] = {1.5, -2, 3.25, 1e-300, -0.0, 7};
    float f[3] = {1, -2.5f, 3};
    int64_t i64[2] = {-5, (int64_t)1 << 40};
    uint8_t u8[4] = {0, 1, 254, 255};
    int64_t dims23[2] = {2, 3}, dims3[1] = {3}, dims2[1] = {2}, dims4[2] = {2, 2};
    CHECK(plast_st_writer_add(w, "d", PLAST_DTYPE_F64, 2, dims23, d, &err) == PLAST_OK, "%s", err.msg);
    CHECK(plast_st_writer_add(w, "f", PLAST_DTYPE_F32, 1, dims3, f, &err) == PLAST_OK, "%s", err.msg);
    CHECK(plast_st_writer_add(w, "i", PLAST_DTYPE_I64, 1, dims2, i64, &err) == PLAST_OK, "%s", err.msg);
    CHECK(plast_st_writer_add(w, "u \"quoted\\name\"", PLAST_DTYPE_U8, 2, dims4, u8, &err) == PLAST_OK, "%s", err.msg);
    CHECK(plast_st_writer_add(w, "scalar", PLAST_DTYPE_F64, 0, NULL, d, &err) == PLAST_OK, "%s", err.msg);
    CHECK(plast_st_writer_add(w, "empty", PLAST_DTYPE_F32, 1, (int64_t[]){0}, NULL, &err) == PLAST_OK, "%s", err.msg);
    CHECK(plast_st_writer_add(w, "d", PLAST_DTYPE_F64, 0, NULL, d, &err) != PLAST_OK, "duplicate names rejected");
    plast_st_writer_set_meta(w, "note", "line\nbreak \"and quotes\"", &err);
    plast_st_writer_set_meta(w, "note", "replaced", &err);
    plast_st_writer_set_meta(w, "k2", "v2", &err);
    CHECK(plast_st_writer_save(w, tmp_path("rt.safetensors"), &err) == PLAST_OK, "save: %s", err.msg);
    plast_st_writer_free(w);

    size_t n;
    unsigned char *raw = slurp(tmp_path("rt.safetensors"), &n);
    uint64_t hlen = 0;
    for (int k = 7; k >= 0; k--) hlen = (hlen << 8) | raw[k];
    CHECK(hlen % 8 == 0, "the header is padded so the data starts 8-byte aligned");
    free(raw);

    plast_st_reader *r = plast_st_reader_open(tmp_path("rt.safetensors"), &err);
    CHECK(r != NULL, "open: %s", err.msg);
    if (!r) return;
    CHECK(plast_st_reader_count(r) == 6, "six tensors");
    CHECK(strcmp(plast_st_reader_meta(r, "note"), "replaced") == 0 && strcmp(plast_st_reader_meta(r, "k2"), "v2") == 0,
          "metadata");
    int i = plast_st_reader_find(r, "d");
    CHECK(i >= 0 && plast_st_reader_dtype(r, i) == PLAST_DTYPE_F64 && plast_st_reader_ndim(r, i) == 2 &&
              plast_st_reader_dim(r, i, 1) == 3,
          "entry d");
    CHECK(memcmp(plast_st_reader_bytes(r, i), d, sizeof d) == 0, "F64 bytes are exact");
    plast_real got[6];
    CHECK(plast_st_reader_read(r, "f", PLAST_SHAPE1(3), got, &err) == PLAST_OK && got[1] == -2.5, "F32 -> real");
    CHECK(plast_st_reader_read(r, "i", PLAST_SHAPE1(2), got, &err) == PLAST_OK && got[0] == -5, "I64 -> real");
    CHECK(plast_st_reader_read(r, "u \"quoted\\name\"", PLAST_SHAPE2(2, 2), got, &err) == PLAST_OK && got[3] == 255,
          "escaped name and U8 -> real: %s", err.msg);
    CHECK(plast_st_reader_read(r, "scalar", PLAST_SHAPE0(), got, &err) == PLAST_OK && got[0] == 1.5, "scalar");
    CHECK(plast_st_reader_read(r, "d", PLAST_SHAPE2(3, 2), got, &err) == PLAST_ERR_MISMATCH &&
              strstr(err.msg, "'d'") && strstr(err.msg, "(2, 3)") && strstr(err.msg, "(3, 2)") &&
              strstr(err.msg, "rt.safetensors"),
          "shape mismatch names file, tensor and shapes: %s", err.msg);
    CHECK(plast_st_reader_read(r, "nope", PLAST_SHAPE0(), got, &err) == PLAST_ERR_MISMATCH && strstr(err.msg, "nope"),
          "missing tensor: %s", err.msg);
    plast_st_reader_close(r);
}

static void test_truncation_and_corruption(void) {
    plast_err err;
    plast_st_writer *w = plast_st_writer_init(NULL);
    plast_real vals[40];
    for (int k = 0; k < 40; k++) vals[k] = (plast_real)k;
    plast_st_writer_add_real(w, "alpha", PLAST_SHAPE2(4, 5), vals, NULL);
    plast_st_writer_add_real(w, "beta", PLAST_SHAPE1(20), vals + 20, NULL);
    plast_st_writer_set_meta(w, "format", "test", NULL);
    plast_st_writer_save(w, tmp_path("good.safetensors"), NULL);
    plast_st_writer_free(w);
    size_t n;
    unsigned char *good = slurp(tmp_path("good.safetensors"), &n);
    const char *bad = tmp_path("bad.safetensors");

    /* every truncation fails cleanly, naming the file */
    int clean = 1;
    for (size_t len = 0; len < n; len++) {
        spit(bad, good, len);
        plast_st_reader *r = plast_st_reader_open(bad, &err);
        if (r || err.status != PLAST_ERR_FORMAT || !strstr(err.msg, "bad.safetensors")) {
            if (clean) fprintf(stderr, "  truncated to %zu bytes: %s\n", len, r ? "opened" : err.msg);
            clean = 0;
        }
        plast_st_reader_close(r);
    }
    CHECK(clean, "every truncated file gives a format error naming the file");

    /* random corruption: never a crash; either a clean error or a file that still reads */
    plast_rng rng;
    plast_rng_init(&rng, 99, 0);
    int opened = 0, rejected = 0, unclear = 0;
    unsigned char *buf = malloc(n);
    for (int it = 0; it < 3000; it++) {
        memcpy(buf, good, n);
        int flips = 1 + (int)plast_rng_below(&rng, 4);
        for (int k = 0; k < flips; k++) {
            size_t at = plast_rng_below(&rng, (uint32_t)n);
            buf[at] = (it % 3 == 0) ? (unsigned char)plast_rng_below(&rng, 256) : (unsigned char)(buf[at] ^ (1u << plast_rng_below(&rng, 8)));
        }
        spit(bad, buf, n);
        plast_st_reader *r = plast_st_reader_open(bad, &err);
        if (r) {
            opened++;
            plast_real out[40];
            for (int k = 0; k < plast_st_reader_count(r); k++) { /* reading whatever parsed must be safe */
                plast_shape s;
                plast_st_reader_read_any(r, plast_st_reader_name(r, k), &s, out, 40, NULL);
            }
            plast_st_reader_close(r);
        } else if (err.status == PLAST_ERR_FORMAT && strstr(err.msg, "bad.safetensors")) {
            rejected++;
        } else {
            if (unclear++ < 3) fprintf(stderr, "  corruption %d: status %d: %s\n", it, err.status, err.msg);
        }
    }
    CHECK(unclear == 0, "corrupted files give format errors naming the file (%d did not)", unclear);
    CHECK(rejected > 1000, "most corruptions are detected (%d rejected, %d still readable)", rejected, opened);
    free(buf);
    free(good);

    /* hand-made malformed headers */
    struct {
        const char *header;
        size_t data;
        const char *expect;
    } cases[] = {
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "overlap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "gap"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 12, "follow"},
        {"{\"a\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "dtype"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "shape"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "shape"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,4]}}", 4, "need"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", 4, "data_offsets"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
         "\"data_offsets\":[4,8]}}", 8, "twice"},
        {"{\"__metadata__\":{\"k\":3}}", 0, "metadata"},
        {"[1,2,3]", 0, "JSON object"},
        {"{\"a\":", 0, "JSON object"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} x", 4, "stray"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],\"data_offsets\":[0,4]}}", 4, "need"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        write_raw(bad, cases[k].header, cases[k].data);
        plast_st_reader *r = plast_st_reader_open(bad, &err);
        CHECK(!r && err.status == PLAST_ERR_FORMAT && strstr(err.msg, cases[k].expect),
              "malformed header %zu should mention '%s': %s", k, cases[k].expect, r ? "opened" : err.msg);
        plast_st_reader_close(r);
    }
    /* a header length beyond the file */
    unsigned char huge[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, '{', '}'};
    spit(bad, huge, sizeof huge);
    plast_st_reader *r = plast_st_reader_open(bad, &err);
    CHECK(!r && strstr(err.msg, "header length"), "absurd header length: %s", err.msg);
    plast_st_reader_close(r);
    r = plast_st_reader_open(tmp_path("does-not-exist.safetensors"), &err);
    CHECK(!r && err.status == PLAST_ERR_IO && strstr(err.msg, "does-not-exist"), "missing file: %s", err.msg);
}

static plast_params *model(int64_t hidden) {
    plast_param_spec specs[3] = {{"enc.w", PLAST_SHAPE2(3, hidden)}, {"enc.b", PLAST_SHAPE1(hidden)},
                                 {"out.w", PLAST_SHAPE2(hidden, 2)}};
    return plast_params_init(3, specs, NULL);
}

static void test_checkpoints(void) {
    plast_err err;
    plast_rng rng;
    plast_rng_init(&rng, 5, 5);
    plast_params *p = model(4);
    plast_rng_fill_normal(&rng, plast_params_values(p), (size_t)plast_params_numel(p), 0, 1);
    plast_optim_config cfg = plast_optim_config_default(PLAST_OPTIM_ADAMW);
    cfg.amsgrad = 1;
    plast_optim *o = plast_optim_init(&cfg, p, NULL);
    for (int s = 0; s < 3; s++) {
        plast_rng_fill_normal(&rng, plast_params_grads(p), (size_t)plast_params_numel(p), 0, 1);
        plast_optim_step(o, p, 1e-3, NULL);
    }
    const char *path = tmp_path("ckpt.safetensors");
    const char *keys[2] = {"step", "config"}, *vals[2] = {"3", "{\"a\": 1}"};
    CHECK(plast_ckpt_save(path, p, o, 2, keys, vals, &err) == PLAST_OK, "save: %s", err.msg);

    plast_params *q = model(4);
    plast_optim *o2 = plast_optim_init(&cfg, q, NULL);
    CHECK(plast_ckpt_load(path, q, o2, &err) == PLAST_OK, "load: %s", err.msg);
    CHECK(memcmp(plast_params_values(p), plast_params_values(q), sizeof(plast_real) * (size_t)plast_params_numel(p)) == 0,
          "parameters round-trip exactly");
    int same = plast_optim_steps(o2) == 3;
    for (int k = 0; k < plast_optim_state_count(o); k++)
        same &= memcmp(plast_optim_state(o, k), plast_optim_state(o2, k),
                       sizeof(plast_real) * (size_t)plast_params_numel(p)) == 0;
    CHECK(same, "optimizer state and step count round-trip exactly");
    /* one more identical step on both gives identical parameters: resuming is exact */
    plast_rng_fill_normal(&rng, plast_params_grads(p), (size_t)plast_params_numel(p), 0, 1);
    memcpy(plast_params_grads(q), plast_params_grads(p), sizeof(plast_real) * (size_t)plast_params_numel(p));
    plast_optim_step(o, p, 1e-3, NULL);
    plast_optim_step(o2, q, 1e-3, NULL);
    CHECK(memcmp(plast_params_values(p), plast_params_values(q), sizeof(plast_real) * (size_t)plast_params_numel(p)) == 0,
          "a step after resuming equals the uninterrupted step");
    plast_st_reader *r = plast_st_reader_open(path, NULL);
    CHECK(r && strcmp(plast_st_reader_meta(r, "config"), "{\"a\": 1}") == 0 &&
              plast_st_reader_find(r, "param/enc.w") >= 0 && plast_st_reader_find(r, "optim/exp_avg_sq/out.w") >= 0,
          "checkpoint names and metadata");
    plast_st_reader_close(r);

    /* mismatches: every one names the file and the tensor, and leaves the model untouched */
    plast_params *wide = model(5);
    plast_real before = plast_params_values(wide)[0] = 42;
    CHECK(plast_ckpt_load(path, wide, NULL, &err) == PLAST_ERR_MISMATCH && strstr(err.msg, "ckpt.safetensors") &&
              strstr(err.msg, "param/enc.w"),
          "a model of another size: %s", err.msg);
    CHECK(plast_params_values(wide)[0] == before, "a failed load leaves the parameters as they were");
    plast_param_spec fewer[2] = {{"enc.w", PLAST_SHAPE2(3, 4)}, {"enc.b", PLAST_SHAPE1(4)}};
    plast_params *small = plast_params_init(2, fewer, NULL);
    CHECK(plast_ckpt_load(path, small, NULL, &err) == PLAST_ERR_MISMATCH && strstr(err.msg, "out.w"),
          "a checkpoint tensor the model lacks: %s", err.msg);
    plast_param_spec more[4] = {{"enc.w", PLAST_SHAPE2(3, 4)}, {"enc.b", PLAST_SHAPE1(4)}, {"out.w", PLAST_SHAPE2(4, 2)},
                                {"extra", PLAST_SHAPE1(1)}};
    plast_params *big = plast_params_init(4, more, NULL);
    CHECK(plast_ckpt_load(path, big, NULL, &err) == PLAST_ERR_MISMATCH && strstr(err.msg, "param/extra"),
          "a parameter the checkpoint lacks: %s", err.msg);
    plast_optim_config sgd = plast_optim_config_default(PLAST_OPTIM_SGD);
    plast_optim *o3 = plast_optim_init(&sgd, q, NULL);
    plast_real keep = plast_params_values(q)[0] = 123;
    CHECK(plast_ckpt_load(path, q, o3, &err) == PLAST_ERR_MISMATCH && strstr(err.msg, "adamw"),
          "another optimizer: %s", err.msg);
    CHECK(plast_params_values(q)[0] == keep, "a failed optimizer load also leaves the parameters as they were");
    r = NULL;
    CHECK(plast_ckpt_load(tmp_path("good.safetensors"), q, NULL, &err) == PLAST_ERR_FORMAT &&
              strstr(err.msg, "not a plast checkpoint"),
          "a safetensors file that is no checkpoint: %s", err.msg);

    /* atomic replacement: a new save replaces the file whole; a failed save leaves it alone and no temp files */
    CHECK(plast_ckpt_save(path, q, NULL, 0, NULL, NULL, &err) == PLAST_OK, "resave: %s", err.msg);
    CHECK(plast_ckpt_load(path, p, NULL, &err) == PLAST_OK && plast_params_values(p)[0] == keep, "replaced");
    char missing_dir[600];
    snprintf(missing_dir, sizeof missing_dir, "%s/no/such/dir/ckpt.safetensors", dir);
    CHECK(plast_ckpt_save(missing_dir, q, NULL, 0, NULL, NULL, &err) == PLAST_ERR_IO && strstr(err.msg, "no/such/dir"),
          "unwritable path: %s", err.msg);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c tmp > /dev/null", dir);
    CHECK(system(cmd) != 0, "no temporary files are left behind");

    plast_optim_free(o);
    plast_optim_free(o2);
    plast_optim_free(o3);
    plast_params_free(p);
    plast_params_free(q);
    plast_params_free(wide);
    plast_params_free(small);
    plast_params_free(big);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/plast_test_io_%d", (int)getpid());
    mkdir(dir, 0755);
    test_round_trip();
    test_truncation_and_corruption();
    test_checkpoints();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return test_finish(sizeof(plast_real) == 8 ? "test_io (float64)" : "test_io (float32)");
}
