/* fuzz/fuzz_model.h: the small model whose checkpoints the checkpoint harness loads and fuzz/seeds.c writes
 * (STPNr, 3 inputs, 4 units, 2 outputs; Adam). */
#ifndef PLAST_FUZZ_MODEL_H
#define PLAST_FUZZ_MODEL_H

#include <stdio.h>
#include <stdlib.h>

#include "plast/model.h"
#include "plast/optim.h"
#include "plast/params.h"
#include "plast/rng.h"

typedef struct fuzz_model {
    plast_model *m;
    plast_params *p;
    plast_optim *o;
} fuzz_model;

static inline fuzz_model fuzz_model_open(void) {
    fuzz_model f = {0};
    plast_model_cfg c;
    plast_model_cfg_default(&c, NULL);
    snprintf(c.family, sizeof c.family, "stpn");
    c.input = 3, c.output = 2, c.hidden = 4;
    f.m = plast_model_init(&c, NULL);
    f.p = f.m ? plast_model_params_init(f.m, NULL) : NULL;
    if (!f.p) abort();
    plast_rng rng = plast_rng_derive(1, 2, 3);
    plast_model_params_reset(f.m, f.p, &rng);
    const plast_optim_config oc = plast_optim_config_default(PLAST_OPTIM_ADAM);
    f.o = plast_optim_init(&oc, f.p, NULL);
    if (!f.o) abort();
    return f;
}

static inline void fuzz_model_close(fuzz_model *f) {
    plast_optim_free(f->o);
    plast_params_free(f->p);
    plast_model_free(f->m);
}

#endif
