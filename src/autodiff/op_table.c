/* src/autodiff/op_table.c: the op table, indexed by plast_op, generated from op_list.h. A definition missing from
 * its ops_<family>.c fails to link; tests/test_ops_grad.c fails for an op without finite-difference cases. */
#include "autodiff/tape_internal.h"

#define PLAST_OP_DECLARE(ID, name, family) extern const plast_op_def plast_op_##name;
PLAST_OP_LIST(PLAST_OP_DECLARE)
#undef PLAST_OP_DECLARE

#define PLAST_OP_ENTRY(ID, name, family) [PLAST_OP_##ID] = &plast_op_##name,
const plast_op_def *const plast_op_table[] = {PLAST_OP_LIST(PLAST_OP_ENTRY)};
#undef PLAST_OP_ENTRY
_Static_assert(sizeof plast_op_table / sizeof plast_op_table[0] == PLAST_OP_COUNT,
               "plast_op_table must have one entry per plast_op");
