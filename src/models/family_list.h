/* src/models/family_list.h: the model families (model.family), once, in the order help texts list them. X(name): the
 * row `const plast_family_def plast_family_<name>` defined in family_<file>.c. The family table (families.c) and the
 * model.family help text (model_cfg_fields.h) are generated from this list. */
#ifndef PLAST_MODELS_FAMILY_LIST_H
#define PLAST_MODELS_FAMILY_LIST_H

#define PLAST_FAMILY_LIST(X)                                                                                       \
    X(duan) X(stpn) X(rnn) X(lstm) X(mlp) X(fastweights) X(hebbff) X(modplast) X(diffplast) X(bohp)

/* "duan | stpn | ...": the names, for help texts */
#define PLAST_FAMILY_NAME_BAR(name) " | " #name
#define PLAST_FAMILY_NAMES (&PLAST_FAMILY_LIST(PLAST_FAMILY_NAME_BAR)[3])

#endif
