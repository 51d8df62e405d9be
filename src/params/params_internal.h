/* src/params/params_internal.h: the layout of a plast_params (internal; the tape reads views directly). */
#ifndef PLAST_PARAMS_PARAMS_INTERNAL_H
#define PLAST_PARAMS_PARAMS_INTERNAL_H

#include "plast/params.h"

typedef struct plast_param_view {
    char name[PLAST_PARAM_NAME_MAX];
    plast_shape shape;
    int64_t numel;
    int64_t offset; /* elements into values / grads */
} plast_param_view;

struct plast_params {
    int n;
    int64_t numel;
    plast_param_view *views; /* n views, inside this allocation */
    plast_real *values;      /* numel, 64-byte aligned, inside this allocation */
    plast_real *grads;       /* numel, same layout */
};

#endif
