/* tests/st_export.c PATH: writes a checkpoint with known contents, for test_numpy_interop.py to read with numpy. */
#include "plast.h"

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    plast_param_spec specs[2] = {{"layer.w", PLAST_SHAPE2(2, 3)}, {"layer.b", PLAST_SHAPE1(3)}};
    plast_params *p = plast_params_init(2, specs, NULL);
    for (int64_t i = 0; i < plast_params_numel(p); i++) plast_params_values(p)[i] = (plast_real)(0.5 * (double)i - 1);
    plast_optim_config c = plast_optim_config_default(PLAST_OPTIM_ADAMW);
    c.amsgrad = 1;
    plast_optim *o = plast_optim_init(&c, p, NULL);
    for (int64_t i = 0; i < plast_params_numel(p); i++) plast_params_grads(p)[i] = 1;
    plast_optim_step(o, p, 1e-3, NULL);
    const char *k[1] = {"step"}, *v[1] = {"1"};
    plast_err err;
    plast_status s = plast_ckpt_save(argv[1], p, o, 1, k, v, &err);
    plast_optim_free(o);
    plast_params_free(p);
    return s == PLAST_OK ? 0 : 1;
}
