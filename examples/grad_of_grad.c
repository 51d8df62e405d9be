/* examples/grad_of_grad.c: the smallest use of the library: a gradient, and the gradient of that gradient.
 * Build against an installed plast: cc grad_of_grad.c $(pkg-config --cflags --libs plast) */
#include <plast.h>
#include <stdio.h>

int main(void) {
    plast_tape *t = plast_tape_init(NULL);
    const plast_real w0[6] = {0.1f, -0.2f, 0.3f, 0.4f, -0.5f, 0.6f};
    const plast_real x0[12] = {1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1};
    const plast_real y0[8] = {0.5f, -0.5f, 0.1f, 0.2f, 0, 0, 0.3f, 0.3f};
    plast_node *w = plast_tape_var(t, PLAST_SHAPE2(3, 2), w0);
    plast_node *x = plast_tape_const(t, PLAST_SHAPE2(4, 3), x0);
    plast_node *y = plast_tape_const(t, PLAST_SHAPE2(4, 2), y0);
    plast_node *loss = plast_mse(t, plast_tanh(t, plast_matmul(t, x, w, 0, 0)), y);
    plast_node *g, *hg;
    plast_tape_grad(t, loss, NULL, 1, &w, &g, 1);           /* dloss/dw, recorded on the tape */
    plast_node *gnorm = plast_sum_all(t, plast_square(t, g)); /* |dloss/dw|^2 ... */
    plast_tape_grad(t, gnorm, NULL, 1, &w, &hg, 0);         /* ... and its gradient: second order */
    if (plast_tape_status(t) != PLAST_OK) {
        fprintf(stderr, "error: %s\n", plast_tape_error(t));
        return 1;
    }
    printf("plast %s (%d-byte reals): loss %.6f, dloss/dw[0] %.6f, d|g|^2/dw[0] %.6f\n", plast_version(),
           plast_real_bytes(), (double)plast_node_item(loss), (double)plast_node_data(g)[0],
           (double)plast_node_data(hg)[0]);
    plast_tape_free(t);
    return 0;
}
