/* fuzz/fuzz_checkpoint.c: loading a checkpoint into a model and its optimizer (src/io/checkpoint.c on the
 * safetensors reader): every tensor's name, shape and values checked, nothing written out of bounds. */
#include "fuzz_model.h"
#include "fuzz_util.h"
#include "plast/checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    static fuzz_model f;
    if (!f.m) f = fuzz_model_open();
    plast_err err;
    (void)plast_ckpt_load(fuzz_file("in.safetensors", data, n), f.p, f.o, &err);
    return 0;
}
