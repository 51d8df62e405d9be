/* src/tasks/tasks.c: the table of tasks (task.name). */
#include "tasks/task_internal.h"

extern const plast_task_def plast_task_copy, plast_task_cuereward, plast_task_regression, plast_task_oneshot, plast_task_art,
    plast_task_cfd, plast_task_completion, plast_task_oneshot_binary, plast_task_reversal, plast_task_pattern,
    plast_task_random;

const plast_task_def *const plast_task_table[] = {
    &plast_task_copy,           /* Duan et al. 2023 */
    &plast_task_cuereward,      /* Duan et al. 2023 */
    &plast_task_regression,     /* Duan et al. 2023 */
    &plast_task_oneshot,        /* Duan et al. 2023 */
    &plast_task_art,            /* Rodriguez et al. 2022 */
    &plast_task_cfd,            /* Rodriguez et al. 2022, after Tyulmankov et al. 2022 */
    &plast_task_completion,     /* Miconi 2016 */
    &plast_task_oneshot_binary, /* Miconi 2016 */
    &plast_task_reversal,       /* Miconi 2016 */
    &plast_task_pattern,        /* Miconi et al. 2018 */
    &plast_task_random,         /* checking and timing */
};
const int plast_task_count = (int)(sizeof plast_task_table / sizeof plast_task_table[0]);
