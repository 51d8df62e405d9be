/* plast/engine.h: whole trials forward and backward, on the fastest path a model has.
 *
 * An engine runs a batch of trials of fixed size (batch B, T steps) of one model: forward over all T steps, then,
 * for training, backward from the gradient of any loss with respect to the outputs. Its memory is planned and
 * allocated once, at init, from (model, B, T).
 *
 * Paths (plast_engine_kind):
 *   tape     op by op on a plast_tape: every model, every rule; the reference the fast paths are tested against
 *   lowrank  Duan et al. models with Hebbian or gradient-based plasticity: each plastic weight kept as the sum of
 *            its rank-one updates, so products with it are matrix products over the trial's history; BPTT written
 *            by hand, second order included for the gradient rule
 *   dense    Duan et al.'s non-plastic baselines: batched matrix products, BPTT by hand
 * PLAST_ENGINE_AUTO picks the fastest path the model supports.
 */
#ifndef PLAST_ENGINE_H
#define PLAST_ENGINE_H

#include "plast/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The execution paths, once: X(ID, name). The enum, plast_engine_kind_name and train.engine's choices come from it. */
#define PLAST_ENGINE_KIND_LIST(X) X(AUTO, "auto") X(TAPE, "tape") X(LOWRANK, "lowrank") X(DENSE, "dense") X(FUSED, "fused")
#define PLAST_ENGINE_KIND_ENUM(ID, name) PLAST_ENGINE_##ID,
typedef enum plast_engine_kind { PLAST_ENGINE_KIND_LIST(PLAST_ENGINE_KIND_ENUM) PLAST_ENGINE_KIND_COUNT } plast_engine_kind;
#undef PLAST_ENGINE_KIND_ENUM
/* "auto|tape|lowrank|dense|fused", as configuration choices */
#define PLAST_ENGINE_KIND_BAR(ID, name) "|" name
#define PLAST_ENGINE_KIND_CHOICES (&PLAST_ENGINE_KIND_LIST(PLAST_ENGINE_KIND_BAR)[1])

PLAST_API const char *plast_engine_kind_name(plast_engine_kind k); /* "auto", "tape", "lowrank", "dense", "fused" */
/* The kind of a name above; PLAST_ENGINE_KIND_COUNT for anything else. */
PLAST_API plast_engine_kind plast_engine_kind_parse(const char *s);

typedef struct plast_engine plast_engine;

/* An engine for batches of `batch` trials of `steps` steps. With a kind other than AUTO, fails (naming the reason)
 * if the model has no such path. want_energy asks for the energy measure (the tape and fused paths compute it). */
PLAST_API plast_engine *plast_engine_init(const plast_model *m, int64_t batch, int64_t steps, plast_engine_kind kind,
                                          int want_energy, plast_err *err);
PLAST_API void plast_engine_free(plast_engine *e);
/* The path plast_engine_init would take and the bytes it would allocate, from the shapes alone and without
 * allocating anything (memory checks before a run, `plast info`); *bytes is 0 for a path that does not plan ahead
 * (the tape, whose use depends on the ops recorded). */
PLAST_API plast_status plast_engine_plan(const plast_model *m, int64_t batch, int64_t steps, plast_engine_kind kind,
                                         int want_energy, plast_engine_kind *chosen, size_t *bytes, plast_err *err);
PLAST_API plast_engine_kind plast_engine_get_kind(const plast_engine *e);
PLAST_API int64_t plast_engine_batch(const plast_engine *e); /* B */
PLAST_API int64_t plast_engine_steps(const plast_engine *e); /* T */
PLAST_API size_t plast_engine_bytes(const plast_engine *e); /* memory held (the tape path: its last use) */
/* Floating-point operations of one training step (forward and backward) as the path computes it, counted from the
 * shapes: its matrix products, and for the low-rank path the elementwise d/dalpha recursion; 0 where a path does
 * not count them (the tape). At a measured GEMM rate this gives the machine floor. */
PLAST_API double plast_engine_flops(const plast_engine *e);

/* Forward over a batch of trials from the zero state: x (T, B, I) in, y (T, B, O) out; modulation (T, B) and energy
 * (T, B) may be NULL. With `train`, keeps what backward needs (the parameters must not change in between). */
PLAST_API plast_status plast_engine_forward(plast_engine *e, plast_params *p, const plast_real *x, plast_real *y,
                                            plast_real *modulation, plast_real *energy, int train, plast_err *err);
/* Training from recorded states (truncated BPTT over chunks of long episodes): later forwards and stepped trials
 * start from s (batch B, held by the caller until the backward) instead of the zero state, as a constant: no
 * gradient flows into it. NULL returns to zeros. The tape, fused, fast-weight and cell paths start from a state
 * (Duan et al.'s paths do not, and fail naming the path); a model without state needs none (any path). */
PLAST_API plast_status plast_engine_set_initial_state(plast_engine *e, const plast_state *s, plast_err *err);
/* Stepping without gradients on the engine's path (rollouts): one step of every sample from state s (batch B),
 * advancing s in place, x (B, I) in, y (B, O) out, energy (B) may be NULL (then the engine need not have asked for
 * it). plast_model_step's result on a faster path: the engine must have T = 1 and a path that starts from a state;
 * the initial state set before is restored afterwards. */
PLAST_API plast_status plast_engine_advance(plast_engine *e, plast_params *p, plast_state *s, const plast_real *x,
                                            plast_real *y, plast_real *energy, plast_err *err);
/* Closed-loop use (reinforcement learning, where x_{t+1} depends on y_t): step t = 0, 1, ..., T - 1 of one
 * training trial, x_t (B, I) in, y_t (B, O) out, modulation_t and energy_t (B) may be NULL. After step T - 1 the
 * trial is recorded as by plast_engine_forward with train = 1, and plast_engine_backward may follow. The parameters
 * must not change during the trial. plast_engine_can_step says whether the path can (the fused and tape paths). */
PLAST_API int plast_engine_can_step(const plast_engine *e);
PLAST_API plast_status plast_engine_step(plast_engine *e, plast_params *p, int64_t t, const plast_real *x_t,
                                         plast_real *y_t, plast_real *modulation_t, plast_real *energy_t,
                                         plast_err *err);
/* Backward from dy = d loss / d y (T, B, O): adds d loss / d parameter into p's gradient buffer. */
PLAST_API plast_status plast_engine_backward(plast_engine *e, plast_params *p, const plast_real *dy, plast_err *err);

#ifdef __cplusplus
}
#endif
#endif
