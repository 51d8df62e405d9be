/* tests/test_config.c: typed configuration: defaults, files, overrides, the resolved JSON, every kind of bad input
 * (each error must name its source, the key and the value), and random mutations of a valid file. */
#include <stddef.h>
#include <unistd.h>

#include "plast.h"
#include "test.h"

typedef struct demo_cfg {
    int64_t hidden;
    double lr;
    int amsgrad;
    char name[16];
    char cell[8];
    int64_t seed;
} demo_cfg;

static const plast_cfg_field FIELDS[] = {
    {"model.hidden", PLAST_CFG_INT, offsetof(demo_cfg, hidden), 0, "128", 1, 65536, NULL, "hidden units"},
    {"optim.lr", PLAST_CFG_REAL, offsetof(demo_cfg, lr), 0, "1e-3", 0, 10, NULL, "learning rate"},
    {"optim.amsgrad", PLAST_CFG_BOOL, offsetof(demo_cfg, amsgrad), 0, "true", 0, -1, NULL, "amsgrad"},
    {"name", PLAST_CFG_STRING, offsetof(demo_cfg, name), 16, "run", 0, -1, NULL, "run name"},
    {"model.cell", PLAST_CFG_CHOICE, offsetof(demo_cfg, cell), 8, "lstm", 0, -1, "rnn|lstm", "recurrent cell"},
    {"seed", PLAST_CFG_INT, offsetof(demo_cfg, seed), 0, "0", 1, 0, NULL, "seed (unbounded)"},
};
static const plast_cfg_schema SCHEMA = {FIELDS, (int)(sizeof FIELDS / sizeof FIELDS[0]), NULL};

/* Keys scoped by their help ("rnn: ...") to the values of a selector ("kind"), and an on_change that returns the
 * other kinds' keys to their defaults when an override changes the selector (as model.family does). */
typedef struct scoped_cfg {
    char kind[8];
    int64_t depth, width;
    double decay;
    int64_t plain;
} scoped_cfg;
static const plast_cfg_field SCOPED_FIELDS[] = {
    {"kind", PLAST_CFG_CHOICE, offsetof(scoped_cfg, kind), 8, "rnn", 0, -1, "rnn|lstm|gru", "rnn | lstm | gru"},
    {"depth", PLAST_CFG_INT, offsetof(scoped_cfg, depth), 0, "1", 1, 9, NULL, "rnn: layers"},
    {"width", PLAST_CFG_INT, offsetof(scoped_cfg, width), 0, "2", 1, 9, NULL, "lstm, gru extra: widths"},
    {"decay", PLAST_CFG_REAL, offsetof(scoped_cfg, decay), 0, "0.5", 0, 1, NULL, "gru: decay"},
    {"plain", PLAST_CFG_INT, offsetof(scoped_cfg, plain), 0, "3", 1, 9, NULL, "every kind: a key of all (note: x)"},
};
static int scoped_changes;
static void scoped_on_change(void *obj, const plast_cfg_field *f) {
    scoped_changes++;
    if (strcmp(f->key, "kind") != 0) return;
    scoped_cfg def;
    plast_cfg_defaults((plast_cfg_schema){SCOPED_FIELDS, 5, NULL}, &def, NULL);
    plast_cfg_reset_scope((plast_cfg_schema){SCOPED_FIELDS, 5, NULL}, obj, &def, "rnn|lstm|gru",
                          ((scoped_cfg *)obj)->kind);
}
static const plast_cfg_schema SCOPED = {SCOPED_FIELDS, 5, scoped_on_change};

