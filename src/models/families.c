/* src/models/families.c: the table of model families (model.family), generated from family_list.h. Adding a
 * family: write family_<name>.c defining its row `const plast_family_def plast_family_<name>`, add it to
 * family_list.h, and add its configurations to tests/test_models_grad.c. */
#include "models/family_list.h"
#include "models/model_internal.h"

#define FAMILY_DECLARE(name) extern const plast_family_def plast_family_##name;
PLAST_FAMILY_LIST(FAMILY_DECLARE)
#undef FAMILY_DECLARE

#define FAMILY_ENTRY(name) &plast_family_##name,
const plast_family_def *const plast_family_table[] = {PLAST_FAMILY_LIST(FAMILY_ENTRY)};
#undef FAMILY_ENTRY
const int plast_family_count = (int)(sizeof plast_family_table / sizeof plast_family_table[0]);
