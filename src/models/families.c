/* src/models/families.c: the table of model families (model.family). Adding a family: write family_<name>.c
 * defining `const plast_family_def plast_family_<name>`, list it here, and add its configurations to
 * tests/test_models_grad.c. */
#include "models/model_internal.h"

extern const plast_family_def plast_family_duan, plast_family_stpn, plast_family_rnn, plast_family_lstm,
    plast_family_mlp, plast_family_fastweights, plast_family_hebbff, plast_family_modplast, plast_family_diffplast,
    plast_family_bohp;

const plast_family_def *const plast_family_table[] = {
    &plast_family_duan,     &plast_family_stpn,     &plast_family_rnn,      &plast_family_lstm,
    &plast_family_mlp,      &plast_family_fastweights, &plast_family_hebbff, &plast_family_modplast,
    &plast_family_diffplast, &plast_family_bohp,
};
const int plast_family_count = (int)(sizeof plast_family_table / sizeof plast_family_table[0]);