static void test_scopes(void) {
    const char *names = "rnn | lstm|gru";
    CHECK(plast_cfg_field_scope(&SCOPED_FIELDS[1], names, "rnn") == 1 &&
              plast_cfg_field_scope(&SCOPED_FIELDS[1], names, "lstm") == 0,
          "a key scoped to one name");
    CHECK(plast_cfg_field_scope(&SCOPED_FIELDS[2], names, "lstm") == 1 &&
              plast_cfg_field_scope(&SCOPED_FIELDS[2], names, "gru") == 1 &&
              plast_cfg_field_scope(&SCOPED_FIELDS[2], names, "rnn") == 0,
          "a key scoped to two names, one with words after it");
    CHECK(plast_cfg_field_scope(&SCOPED_FIELDS[0], names, "rnn") == -1 &&
              plast_cfg_field_scope(&SCOPED_FIELDS[4], names, "rnn") == -1 &&
              plast_cfg_field_scope(&FIELDS[0], names, "rnn") == -1,
          "help without a colon, or whose words before it are not all names, has no scope");

    scoped_cfg c, def;
    plast_err err;
    plast_cfg_defaults(SCOPED, &def, NULL);
    plast_cfg_defaults(SCOPED, &c, NULL);
    CHECK(plast_cfg_apply_json(SCOPED, &c, "{\"kind\": \"lstm\", \"depth\": 4}", "s.json", &err) == PLAST_OK &&
              c.depth == 4,
          "a file may hold a key of another kind (the check is the reader's)");
    plast_status st = plast_cfg_check_scope(SCOPED, &c, &def, names, c.kind, "kind is lstm", &err);
    CHECK(st == PLAST_ERR_CONFIG && strstr(err.msg, "'depth'") && strstr(err.msg, "is 4") &&
              strstr(err.msg, "rnn only") && strstr(err.msg, "kind is lstm") && strstr(err.msg, "default 1"),
          "a key of another kind set away from its default is an error naming key, value, scope and default: %s",
          st == PLAST_OK ? "accepted" : err.msg);
    c.depth = 1, c.width = 7, c.plain = 8;
    CHECK(plast_cfg_check_scope(SCOPED, &c, &def, names, c.kind, "kind is lstm", &err) == PLAST_OK,
          "its own keys, unscoped keys and others' keys at their defaults pass: %s", err.msg);

    /* an override that changes the selector resets the other kinds' keys, and only then */
    plast_cfg_defaults(SCOPED, &c, NULL);
    c.depth = 5, c.width = 6, c.decay = 0.25, c.plain = 7;
    scoped_changes = 0;
    CHECK(plast_cfg_apply_set(SCOPED, &c, "kind=rnn", &err) == PLAST_OK && scoped_changes == 0 && c.width == 6,
          "setting the value it has is no change");
    CHECK(plast_cfg_apply_set(SCOPED, &c, "kind=gru", &err) == PLAST_OK && scoped_changes == 1,
          "a change calls on_change once");
    CHECK(c.depth == 1 && c.width == 6 && c.decay == 0.25 && c.plain == 7,
          "the other kinds' keys return to their defaults, the chosen kind's and unscoped keys stay (depth %lld, "
          "width %lld, decay %g, plain %lld)", (long long)c.depth, (long long)c.width, c.decay, (long long)c.plain);
    CHECK(plast_cfg_apply_set(SCOPED, &c, "depth=3", &err) == PLAST_OK && c.depth == 3 && scoped_changes == 2,
          "a later override sets another kind's key again");
    CHECK(plast_cfg_apply_set(SCOPED, &c, "depth=30", &err) == PLAST_ERR_CONFIG && scoped_changes == 2,
          "a failed override changes nothing");
}

static void expect_error(const char *json, const char *set, const char *must1, const char *must2) {
    demo_cfg c;
    plast_err err;
    plast_cfg_defaults(SCHEMA, &c, NULL);
    plast_status s = json ? plast_cfg_apply_json(SCHEMA, &c, json, "cfg.json", &err)
                          : plast_cfg_apply_set(SCHEMA, &c, set, &err);
    CHECK(s == PLAST_ERR_CONFIG && strstr(err.msg, must1) && (!must2 || strstr(err.msg, must2)),
          "input %s should fail mentioning '%s' and '%s': %s", json ? json : set, must1, must2 ? must2 : "",
          s == PLAST_OK ? "accepted" : err.msg);
}

