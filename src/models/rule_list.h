/* src/models/rule_list.h: the plasticity rules (model.rule), once. X(name, formula, needs_internal_loss, rank_one,
 * weight, bias, kernel) is one row of plast_rule_def (model_internal.h); weight, bias and kernel name functions of
 * rules.c (kernel NULL: the rule has no elementwise form, and runs on the tape only). The rule
 * table (rules.c) and the model.rule help text (model_cfg_fields.h) are generated from this list. */
#ifndef PLAST_MODELS_RULE_LIST_H
#define PLAST_MODELS_RULE_LIST_H

#define PLAST_RULE_LIST(X)                                                                                         \
    X(hebbian, "G = pre (x) post; biases 0", 0, 1, hebbian_weight, NULL, hebbian_kernel)                           \
    X(oja, "G = post * (pre - F * post) per synapse; biases 0", 0, 0, oja_weight, NULL, oja_kernel)                \
    X(instar, "G = post * (pre - F) per synapse; biases 0", 0, 0, instar_weight, NULL, instar_kernel)              \
    X(gradient, "G = d L_int / d F, L_int the network's learned internal loss (Duan et al. 2023)", 1, 0, NULL,     \
      NULL, NULL)

/* "hebbian | oja | ...": the names, for help texts */
#define PLAST_RULE_NAME_BAR(name, formula, internal, rank_one, weight, bias, kernel) " | " #name
#define PLAST_RULE_NAMES (&PLAST_RULE_LIST(PLAST_RULE_NAME_BAR)[3])

#endif
