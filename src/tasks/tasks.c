/* src/tasks/tasks.c: the table of tasks (task.name), generated from task_list.h. */
#include "tasks/task_internal.h"
#include "tasks/task_list.h"

#define TASK_DECLARE(name, source) extern const plast_task_def plast_task_##name;
PLAST_TASK_LIST(TASK_DECLARE)
#undef TASK_DECLARE

#define TASK_ENTRY(name, source) &plast_task_##name,
const plast_task_def *const plast_task_table[] = {PLAST_TASK_LIST(TASK_ENTRY)};
#undef TASK_ENTRY
const int plast_task_count = (int)(sizeof plast_task_table / sizeof plast_task_table[0]);
