/* fuzz/fuzz_safetensors.c: the safetensors reader (src/io/safetensors.c) on arbitrary files: open, list every
 * tensor's name, dtype, shape and bytes, read each as plast_real, look up metadata. */
#include "fuzz_util.h"
#include "plast/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    plast_err err;
    plast_st_reader *r = plast_st_reader_open(fuzz_file("in.safetensors", data, n), &err);
    if (!r) return 0;
    for (int i = 0; i < plast_st_reader_count(r); i++) {
        const char *name = plast_st_reader_name(r, i);
        (void)plast_st_reader_find(r, name);
        (void)plast_dtype_name(plast_st_reader_dtype(r, i));
        for (int a = 0; a < plast_st_reader_ndim(r, i); a++) (void)plast_st_reader_dim(r, i, a);
        const int64_t numel = plast_st_reader_numel(r, i);
        const uint8_t *bytes = plast_st_reader_bytes(r, i);
        volatile uint8_t sink = 0;
        const size_t nb = (size_t)numel * plast_dtype_size(plast_st_reader_dtype(r, i));
        if (bytes && nb) sink = (uint8_t)(bytes[0] ^ bytes[nb - 1]); /* every tensor lies inside the file */
        (void)sink;
        plast_shape shape;
        if (numel >= 0 && numel <= (1 << 20)) {
            plast_real *buf = malloc(sizeof(plast_real) * (size_t)(numel > 0 ? numel : 1));
            if (buf) (void)plast_st_reader_read_any(r, name, &shape, buf, numel, &err);
            free(buf);
        }
    }
    (void)plast_st_reader_meta(r, "format");
    (void)plast_st_reader_meta(r, "plast");
    plast_st_reader_close(r);
    return 0;
}
