/* src/tasks/task_cfg_fields.h: the task.* configuration keys, an X-macro list (see models/model_cfg_fields.h).
 * Include it with TF(key, type, member, def, lo, hi, choices, help) defined. 0 or "" = the task's default. */
#include "tasks/task_list.h"
TF("name", STRING, name, "cuereward", 0, -1, NULL, PLAST_TASK_NAMES)
TF("steps", INT, steps, "0", 0, 1 << 24, NULL, "random: time steps T (5); its sizes are task.dim (I) and task.items (O)")
TF("length", INT, length, "0", 0, 1 << 24, NULL, "copy: n (20); cuereward: trial length (20); cfd: T (5000)")
TF("delay", INT, delay, "-1", -1, 1 << 24, NULL, "copy: delay m (-1: 20)")
TF("items", INT, items, "0", 0, 1 << 16, NULL,
   "cuereward: cues (5); oneshot: ways (5); art: pairs (3); pattern: patterns (2)")
TF("dim", INT, dim, "0", 0, 1 << 20, NULL,
   "cuereward: stimulus size (14); regression: variables (12 linear, 6 mlp); cfd: d (100); pattern: bits (50)")
TF("shots", INT, shots, "0", 0, 1 << 16, NULL, "regression: support points K (10); oneshot: shots (1)")
TF("queries", INT, queries, "0", 0, 1 << 16, NULL, "regression: query points (20); oneshot: queries per class (1)")
TF("noise", REAL, noise, "-1", -1, 100, NULL, "cuereward, regression: noise std (-1: 0.1)")
TF("function", CHOICE, function, "linear", 0, -1, "linear|mlp", "regression: the random function")
TF("repeat", INT, repeat, "0", 0, 1 << 20, NULL, "cfd: R, steps between an item and its repeat (3)")
TF("repeat_prob", REAL, repeat_prob, "0.5", 0, 1, NULL, "cfd: P")
TF("mode", CHOICE, mode, "infinite", 0, -1, "infinite|dataset",
   "art, cfd: fresh data every step, or one fixed training set")
TF("dataset_size", INT, dataset_size, "0", 0, 1 << 30, NULL, "art: sequences in the training set (100000)")
TF("dataset", CHOICE, dataset, "fashion-mnist", 0, -1, "fashion-mnist|cifar|folder", "oneshot: the images")
TF("data_path", STRING, data_path, "", 0, -1, NULL,
   "oneshot: the data folder (fashion-mnist: Debian's /usr/share/datasets/fashion-mnist; cifar: the CIFAR-100 "
   "binary version; folder: class folders in the miniImageNet or Omniglot layout)")
TF("image_size", INT, image_size, "0", 0, 4096, NULL, "oneshot: images are resized to this size (0: as stored)")
TF("rotations", INT, rotations, "0", 0, 4, NULL,
   "oneshot: 4 makes each class's rotations by 90, 180 and 270 degrees new classes (0: 4 for fashion-mnist, else 1)")
TF("split_file", STRING, split_file, "", 0, -1, NULL,
   "oneshot: a file of lines \"train|val|test <class name>\" replacing the built-in class split")
TF("presentations", INT, presentations, "0", 0, 1 << 16, NULL, "pattern: steps each pattern is shown (3)")
TF("cycles", INT, cycles, "0", 0, 1 << 16, NULL, "pattern: presentation cycles (1)")
TF("learn_period", INT, learn_period, "0", 0, 1 << 16, NULL, "oneshot_binary, reversal: steps shown with labels (2)")
TF("data_seed", INT, data_seed, "0", 0, 4e18, NULL,
   "art, cfd (dataset mode): seed of the fixed data sets, shared by every run as the references' cached data")
