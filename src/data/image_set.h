/* src/data/image_set.h: labelled image collections for few-shot tasks (internal).
 *
 * An image set holds every image of a data set as 8-bit pixels, channels last, all resized to one square size,
 * grouped by class, with each class assigned to the training, validation or test split (few-shot learning splits
 * classes, not images). Loaders (one file per format) fill it and report errors naming the file and what is
 * wrong:
 *   idx.c      Fashion-MNIST / MNIST IDX files, gzip'd or not (Debian's dataset-fashion-mnist)
 *   cifar.c    the CIFAR-100 binary version, with the CIFAR-FS class split
 *   folder.c   folders of PNG/JPEG/BMP images, one folder per class, in the Omniglot or miniImageNet layouts
 */
#ifndef PLAST_DATA_IMAGE_SET_H
#define PLAST_DATA_IMAGE_SET_H

#include <stdint.h>

#include "plast/base.h"

#define IMAGE_CLASS_NAME_MAX 96

typedef struct image_set {
    int64_t size, channels;  /* every image is size x size x channels */
    int64_t n_images, n_classes;
    unsigned char *pixels;   /* (n_images, size, size, channels) */
    int64_t *first, *count;  /* (n_classes): the images of class c are first[c] .. first[c] + count[c] - 1 */
    int8_t *split;           /* (n_classes): 0 train, 1 validation, 2 test */
    char (*names)[IMAGE_CLASS_NAME_MAX];
    double mean[4], std[4];  /* per channel, over the training classes' images, in [0, 1] units */
    int64_t cap_images, cap_classes; /* allocated room */
} image_set;

/* An empty set of size x size x channels images. */
void image_set_init(image_set *s, int64_t size, int64_t channels);
void image_set_free(image_set *s);
/* Adds class `name` (split 0) of n images; returns where to write its n * size * size * channels pixels, or NULL
 * when out of memory. The pointer is valid until the next call. */
unsigned char *image_set_add_class(image_set *s, const char *name, int64_t n, plast_err *err);
/* Per-channel mean and standard deviation over the training split. */
void image_set_stats(image_set *s);
/* Number of classes in a split. */
int64_t image_set_split_count(const image_set *s, int split);
/* Assigns splits from a text file of lines "<train|val|test> <class name>"; every class must be named. */
plast_status image_set_split_file(image_set *s, const char *path, plast_err *err);

/* Loaders, into an empty (zeroed) set. `size` 0 keeps the stored size (folders: the first image's). */
/* IDX: <dir>/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz], both parts pooled; names: the 10 class names. */
plast_status image_set_load_idx(image_set *s, const char *dir, const char *const names[10], plast_err *err);
plast_status image_set_load_cifar100(image_set *s, const char *dir, plast_err *err);
plast_status image_set_load_folder(image_set *s, const char *dir, int64_t size, plast_err *err);

/* Resizes all images to size x size (no-op when equal). */
plast_status image_set_resize(image_set *s, int64_t size, plast_err *err);

#endif
