/* tests/test_tables.c: the tables are the single source of every name list, and the docs keep up with them.
 *
 * Ops, families, rules, tasks, environments, engine paths and optimizers are each listed once (an X-macro list or a
 * table of rows). This test checks that each row is consistent (names, defaults, capabilities) and that every name appears
 * in the docs page that describes that list, so adding a row without documenting it fails here. */
#include "autodiff/tape_internal.h"
#include "models/family_list.h"
#include "models/model_internal.h"
#include "models/rule_list.h"
#include "plast/engine.h"
#include "plast/optim.h"
#include "tasks/task_internal.h"
#include "tasks/task_list.h"
#include "envs/env_list.h"
#include "plast/env.h"
#include "test.h"

static char docs[512];

/* The text of docs/<page>, or NULL. */
static char *read_doc(const char *page) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", docs, page);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL, "cannot open %s", path);
    if (!f) return NULL;
    static char text[1 << 20];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    return text;
}

/* 1 if `name` appears in text as a whole word (not inside a longer identifier) */
static int has_word(const char *text, const char *name) {
    size_t n = strlen(name);
    for (const char *p = strstr(text, name); p; p = strstr(p + 1, name)) {
        int before = p > text && (p[-1] == '_' || (p[-1] >= 'a' && p[-1] <= 'z') || (p[-1] >= '0' && p[-1] <= '9'));
        char c = p[n];
        int after = c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!before && !after) return 1;
    }
    return 0;
}

static void test_ops(void) {
    static const char *const names[] = {
#define OP_NAME(ID, name, family) #name,
        PLAST_OP_LIST(OP_NAME)
#undef OP_NAME
    };
    static const char *const files[] = {
#define OP_FILE(ID, name, family) "ops_" #family ".c",
        PLAST_OP_LIST(OP_FILE)
#undef OP_FILE
    };
    const char *doc = read_doc("AUTODIFF.md");
    for (int op = 0; op < PLAST_OP_COUNT; op++) {
        const plast_op_def *d = plast_op_table[op];
        CHECK(d && strcmp(d->name, names[op]) == 0, "op %d: table name %s, list name %s", op, d ? d->name : "?",
              names[op]);
        CHECK(d && d->formula && d->formula[0], "op %s has no formula", names[op]);
        CHECK(doc && has_word(doc, names[op]), "op %s is not in docs/AUTODIFF.md", names[op]);
        CHECK(doc && strstr(doc, files[op]), "op file %s is not in docs/AUTODIFF.md", files[op]);
    }
}

static void test_families(void) {
    static const char *const names[] = {
#define FAMILY_NAME(name) #name,
        PLAST_FAMILY_LIST(FAMILY_NAME)
#undef FAMILY_NAME
    };
    CHECK(plast_family_count == (int)(sizeof names / sizeof names[0]), "family table and list differ in length");
    const char *doc = read_doc("models/README.md");
    for (int i = 0; i < plast_family_count; i++) {
        const plast_family_def *f = plast_family_table[i];
        CHECK(strcmp(f->name, names[i]) == 0, "family row %d is named %s, the list says %s", i, f->name, names[i]);
        CHECK(f->layout && f->init && f->step && f->summary[0], "family %s lacks a function or summary", f->name);
        CHECK((int)f->rule_use >= 0 && f->rule_use < PLAST_RULE_USE_COUNT, "family %s: bad rule_use", f->name);
        /* a default rule exactly when the family takes one, and it must exist */
        int takes = f->rule_use != PLAST_RULE_USE_NONE;
        CHECK(takes == (f->default_rule != NULL), "family %s: default rule %s with rule_use %d", f->name,
              f->default_rule ? f->default_rule : "NULL", (int)f->rule_use);
        CHECK(!f->default_rule || plast_rule_find(f->default_rule), "family %s: default rule %s is not a rule",
              f->name, f->default_rule);
        char quoted[64];
        snprintf(quoted, sizeof quoted, "`%s`", f->name);
        CHECK(doc && strstr(doc, quoted), "family %s is not in docs/models/README.md", f->name);
        /* the default configuration resolves for every family (errors would name the key) */
        plast_model_cfg c;
        plast_model_cfg_default(&c, NULL);
        snprintf(c.family, sizeof c.family, "%s", f->name);
        c.input = c.output = c.hidden = 6;
        plast_err err;
        plast_model *m = plast_model_init(&c, &err);
        CHECK(m != NULL, "family %s with model.rule = default: %s", f->name, err.msg);
        if (m) CHECK((m->rule != NULL) == takes, "family %s: default rule resolved to %s", f->name,
                     m->rule ? m->rule->name : "none");
        plast_model_free(m);
    }
}

