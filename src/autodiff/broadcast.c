/* src/autodiff/broadcast.c: axis and broadcasting rules shared by the op families. */
#include "autodiff/tape_internal.h"

int plast_axis_normalize(int axis, int ndim) {
    if (axis < 0) axis += ndim;
    return (axis < 0 || axis >= ndim) ? -1 : axis;
}

int plast_shape_broadcast(plast_shape a, plast_shape b, plast_shape *out) {
    int nd = a.ndim > b.ndim ? a.ndim : b.ndim;
    plast_shape r = PLAST_SHAPE0();
    r.ndim = nd;
    for (int i = 0; i < nd; i++) { /* i counts axes from the right */
        int64_t da = i < a.ndim ? a.d[a.ndim - 1 - i] : 1;
        int64_t db = i < b.ndim ? b.d[b.ndim - 1 - i] : 1;
        if (da != db && da != 1 && db != 1) return 0;
        r.d[nd - 1 - i] = da == 1 ? db : da;
    }
    *out = r;
    return 1;
}

int plast_shape_broadcasts_to(plast_shape from, plast_shape to) {
    if (from.ndim > to.ndim) return 0;
    for (int i = 0; i < from.ndim; i++) {
        int64_t df = from.d[from.ndim - 1 - i], dt = to.d[to.ndim - 1 - i];
        if (df != dt && df != 1) return 0;
    }
    return 1;
}

void plast_broadcast_strides(plast_shape in, plast_shape out, int64_t strides[PLAST_MAX_DIMS],
                             int64_t dims[PLAST_MAX_DIMS]) {
    int64_t stride = 1;
    for (int i = 0; i < PLAST_MAX_DIMS; i++) { /* i counts axes from the right */
        int k = PLAST_MAX_DIMS - 1 - i;
        dims[k] = i < out.ndim ? out.d[out.ndim - 1 - i] : 1;
        int64_t din = i < in.ndim ? in.d[in.ndim - 1 - i] : 1;
        strides[k] = (din == 1) ? 0 : stride;
        stride *= din;
    }
}
