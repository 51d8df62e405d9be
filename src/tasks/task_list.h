/* src/tasks/task_list.h: the tasks (task.name), once, in the order help texts list them. X(name, source): the row
 * `const plast_task_def plast_task_<name>` of the paper `source`. The task table (tasks.c) and the task.name help
 * text (task_cfg_fields.h) are generated from this list. */
#ifndef PLAST_TASKS_TASK_LIST_H
#define PLAST_TASKS_TASK_LIST_H

#define PLAST_TASK_LIST(X)                                                                                         \
    X(copy, "Duan et al. 2023")                                                                                    \
    X(cuereward, "Duan et al. 2023")                                                                               \
    X(regression, "Duan et al. 2023")                                                                              \
    X(oneshot, "Duan et al. 2023")                                                                                 \
    X(art, "Rodriguez et al. 2022")                                                                                \
    X(cfd, "Rodriguez et al. 2022, after Tyulmankov et al. 2022")                                                  \
    X(completion, "Miconi 2016")                                                                                   \
    X(oneshot_binary, "Miconi 2016")                                                                               \
    X(reversal, "Miconi 2016")                                                                                     \
    X(pattern, "Miconi et al. 2018")                                                                               \
    X(random, "checking and timing")

/* "copy | cuereward | ...": the names, for help texts */
#define PLAST_TASK_NAME_BAR(name, source) " | " #name
#define PLAST_TASK_NAMES (&PLAST_TASK_LIST(PLAST_TASK_NAME_BAR)[3])

#endif