static void test_rules(void) {
    static const char *const names[] = {
#define RULE_NAME(name, formula, internal, rank_one, weight, bias, kernel) #name,
        PLAST_RULE_LIST(RULE_NAME)
#undef RULE_NAME
    };
    const char *doc = read_doc("models/RULES.md");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const plast_rule_def *r = plast_rule_find(names[i]);
        CHECK(r && strcmp(r->name, names[i]) == 0, "rule %s is not found by name", names[i]);
        if (r) CHECK(r->needs_internal_loss ? !r->weight : r->weight != NULL, "rule %s: weight update", r->name);
        if (r) CHECK(!r->rank_one || r->weight, "rule %s: rank_one without a weight update", r->name);
        char quoted[64];
        snprintf(quoted, sizeof quoted, "`%s`", names[i]);
        CHECK(doc && strstr(doc, quoted), "rule %s is not in docs/models/RULES.md", names[i]);
    }
    CHECK(plast_rule_find("none") == NULL && plast_rule_find("default") == NULL, "none/default are not rules");
}

static void test_tasks(void) {
    static const char *const names[] = {
#define TASK_NAME(name, source) #name,
        PLAST_TASK_LIST(TASK_NAME)
#undef TASK_NAME
    };
    CHECK(plast_task_count == (int)(sizeof names / sizeof names[0]), "task table and list differ in length");
    const char *doc = read_doc("tasks/README.md");
    for (int i = 0; i < plast_task_count; i++) {
        CHECK(strcmp(plast_task_table[i]->name, names[i]) == 0, "task row %d is named %s, the list says %s", i,
              plast_task_table[i]->name, names[i]);
        CHECK(doc && has_word(doc, names[i]), "task %s is not in docs/tasks/README.md", names[i]);
    }
}

/* every environment of the list is in docs/envs/README.md and has its page; the env.name choices are the list */
static void test_envs(void) {
    const char *doc = read_doc("envs/README.md"); /* read_doc's buffer: the pages are read after the README */
#define ENV_LISTED(name, summary) CHECK(doc && has_word(doc, #name), "environment %s is not in docs/envs/README.md", #name);
    PLAST_ENV_LIST(ENV_LISTED)
#undef ENV_LISTED
#define ENV_PAGE(name, summary) CHECK(read_doc("envs/" #name ".md") != NULL, "environment %s has no page", #name);
    PLAST_ENV_LIST(ENV_PAGE)
#undef ENV_PAGE
    plast_env_cfg c;
    plast_env_cfg_default(&c, NULL);
    char set[64];
#define ENV_SET(name, summary)                                                                                      \
    snprintf(set, sizeof set, "env.name=%s", #name);                                                             \
    CHECK(plast_cfg_apply_set(plast_env_cfg_schema(), &c, set, NULL) == PLAST_OK, "env.name does not accept %s", #name);
    PLAST_ENV_LIST(ENV_SET)
#undef ENV_SET
}

static void test_kinds(void) {
    const char *doc = read_doc("TRAINING.md");
    for (int k = 0; k < PLAST_ENGINE_KIND_COUNT; k++) {
        const char *n = plast_engine_kind_name((plast_engine_kind)k);
        CHECK(strcmp(n, "unknown") != 0, "engine kind %d has no name", k);
        CHECK(doc && has_word(doc, n), "engine path %s is not in docs/TRAINING.md", n);
    }
    CHECK(strcmp(PLAST_ENGINE_KIND_CHOICES, "auto|tape|lowrank|dense|fused") == 0, "engine choices: %s",
          PLAST_ENGINE_KIND_CHOICES);
    for (int k = 0; k < PLAST_OPTIM_KIND_COUNT; k++) {
        const char *n = plast_optim_kind_name((plast_optim_kind)k);
        CHECK(plast_optim_kind_parse(n) == (plast_optim_kind)k, "optimizer %s does not parse back", n);
        CHECK(doc && has_word(doc, n), "optimizer %s is not in docs/TRAINING.md", n);
    }
}

int main(void) {
    const char *fx = getenv("PLAST_FIXTURES");
    snprintf(docs, sizeof docs, "%.400s/../../docs", fx ? fx : "tests/fixtures");
    test_ops();
    test_families();
    test_rules();
    test_tasks();
    test_envs();
    test_kinds();
    return test_finish("test_tables");
}
