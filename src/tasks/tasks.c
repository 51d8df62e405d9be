/* src/tasks/tasks.c: the table of tasks (task.name). */
#include "tasks/task_internal.h"

extern const plast_task_def plast_task_copy, plast_task_cuereward, plast_task_regression, plast_task_random;

const plast_task_def *const plast_task_table[] = {
    &plast_task_copy,
    &plast_task_cuereward,
    &plast_task_regression,
    &plast_task_random,
};
const int plast_task_count = (int)(sizeof plast_task_table / sizeof plast_task_table[0]);