int main(void) {
    demo_cfg c;
    plast_err err;
    CHECK(plast_cfg_defaults(SCHEMA, &c, &err) == PLAST_OK, "defaults: %s", err.msg);
    CHECK(c.hidden == 128 && c.lr == 1e-3 && c.amsgrad == 1 && strcmp(c.cell, "lstm") == 0, "default values");

    char path[64];
    snprintf(path, sizeof path, "/tmp/plast_test_config_%d.json", (int)getpid());
    FILE *f = fopen(path, "w");
    fputs("{\n  \"model\": {\"hidden\": 64, \"cell\": \"rnn\"},\n  \"optim\": {\"lr\": 0.01},\n  \"name\": \"x\"\n}\n", f);
    fclose(f);
    const char *sets[2] = {"optim.lr=3e-4", "optim.amsgrad=false"};
    CHECK(plast_cfg_load(SCHEMA, &c, path, 2, sets, &err) == PLAST_OK, "load: %s", err.msg);
    CHECK(c.hidden == 64 && c.lr == 3e-4 && c.amsgrad == 0 && strcmp(c.cell, "rnn") == 0 && strcmp(c.name, "x") == 0,
          "file then overrides, in order");

    /* the resolved configuration reads back to the same values */
    char json[2048];
    long need = plast_cfg_to_json(SCHEMA, &c, json, sizeof json);
    CHECK(need > 0 && need < (long)sizeof json && strstr(json, "\"hidden\":"), "resolved JSON: %s", json);
    demo_cfg d;
    plast_cfg_defaults(SCHEMA, &d, NULL);
    CHECK(plast_cfg_apply_json(SCHEMA, &d, json, "resolved", &err) == PLAST_OK && c.hidden == d.hidden &&
              c.lr == d.lr && c.amsgrad == d.amsgrad && strcmp(c.name, d.name) == 0 && strcmp(c.cell, d.cell) == 0 &&
              c.seed == d.seed,
          "resolved JSON round-trips: %s", err.msg);
    char buf[64];
    CHECK(strcmp(plast_cfg_format_value(SCHEMA, &c, "optim.lr", buf, sizeof buf), "0.00029999999999999997") == 0 ||
              strcmp(buf, "0.0003") == 0,
          "format_value: %s", buf);

    /* bad input */
    expect_error("{\"model\": {\"hiden\": 3}}", NULL, "unknown key 'model.hiden'", "did you mean 'model.hidden'");
    expect_error("{\"optim\": {\"lr\": 1e309}}", NULL, "'optim.lr'", "too large to represent");
    {
        static char deep[2 * 1100 + 16];
        size_t n = 0;
        deep[n++] = '{', deep[n++] = '"', deep[n++] = 'a', deep[n++] = '"', deep[n++] = ':';
        for (int k = 0; k < 1100; k++) deep[n++] = '[';
        for (int k = 0; k < 1100; k++) deep[n++] = ']';
        deep[n++] = '}';
        expect_error(deep, NULL, "cfg.json", "nested deeper than 1000 levels");
    }
    /* an escaped NUL would cut the string silently; an escaped backslash before u0000 is just text */
    expect_error("{\"name\": \"ab\\u0000cd\"}", NULL, "cfg.json:1:13", "NUL character");
    {
        demo_cfg t;
        plast_cfg_defaults(SCHEMA, &t, NULL);
        CHECK(plast_cfg_apply_json(SCHEMA, &t, "{\"name\": \"a\\\\u0000\"}", "cfg.json", &err) == PLAST_OK &&
                  strcmp(t.name, "a\\u0000") == 0, "a backslash, then u0000, is text: %s", t.name);
    }
    expect_error("{\"optimizer\": {\"lr\": 3}}", NULL, "unknown key 'optimizer'", NULL);
    expect_error("{\"optim\": {\"lr\": \"fast\"}}", NULL, "'optim.lr'", "\"fast\"");
    expect_error("{\"model\": {\"hidden\": 3.5}}", NULL, "'model.hidden'", "integer");
    expect_error("{\"model\": {\"hidden\": 0}}", NULL, "'model.hidden'", "out of range");
    expect_error("{\"optim\": {\"amsgrad\": 1}}", NULL, "'optim.amsgrad'", "true or false");
    expect_error("{\"model\": {\"cell\": \"gru\"}}", NULL, "'model.cell'", "rnn|lstm");
    expect_error("{\"model\": [1, 2]}", NULL, "unknown key 'model'", NULL);
    expect_error("{\"model\": {\"hidden\": [1]}}", NULL, "'model.hidden'", "array");
    expect_error("{\"seed\": 1, \"seed\": 2}", NULL, "duplicate key 'seed'", NULL);
    expect_error("{\"model\": {\"hidden\": 1, \"hidden\": 2}}", NULL, "duplicate key 'model.hidden'", NULL);
    expect_error("{\n  \"seed\": 1,\n  \"name\": }", NULL, "cfg.json:3:", "invalid JSON");
    expect_error("[1]", NULL, "top level", NULL);
    expect_error("{\"name\": \"a name far too long for sixteen\"}", NULL, "'name'", "longer");
    expect_error(NULL, "optim.lr", "--set optim.lr", "key=value");
    expect_error(NULL, "optim.lr=1e", "--set optim.lr=1e", "number");
    expect_error(NULL, "optim.lr=nan", "--set optim.lr=nan", "finite");
    expect_error(NULL, "model.hidden=12x", "'model.hidden'", "integer");
    expect_error(NULL, "model.hiddn=12", "unknown key 'model.hiddn'", "did you mean");
    expect_error(NULL, "optim.amsgrad=yes", "'optim.amsgrad'", "true or false");
    CHECK(plast_cfg_apply_file(SCHEMA, &c, "/nonexistent/plast.json", &err) == PLAST_ERR_IO &&
              strstr(err.msg, "/nonexistent/plast.json"),
          "a missing file: %s", err.msg);

    /* every truncation of a valid text is rejected with a message naming the file */
    const char *full = "{\"model\": {\"hidden\": 64, \"cell\": \"rnn\"}, \"optim\": {\"lr\": 0.01}}";
    int clean = 1;
    for (size_t len = 0; len < strlen(full); len++) {
        char cut[128];
        memcpy(cut, full, len);
        cut[len] = '\0';
        plast_cfg_defaults(SCHEMA, &c, NULL);
        if (plast_cfg_apply_json(SCHEMA, &c, cut, "cut.json", &err) != PLAST_ERR_CONFIG ||
            strncmp(err.msg, "cut.json", 8) != 0)
            clean = 0;
    }
    CHECK(clean, "every truncated configuration gives an error naming the file");

    /* random mutations of a valid text: each is accepted or rejected with a message, never a crash */
    const char *valid = "{\"model\": {\"hidden\": 64, \"cell\": \"rnn\"}, \"optim\": {\"lr\": 0.01, \"amsgrad\": true},"
                        " \"name\": \"abc\", \"seed\": -3}";
    plast_rng rng;
    plast_rng_init(&rng, 1, 2);
    const char alphabet[] = "{}[]\":,.-+eE0123456789 \\tnul";
    int accepted = 0, rejected = 0, silent = 0;
    for (int it = 0; it < 5000; it++) {
        char text[256];
        size_t n = strlen(valid);
        memcpy(text, valid, n + 1);
        int edits = 1 + (int)plast_rng_below(&rng, 3);
        for (int e = 0; e < edits; e++) {
            size_t at = plast_rng_below(&rng, (uint32_t)n);
            char ch = alphabet[plast_rng_below(&rng, sizeof alphabet - 1)];
            switch (plast_rng_below(&rng, 3)) {
            case 0: text[at] = ch; break;                                    /* replace */
            case 1: memmove(text + at, text + at + 1, n - at); n--; break;    /* delete */
            default:                                                          /* insert */
                if (n + 2 < sizeof text) {
                    memmove(text + at + 1, text + at, n - at + 1);
                    text[at] = ch;
                    n++;
                }
            }
        }
        plast_cfg_defaults(SCHEMA, &c, NULL);
        plast_err_clear(&err);
        plast_status s = plast_cfg_apply_json(SCHEMA, &c, text, "fuzz.json", &err);
        if (s == PLAST_OK) accepted++;
        else if (s == PLAST_ERR_CONFIG && strncmp(err.msg, "fuzz.json", 9) == 0) rejected++;
        else silent++;
    }
    CHECK(silent == 0, "%d mutated files failed without a proper message", silent);
    CHECK(rejected > 2500, "most mutations are rejected (%d rejected, %d accepted)", rejected, accepted);
    unlink(path);
    test_scopes();
    return test_finish("test_config");
}
