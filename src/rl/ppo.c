/* src/rl/ppo.c: proximal policy optimisation with a diagonal Gaussian policy (plast/rl.h; docs/RL.md). The
 * settings default to what Rodriguez et al. 2022 ran through RLlib (their run-invertedpendulum-ppo.py with RLlib's
 * PPO defaults of early 2022: GAE, advantages standardised over the batch, the old max-form value clipping, an
 * adaptive KL penalty on top of the clipped surrogate, minibatches of 20-step sequences replayed from the states
 * recorded while sampling); cleanrl's choices are options. This file is the learner: sampling, advantages,
 * minibatches, evaluation and the learner's saved state; the objective itself is ppo_loss.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "plast/model.h"
#include "plast/rl.h"
#include "plast/tape.h"
#include "rl/ppo_policy.h"

/* draws: actions from stream PLAST_PPO_ACTION_STREAM + copy (item = iteration), minibatch order from
 * PLAST_PPO_SHUFFLE_STREAM (item = iteration), evaluation actions from PLAST_PPO_EVAL_STREAM + copy */
#define PLAST_PPO_ACTION_STREAM ((uint64_t)3 << 32)
#define PLAST_PPO_SHUFFLE_STREAM ((uint64_t)4 << 32)
#define PLAST_PPO_EVAL_STREAM ((uint64_t)5 << 32)

/* a sequence of the rollout: copy b's steps t0 .. t0 + len - 1, starting from the zero state (slot -1) or from
 * the state recorded in slot */
typedef struct ppo_seq {
    int64_t b, t0, len, slot;
} ppo_seq;
/* a sequence of the global rollout (every process's): copy b of the global batch, its steps t0 .. t0 + len - 1; its
 * index among this process's sequences, or -1 when another process holds it */
typedef struct ppo_gseq {
    int64_t t0, b, len, local;
} ppo_gseq;

struct plast_ppo {
    plast_ppo_cfg cfg;
    const plast_model *m;
    plast_env *env;
    int64_t N, L, I, O, A, S, M; /* copies, steps per copy, input, output, actions, sequence length, seqs/minibatch */
    int discrete;                /* a categorical policy over A actions, else a Gaussian over a box of A reals */
    int64_t P, AD;               /* policy outputs (A or 2A), reals stored per action (1 or A) */
    int log_std_param;           /* ppo.std free: the model's parameter "policy.log_std" (A); else -1 */
    const plast_real *log_std;   /* its values while an iteration or evaluation runs */
    int64_t state_numel;         /* the model's state per copy */
    plast_space space;
    /* between iterations (the learner's state, saved with plast_ppo_state_save) */
    plast_state *state;    /* (N) the model's state now */
    plast_real *obs_now;   /* (N, I) the observation the next step acts on */
    double *ep_return;     /* (N) the episode in progress so far */
    uint8_t *ep_start;     /* (N) the next step is its episode's first */
    double kl_coef;
    int64_t timesteps;     /* steps sampled so far, all copies */
    /* one iteration's rollout, (L, N) row-major by step */
    plast_real *obs;       /* (L, N, I) */
    plast_real *act;       /* (L, N, AD) sampled, unsquashed (discrete: the index) */
    plast_real *env_act;   /* (N, A) sent to a box environment */
    int32_t *env_idx;      /* (N) sent to a discrete one */
    double *mean, *std;    /* (L, N, A) the sampling policy (discrete: its logits in mean) */
    double *logp, *value, *reward, *adv, *ret, *next_value; /* (L, N); next_value: V(s_{t+1}) or 0 at an end */
    uint8_t *ended;        /* (L, N) the episode ended at this step */
    double *step_energy;   /* (L) mean energy per step over the copies */
    ppo_seq *seqs;         /* (L N) at most */
    int64_t n_seqs, n_slots;
    plast_real *slots;     /* (N ceil(L / S) + N, state_numel) recorded states */
    int64_t *seq_open;     /* (N) the sequence copy b is filling (-1 none) */
    int32_t *perm;         /* (L N) sequence order */
    /* stepping without gradients */
    plast_state *probe;    /* (N) a copy of the state for bootstrap values */
    plast_tape *scratch;
    plast_real *y_step, *energy, *next_obs, *rew; /* (N, O), (N), (N, I), (N) */
    uint8_t *term, *trunc, *was_reset;            /* (N) */
    double *u;
    plast_rng *rngs;       /* (N) */
    /* data-parallel (plast_ppo_set_comm; size 1 alone): this process's first copy, the global batch */
    plast_comm comm;
    int64_t first, N_all;
    ppo_gseq *gseqs;       /* (L N_all) the global sequence table, in the order one process opens them */
    int64_t n_all;
    int32_t *mine;         /* (M) a minibatch's sequences held here (local indices) */
    double *gather;        /* (size + 3 L N_all) the table's exchange (data-parallel only) */
    double *reduce;        /* (parameters + statistics) the gradient allreduce (data-parallel only) */
    /* the training engine: chunks of M sequences of S steps (fewer when data-parallel: plast_ppo_set_comm) */
    plast_engine_kind kind;
    plast_engine *engine;
    /* the rollout's: one step of the N copies on the model's fast path (plast_engine_advance), or NULL: the tape */
    plast_engine *stepper;
    plast_state *init;     /* (M) the minibatch's initial states */
    plast_real *x, *y, *dy; /* (S, M, I), (S, M, O), (S, M, O) */
    plast_real *mb_act;     /* (S M, AD) */
    double *mb_mean, *mb_std, *mb_logp, *mb_value, *mb_adv, *mb_ret; /* (S M [, A]) */
    uint8_t *mb_valid;      /* (S M) */
};

/* copy b's row of every state tensor into a flat buffer (state_numel), and back (NULL: zeros) */
static void state_get(const plast_model *m, plast_state *s, int64_t b, plast_real *out) {
    for (int k = 0; k < plast_model_state_count(m); k++) {
        const int64_t n = plast_shape_numel(plast_model_state_shape(m, k));
        memcpy(out, plast_state_data(s, k) + b * n, sizeof(plast_real) * (size_t)n);
        out += n;
    }
}
static void state_put(const plast_model *m, plast_state *s, int64_t b, const plast_real *in) {
    for (int k = 0; k < plast_model_state_count(m); k++) {
        const int64_t n = plast_shape_numel(plast_model_state_shape(m, k));
        plast_real *row = plast_state_data(s, k) + b * n;
        if (in) memcpy(row, in, sizeof(plast_real) * (size_t)n), in += n;
        else memset(row, 0, sizeof(plast_real) * (size_t)n);
    }
}
static void state_copy(const plast_model *m, plast_state *dst, plast_state *src) {
    for (int k = 0; k < plast_model_state_count(m); k++)
        memcpy(plast_state_data(dst, k), plast_state_data(src, k),
               sizeof(plast_real) * (size_t)(plast_state_batch(src) * plast_shape_numel(plast_model_state_shape(m, k))));
}

/* the learner's malloc'd buffers, listed once: freed together, checked together after allocation */
#define PPO_BUFFERS(X)                                                                                              \
    X(obs_now) X(ep_return) X(ep_start) X(obs) X(act) X(env_act) X(env_idx) X(mean) X(std) X(logp) X(value)         \
    X(reward) X(adv) X(ret) X(next_value) X(ended) X(step_energy) X(seqs) X(slots) X(seq_open) X(perm) X(y_step)   \
    X(energy) X(next_obs) X(rew) X(term) X(trunc) X(was_reset) X(u) X(rngs) X(x) X(y) X(dy) X(mb_act) X(mb_mean)  \
    X(mb_std) X(mb_logp) X(mb_value) X(mb_adv) X(mb_ret) X(mb_valid) X(gseqs) X(mine)
#define PPO_BUFFER_PTR(name) (void *)a->name,

void plast_ppo_free(plast_ppo *a) {
    if (!a) return;
    plast_engine_free(a->engine);
    plast_engine_free(a->stepper);
    plast_tape_free(a->scratch);
    plast_state_free(a->state), plast_state_free(a->probe), plast_state_free(a->init);
    void *bufs[] = {PPO_BUFFERS(PPO_BUFFER_PTR)};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    free(a->gather), free(a->reduce);
    free(a);
}

plast_engine *plast_ppo_engine(plast_ppo *a) { return a->engine; }

static plast_status train_engine_open(plast_ppo *a, int64_t batch, plast_err *err);

plast_status plast_ppo_set_comm(plast_ppo *a, const plast_comm *comm, plast_err *err) {
    if (!a || !comm || comm->size < 1 || comm->rank < 0 || comm->rank >= comm->size || !comm->allreduce_sum ||
        !comm->broadcast)
        return plast_err_set(err, PLAST_ERR_INVALID_ARG, "ppo: set_comm needs a learner and a communicator");
    if (a->first != comm->rank * a->N)
        return plast_err_set(err, PLAST_ERR_INVALID_ARG, "ppo: process %d holds copies from %lld; data-parallel PPO "
                             "needs equal shares in rank order (from %lld)", comm->rank, (long long)a->first,
                             (long long)(comm->rank * a->N));
    const int64_t N_all = a->N * comm->size;
    const size_t LN = (size_t)(a->L * N_all);
    ppo_gseq *g = realloc(a->gseqs, sizeof(ppo_gseq) * LN);
    if (g) a->gseqs = g;
    int32_t *perm = g ? realloc(a->perm, sizeof(int32_t) * LN) : NULL;
    if (perm) a->perm = perm;
    double *gather = perm ? realloc(a->gather, sizeof(double) * ((size_t)comm->size + 3 * LN)) : NULL;
    if (gather) a->gather = gather;
    if (!gather) return plast_err_set(err, PLAST_ERR_NOMEM, "ppo: out of memory for %lld copies", (long long)N_all);
    a->comm = *comm, a->N_all = N_all;
    /* a process holds about M / P of a minibatch's M sequences, spread as a hypergeometric draw: the engine takes
     * that share and two standard deviations in one chunk, more in two or more */
    const double P = comm->size, share = (double)a->M / P, sd = sqrt((double)a->M / P * (1 - 1 / P));
    const int64_t chunk = (int64_t)ceil(share + 2 * sd);
    return chunk < a->M ? train_engine_open(a, chunk, err) : PLAST_OK;
}

/* the sum over the processes of n doubles, in place (alone: nothing to do) */
static plast_status ppo_allreduce(plast_ppo *a, double *v, int64_t n, plast_err *err) {
    if (a->comm.size == 1 || a->comm.allreduce_sum(v, n, a->comm.user) == PLAST_OK) return PLAST_OK;
    return plast_err_set(err, PLAST_ERR_STATE, "data-parallel PPO: an allreduce failed");
}

/* orders the global table as one process opens sequences: by step, then by copy */
static int gseq_order(const void *x, const void *y) {
    const ppo_gseq *p = x, *q = y;
    return p->t0 != q->t0 ? (p->t0 < q->t0 ? -1 : 1) : (p->b > q->b) - (p->b < q->b);
}

/* the global sequence table from every process's rollout: the counts, then (t0, copy, len) of each sequence,
 * exchanged by summing zero-padded blocks (integers, exact in doubles), ordered as one process would open them */
static plast_status seq_table(plast_ppo *a, plast_err *err) {
    if (a->comm.size == 1) {
        for (int64_t i = 0; i < a->n_seqs; i++)
            a->gseqs[i] = (ppo_gseq){a->seqs[i].t0, a->seqs[i].b, a->seqs[i].len, i};
        a->n_all = a->n_seqs;
        return PLAST_OK;
    }
    const int P = a->comm.size, me = a->comm.rank;
    double *count = a->gather, *rows = a->gather + P;
    memset(count, 0, sizeof(double) * (size_t)P);
    count[me] = (double)a->n_seqs;
    plast_status s = ppo_allreduce(a, count, P, err);
    if (s != PLAST_OK) return s;
    int64_t before = 0, total = 0;
    for (int r = 0; r < P; r++) before += r < me ? (int64_t)count[r] : 0, total += (int64_t)count[r];
    memset(rows, 0, sizeof(double) * (size_t)(3 * total));
    for (int64_t i = 0; i < a->n_seqs; i++) {
        double *w = rows + 3 * (before + i);
        w[0] = (double)a->seqs[i].t0, w[1] = (double)(a->first + a->seqs[i].b), w[2] = (double)a->seqs[i].len;
    }
    if ((s = ppo_allreduce(a, rows, 3 * total, err)) != PLAST_OK) return s;
    for (int64_t i = 0; i < total; i++)
        a->gseqs[i] = (ppo_gseq){(int64_t)rows[3 * i], (int64_t)rows[3 * i + 1], (int64_t)rows[3 * i + 2], -1};
    qsort(a->gseqs, (size_t)total, sizeof(ppo_gseq), gseq_order);
    /* this process's sequences keep their order (by step, then copy) within the global one */
    for (int64_t i = 0, k = 0; i < total; i++)
        if (a->gseqs[i].b >= a->first && a->gseqs[i].b < a->first + a->N) a->gseqs[i].local = k++;
    a->n_all = total;
    return PLAST_OK;
}

/* an engine that steps the copies of state st on the model's fast path (batch of state st), or NULL where the
 * path starts from zeros only (then plast_model_step on the tape serves) */
static plast_engine *stepper_open(const plast_model *m, const plast_state *st) {
    plast_engine *e = plast_engine_init(m, plast_state_batch(st), 1, PLAST_ENGINE_AUTO, 1, NULL);
    if (e && plast_engine_set_initial_state(e, st, NULL) == PLAST_OK && plast_engine_get_kind(e) != PLAST_ENGINE_TAPE) {
        plast_engine_set_initial_state(e, NULL, NULL);
        return e;
    }
    plast_engine_free(e);
    return NULL;
}

/* one step of every copy from state st, advanced in place: on the stepper's path, else on the tape */
static plast_status policy_step(const plast_ppo *a, plast_engine *stepper, plast_params *p, plast_state *st,
                                const plast_real *obs, plast_real *y, plast_real *energy, plast_err *err) {
    if (stepper) return plast_engine_advance(stepper, p, st, obs, y, energy, err);
    return plast_model_step(a->m, p, st, obs, y, NULL, energy, a->scratch, err);
}

/* the training engine for minibatch chunks of `batch` sequences of S steps and their initial states; sequences start
 * from recorded states, so with train.engine = auto a path that starts from zeros only gives way to the tape */
static plast_status train_engine_open(plast_ppo *a, int64_t batch, plast_err *err) {
    plast_engine_free(a->engine), a->engine = NULL;
    plast_state_free(a->init);
    if (!(a->init = plast_state_init(a->m, batch, err))) return plast_err_status(err, PLAST_ERR_NOMEM);
    a->engine = plast_engine_init(a->m, batch, a->S, a->kind, 0, err);
    if (a->engine && a->kind == PLAST_ENGINE_AUTO && plast_engine_set_initial_state(a->engine, a->init, NULL) != PLAST_OK) {
        plast_engine_free(a->engine);
        a->engine = plast_engine_init(a->m, batch, a->S, PLAST_ENGINE_TAPE, 0, err);
    }
    if (!a->engine) return plast_err_status(err, PLAST_ERR_NOMEM);
    return plast_engine_set_initial_state(a->engine, a->init, err);
}

plast_ppo *plast_ppo_init(const plast_ppo_cfg *cfg, const plast_model *m, plast_env *env, plast_engine_kind kind,
                          plast_err *err) {
    if (!cfg || !m || !env) {
        plast_err_set(err, PLAST_ERR_INVALID_ARG, "ppo: needs a configuration, a model and an environment");
        return NULL;
    }
    const plast_space as = plast_env_action_space(env);
    const int discrete = as.kind == PLAST_SPACE_DISCRETE;
    if (as.n > (discrete ? 128 : 64)) {
        plast_err_set(err, PLAST_ERR_CONFIG, "ppo: %s has %lld actions; at most 64 reals or 128 discrete actions",
                      plast_env_describe(env), (long long)as.n);
        return NULL;
    }
    /* a free std is the model's parameter policy.log_std (model.policy_log_std), not outputs */
    const int free_std = !discrete && strcmp(cfg->std, "free") == 0;
    int log_std_param = -1;
    for (int i = 0; free_std && i < plast_model_param_count(m); i++) {
        const plast_param_spec *sp = plast_model_param_specs(m) + i;
        if (strcmp(sp->name, "policy.log_std") == 0 && plast_shape_numel(sp->shape) == as.n) log_std_param = i;
    }
    if (free_std && log_std_param < 0) {
        plast_err_set(err, PLAST_ERR_CONFIG, "ppo: ppo.std = free needs the model's parameter policy.log_std of %lld "
                      "reals (model.policy_log_std = %lld)", (long long)as.n, (long long)as.n);
        return NULL;
    }
    const int64_t P = discrete || free_std ? as.n : 2 * as.n; /* policy outputs, then the value */
    if (plast_model_input(m) != plast_env_observation_space(env).n || plast_model_output(m) != P + 1) {
        plast_err_set(err, PLAST_ERR_CONFIG,
                      "ppo: model input %lld and output %lld do not fit %s (input %lld, output %lld: %s and a value)",
                      (long long)plast_model_input(m), (long long)plast_model_output(m), plast_env_describe(env),
                      (long long)plast_env_observation_space(env).n, (long long)(P + 1),
                      discrete ? "the logits" : free_std ? "means" : "means, standard deviations");
        return NULL;
    }
    if (cfg->steps < 1 || cfg->epochs < 0 || cfg->minibatch < 1 || cfg->seq_len < 0) {
        plast_err_set(err, PLAST_ERR_CONFIG, "ppo: steps, minibatch >= 1, epochs, seq_len >= 0");
        return NULL;
    }
    plast_ppo *a = calloc(1, sizeof *a);
    if (!a) {
        plast_err_set(err, PLAST_ERR_NOMEM, "ppo: out of memory");
        return NULL;
    }
    a->cfg = *cfg, a->m = m, a->env = env, a->space = as;
    const int64_t N = plast_env_count(env), L = cfg->steps, I = plast_model_input(m), O = plast_model_output(m);
    const int64_t A = as.n, S = cfg->seq_len > 0 && cfg->seq_len < L ? cfg->seq_len : L;
    const int64_t M = cfg->minibatch / S > 1 ? cfg->minibatch / S : 1;
    a->N = N, a->L = L, a->I = I, a->O = O, a->A = A, a->S = S, a->M = M;
    a->discrete = discrete, a->P = P, a->AD = discrete ? 1 : A, a->log_std_param = log_std_param;
    a->state_numel = plast_model_state_numel(m);
    a->kl_coef = cfg->kl_coef;
    const size_t R = sizeof(plast_real), D = sizeof(double), LN = (size_t)(L * N);
    const size_t max_slots = (size_t)(N * ((L + S - 1) / S + 1));
    a->obs_now = malloc(R * (size_t)(N * I));
    a->ep_return = calloc((size_t)N, D);
    a->ep_start = malloc((size_t)N);
    a->obs = malloc(R * LN * (size_t)I);
    a->act = malloc(R * LN * (size_t)a->AD);
    a->env_act = malloc(R * (size_t)(N * A));
    a->env_idx = malloc(sizeof(int32_t) * (size_t)N);
    a->mean = malloc(D * LN * (size_t)A);
    a->std = malloc(D * LN * (size_t)A);
    a->logp = malloc(D * LN), a->value = malloc(D * LN), a->reward = malloc(D * LN), a->adv = malloc(D * LN);
    a->ret = malloc(D * LN), a->next_value = malloc(D * LN), a->ended = malloc(LN);
    a->step_energy = calloc((size_t)L, D);
    a->seqs = malloc(sizeof(ppo_seq) * LN);
    a->slots = malloc(R * max_slots * (size_t)(a->state_numel > 0 ? a->state_numel : 1));
    a->seq_open = malloc(sizeof(int64_t) * (size_t)N);
    a->perm = malloc(sizeof(int32_t) * LN);
    a->y_step = malloc(R * (size_t)(N * O)), a->energy = malloc(R * (size_t)N), a->next_obs = malloc(R * (size_t)(N * I));
    a->rew = malloc(R * (size_t)N), a->term = malloc((size_t)N), a->trunc = malloc((size_t)N);
    a->was_reset = malloc((size_t)N), a->u = malloc(D * (size_t)N), a->rngs = malloc(sizeof(plast_rng) * (size_t)N);
    const size_t SM = (size_t)(S * M);
    a->x = malloc(R * SM * (size_t)I), a->y = malloc(R * SM * (size_t)O), a->dy = malloc(R * SM * (size_t)O);
    a->mb_act = malloc(R * SM * (size_t)a->AD), a->mb_mean = malloc(D * SM * (size_t)A), a->mb_std = malloc(D * SM * (size_t)A);
    a->mb_logp = malloc(D * SM), a->mb_value = malloc(D * SM), a->mb_adv = malloc(D * SM), a->mb_ret = malloc(D * SM);
    a->mb_valid = malloc(SM);
    a->gseqs = malloc(sizeof(ppo_gseq) * LN), a->mine = malloc(sizeof(int32_t) * (size_t)M);
    a->comm.size = 1, a->first = plast_env_first(env), a->N_all = N;
    void *need[] = {PPO_BUFFERS(PPO_BUFFER_PTR)};
    for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
        if (!need[i]) {
            plast_err_set(err, PLAST_ERR_NOMEM, "ppo: out of memory for %lld copies x %lld steps", (long long)N,
                          (long long)L);
            plast_ppo_free(a);
            return NULL;
        }
    a->state = plast_state_init(m, N, err);
    a->probe = a->state ? plast_state_init(m, N, err) : NULL;
    a->scratch = a->probe ? plast_tape_init(err) : NULL;
    a->kind = kind;
    if (!a->scratch || train_engine_open(a, M, err) != PLAST_OK) {
        plast_ppo_free(a);
        return NULL;
    }
    a->stepper = stepper_open(m, a->state);
    memset(a->ep_start, 1, (size_t)N);
    plast_env_seek(env, 0);
    if (plast_env_reset(env, a->obs_now, err) != PLAST_OK) {
        plast_ppo_free(a);
        return NULL;
    }
    return a;
}

/* an action from one output row y: the policy (pol (A): means or logits; sd (A): deviations, box only), the action
 * drawn from rng (explore) or the most likely, stored as act (AD), what the environment gets (env_val (A) for a box,
 * *env_idx for discrete actions), and its log-probability */
static double act_choose(const plast_ppo *a, const plast_real *y, plast_rng *rng, int explore, double *pol, double *sd,
                         plast_real *act, plast_real *env_val, int32_t *env_idx) {
    const int64_t A = a->A;
    if (a->discrete) {
        double mx = y[0], z = 0;
        for (int64_t k = 0; k < A; k++) pol[k] = (double)y[k], mx = fmax(mx, pol[k]);
        for (int64_t k = 0; k < A; k++) z += exp(pol[k] - mx);
        int32_t pick = 0;
        if (explore) { /* inverse CDF; rounding leaves the remainder to the last action */
            const double u = plast_rng_uniform(rng);
            double c = 0;
            pick = (int32_t)(A - 1);
            for (int64_t k = 0; k < A; k++)
                if (u < (c += exp(pol[k] - mx) / z)) {
                    pick = (int32_t)k;
                    break;
                }
        } else {
            for (int64_t k = 1; k < A; k++) pick = pol[k] > pol[pick] ? (int32_t)k : pick;
        }
        act[0] = (plast_real)pick, *env_idx = pick;
        return pol[pick] - mx - log(z);
    }
    for (int64_t k = 0; k < A; k++) {
        pol[k] = (double)y[k], sd[k] = a->log_std ? exp((double)a->log_std[k]) : softplus((double)y[A + k]);
        act[k] = (plast_real)(explore ? pol[k] + sd[k] * plast_rng_normal(rng) : pol[k]);
        const double lo = a->space.low, hi = a->space.high, v = lo + ((double)act[k] + 1) * (hi - lo) / 2;
        env_val[k] = (plast_real)fmax(lo, fmin(hi, v));
    }
    return gauss_logp(act, pol, sd, A);
}

/* values V(obs) for every copy from a copy of the current state, without changing it */
static plast_status probe_values(plast_ppo *a, plast_params *p, const plast_real *obs, double *v, plast_err *err) {
    state_copy(a->m, a->probe, a->state);
    plast_status s = policy_step(a, a->stepper, p, a->probe, obs, a->y_step, NULL, err);
    for (int64_t b = 0; b < a->N && s == PLAST_OK; b++) v[b] = (double)a->y_step[b * a->O + a->P];
    return s;
}

/* opens a new sequence for copy b at step t: from the zero state at an episode start, else from the state now */
static void seq_open(plast_ppo *a, int64_t b, int64_t t) {
    ppo_seq *q = &a->seqs[a->n_seqs];
    q->b = b, q->t0 = t, q->len = 0, q->slot = -1;
    if (!a->ep_start[b] && a->state_numel > 0) {
        q->slot = a->n_slots++;
        state_get(a->m, a->state, b, a->slots + q->slot * a->state_numel);
    }
    a->seq_open[b] = a->n_seqs++;
}

/* samples L steps in every copy; episodes that end restart at once (their state zeroed) */
static plast_status rollout(plast_ppo *a, plast_params *p, uint64_t seed, int64_t iteration, double *returns,
                            int64_t *episodes, double *energy, plast_err *err) {
    const int64_t N = a->N, I = a->I, O = a->O, A = a->A;
    for (int64_t b = 0; b < N; b++) {
        a->rngs[b] = plast_rng_derive(seed, PLAST_PPO_ACTION_STREAM + (uint64_t)(a->first + b), (uint64_t)iteration);
        a->seq_open[b] = -1;
    }
    a->n_seqs = a->n_slots = 0;
    double e_sum = 0, r_sum = 0;
    int64_t n_ep = 0;
    plast_status s = PLAST_OK;
    for (int64_t t = 0; t < a->L && s == PLAST_OK; t++) {
        for (int64_t b = 0; b < N; b++) {
            const int64_t q = a->seq_open[b];
            if (q < 0 || a->ep_start[b] || a->seqs[q].len == a->S) seq_open(a, b, t);
            a->seqs[a->seq_open[b]].len++;
        }
        const size_t tn = (size_t)(t * N);
        memcpy(a->obs + tn * (size_t)I, a->obs_now, sizeof(plast_real) * (size_t)(N * I));
        s = policy_step(a, a->stepper, p, a->state, a->obs_now, a->y_step, a->energy, err);
        if (s != PLAST_OK) break;
        double e_t = 0;
        for (int64_t b = 0; b < N; b++) {
            const size_t r = tn + (size_t)b;
            a->logp[r] = act_choose(a, a->y_step + b * O, &a->rngs[b], 1, a->mean + r * (size_t)A,
                                    a->std + r * (size_t)A, a->act + r * (size_t)a->AD, a->env_act + b * A,
                                    a->env_idx + b);
            a->value[r] = (double)a->y_step[b * O + a->P];
            e_t += (double)a->energy[b];
            a->ep_start[b] = 0;
        }
        a->step_energy[t] = e_t / (double)N;
        e_sum += e_t;
        const plast_env_actions acts = a->discrete ? (plast_env_actions){a->env_idx, NULL}
                                                   : (plast_env_actions){NULL, a->env_act};
        s = plast_env_step(a->env, acts, a->next_obs, a->rew, a->term, a->trunc, err);
        if (s != PLAST_OK) break;
        int any_boot = 0;
        for (int64_t b = 0; b < N; b++) any_boot |= a->trunc[b] && a->cfg.bootstrap_on_truncation;
        if (any_boot) s = probe_values(a, p, a->next_obs, a->next_value + tn, err);
        for (int64_t b = 0; b < N; b++) {
            const size_t r = tn + (size_t)b;
            a->reward[r] = (double)a->rew[b];
            a->ended[r] = a->term[b] || a->trunc[b];
            if (!(a->trunc[b] && a->cfg.bootstrap_on_truncation)) a->next_value[r] = 0; /* else probed above */
            a->ep_return[b] += (double)a->rew[b];
            if (a->ended[r]) {
                r_sum += a->ep_return[b], n_ep++;
                a->ep_return[b] = 0;
                a->ep_start[b] = 1;
                state_put(a->m, a->state, b, NULL);
            }
        }
        memcpy(a->obs_now, a->next_obs, sizeof(plast_real) * (size_t)(N * I));
        if (s == PLAST_OK) s = plast_env_reset_ended(a->env, a->obs_now, a->was_reset, err);
    }
    /* the value after the last step, for episodes still running: bootstrap from V(s_L) with the state at the end */
    if (s == PLAST_OK) s = probe_values(a, p, a->obs_now, a->adv, err); /* adv as scratch, (N) */
    if (s == PLAST_OK)
        for (int64_t b = 0; b < N; b++) {
            const size_t r = (size_t)((a->L - 1) * N + b);
            if (!a->ended[r]) a->next_value[r] = a->adv[b];
        }
    for (int64_t t = 0; t + 1 < a->L && s == PLAST_OK; t++)
        for (int64_t b = 0; b < N; b++) {
            const size_t r = (size_t)(t * N + b);
            if (!a->ended[r]) a->next_value[r] = a->value[r + (size_t)N];
        }
    double sums[3] = {r_sum, (double)n_ep, e_sum}; /* over the processes' copies */
    if (s == PLAST_OK) s = ppo_allreduce(a, sums, 3, err);
    *returns = sums[1] > 0 ? sums[0] / sums[1] : NAN;
    *episodes = (int64_t)sums[1];
    *energy = sums[2] / (double)(a->L * a->N_all);
    return s;
}

/* GAE: delta_t = r_t + gamma V(s_{t+1}) - V(s_t), A_t = delta_t + gamma lambda A_{t+1} within an episode; the
 * value target R_t = A_t + V(s_t); then the batch standardisation (RLlib: population std, at least 1e-4) over the
 * global batch */
static plast_status advantages(plast_ppo *a, plast_err *err) {
    const int64_t N = a->N, L = a->L;
    const double g = a->cfg.gamma, gl = a->cfg.gamma * a->cfg.lambda;
    for (int64_t b = 0; b < N; b++) {
        double next_adv = 0;
        for (int64_t t = L - 1; t >= 0; t--) {
            const size_t r = (size_t)(t * N + b);
            if (a->ended[r]) next_adv = 0;
            const double delta = a->reward[r] + g * a->next_value[r] - a->value[r];
            next_adv = delta + gl * next_adv;
            a->adv[r] = next_adv;
            a->ret[r] = next_adv + a->value[r];
        }
    }
    if (strcmp(a->cfg.adv_norm, "batch") != 0) return PLAST_OK;
    const size_t n = (size_t)(L * N);
    double sum[2] = {0, (double)n}, var = 0;
    for (size_t r = 0; r < n; r++) sum[0] += a->adv[r];
    plast_status s = ppo_allreduce(a, sum, 2, err);
    const double mean = sum[0] / sum[1];
    for (size_t r = 0; r < n; r++) var += (a->adv[r] - mean) * (a->adv[r] - mean);
    if (s == PLAST_OK) s = ppo_allreduce(a, &var, 1, err);
    const double sd = fmax(1e-4, sqrt(var / sum[1]));
    for (size_t r = 0; r < n; r++) a->adv[r] = (a->adv[r] - mean) / sd;
    return s;
}

/* cleanrl's per-minibatch standardisation (ppo.adv_norm = minibatch): the mean of the advantages of the minibatch's
 * steps over all processes, and the divisor std + 1e-8 (torch's unbiased std); summed in the (S, M) layout's order */
static plast_status minibatch_adv_stats(plast_ppo *a, int64_t held, double *mean, double *div, plast_err *err) {
    double sum[2] = {0, 0}, var = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int64_t t = 0; t < a->S; t++)
            for (int64_t j = 0; j < held; j++) {
                const ppo_seq *q = &a->seqs[a->mine[j]];
                if (t >= q->len) continue;
                const double v = a->adv[(q->t0 + t) * a->N + q->b];
                if (pass == 0) sum[0] += v, sum[1]++;
                else var += (v - *mean) * (v - *mean);
            }
        plast_status s = pass == 0 ? ppo_allreduce(a, sum, 2, err) : ppo_allreduce(a, &var, 1, err);
        if (s != PLAST_OK) return s;
        if (pass == 0) *mean = sum[0] / sum[1];
    }
    *div = (sum[1] > 1 ? sqrt(var / (sum[1] - 1)) : 0) + 1e-8;
    return PLAST_OK;
}

/* held sequences mine[j0 .. j0 + n - 1] laid out as (S, Me) for the engine (batch Me), padded: inputs, the sampling
 * policy, advantages (standardised when div > 0), targets, the valid mask, the initial states */
static void chunk_layout(plast_ppo *a, int64_t j0, int64_t n, double adv_mean, double adv_div) {
    const int64_t N = a->N, I = a->I, A = a->A, S = a->S, Me = plast_engine_batch(a->engine);
    memset(a->x, 0, sizeof(plast_real) * (size_t)(S * Me * I));
    memset(a->mb_valid, 0, (size_t)(S * Me));
    for (int64_t j = 0; j < Me; j++) {
        const ppo_seq *q = j < n ? &a->seqs[a->mine[j0 + j]] : NULL;
        if (a->state_numel > 0)
            state_put(a->m, a->init, j, q && q->slot >= 0 ? a->slots + q->slot * a->state_numel : NULL);
        for (int64_t t = 0; t < S; t++) {
            const int64_t k = t * Me + j; /* row of the (S, Me) layout */
            if (!q || t >= q->len) {      /* padding: any finite policy, masked out of the loss */
                for (int64_t d = 0; d < A; d++) a->mb_mean[k * A + d] = 0, a->mb_std[k * A + d] = 1;
                for (int64_t d = 0; d < a->AD; d++) a->mb_act[k * a->AD + d] = 0;
                a->mb_logp[k] = a->mb_value[k] = a->mb_adv[k] = a->mb_ret[k] = 0;
                continue;
            }
            const size_t r = (size_t)((q->t0 + t) * N + q->b);
            memcpy(a->x + k * I, a->obs + r * (size_t)I, sizeof(plast_real) * (size_t)I);
            memcpy(a->mb_act + k * a->AD, a->act + r * (size_t)a->AD, sizeof(plast_real) * (size_t)a->AD);
            memcpy(a->mb_mean + k * A, a->mean + r * (size_t)A, sizeof(double) * (size_t)A);
            memcpy(a->mb_std + k * A, a->std + r * (size_t)A, sizeof(double) * (size_t)A);
            a->mb_logp[k] = a->logp[r], a->mb_value[k] = a->value[r], a->mb_ret[k] = a->ret[r];
            a->mb_adv[k] = adv_div > 0 ? (a->adv[r] - adv_mean) / adv_div : a->adv[r];
            a->mb_valid[k] = 1;
        }
    }
}

/* one minibatch: global sequences perm[first .. first + count - 1]; those held here run through the engine in
 * chunks of its batch (one chunk alone), forward from their recorded states, the loss (means over the whole
 * minibatch's steps), backward, the gradients adding up; the gradient and statistics summed over the processes;
 * clip and step */
static plast_status minibatch(plast_ppo *a, plast_params *p, plast_optim *o, double lr, double clip, int64_t first,
                              int64_t count, plast_ppo_stats *acc, plast_err *err) {
    const int64_t A = a->A, S = a->S, Me = plast_engine_batch(a->engine);
    int64_t steps = 0, held = 0; /* the minibatch's steps over all processes; its sequences held here */
    for (int64_t j = 0; j < count; j++) {
        const ppo_gseq *g = &a->gseqs[a->perm[first + j]];
        steps += g->len;
        if (g->local >= 0) a->mine[held++] = (int32_t)g->local;
    }
    double adv_mean = 0, adv_div = 0;
    plast_status s = strcmp(a->cfg.adv_norm, "minibatch") == 0 ? minibatch_adv_stats(a, held, &adv_mean, &adv_div, err)
                                                                : PLAST_OK;
    if (s != PLAST_OK) return s;
    plast_ppo_stats st;
    memset(&st, 0, sizeof st);
    double g_log_std[64] = {0}; /* d loss / d log_std with a free std */
    plast_params_zero_grad(p);
    for (int64_t j0 = 0; j0 < held && s == PLAST_OK; j0 += Me) { /* none held: this process's share is zero */
        chunk_layout(a, j0, held - j0 < Me ? held - j0 : Me, adv_mean, adv_div);
        s = plast_engine_forward(a->engine, p, a->x, a->y, NULL, NULL, 1, err);
        plast_ppo_batch bt = {S * Me, A, a->discrete, a->mb_act, a->mb_mean, a->mb_std, a->mb_logp, a->mb_value,
                              a->mb_adv, a->mb_ret, a->mb_valid, a->log_std, g_log_std, steps};
        plast_ppo_stats cs;
        if (s == PLAST_OK) s = plast_ppo_loss(&a->cfg, a->kl_coef, &bt, a->O, a->y, a->dy, &cs, err);
        if (s == PLAST_OK) s = plast_engine_backward(a->engine, p, a->dy, err);
        st.loss += cs.loss, st.policy_loss += cs.policy_loss, st.value_loss += cs.value_loss, st.kl += cs.kl;
        st.entropy += cs.entropy, st.clip_fraction += cs.clip_fraction;
    }
    if (s != PLAST_OK) return s;
    if (a->log_std) { /* the free std's gradient joins the network's before the clip and the step */
        plast_real *g = plast_params_grad(p, a->log_std_param);
        for (int64_t k = 0; k < A; k++) g[k] += (plast_real)g_log_std[k];
    }
    if (a->comm.size > 1) { /* the shares of the gradient and of the statistics, summed */
        if (!a->reduce && !(a->reduce = malloc(sizeof(double) * (size_t)(plast_params_numel(p) + 6))))
            return plast_err_set(err, PLAST_ERR_NOMEM, "ppo: out of memory");
        double sums[6] = {st.loss, st.policy_loss, st.value_loss, st.kl, st.entropy, st.clip_fraction};
        s = plast_params_allreduce_grads(p, &a->comm, 1, 1.0, sums, 6, a->reduce, err);
        if (s != PLAST_OK) return s;
        st.loss = sums[0], st.policy_loss = sums[1], st.value_loss = sums[2], st.kl = sums[3], st.entropy = sums[4];
        st.clip_fraction = sums[5];
    }
    const double gn = plast_params_clip_grad_norm(p, clip > 0 ? clip : INFINITY);
    if (!isfinite(gn)) return plast_err_set(err, PLAST_ERR_NUMERIC, "ppo: gradient norm %g", gn);
    s = plast_optim_step(o, p, lr, err);
    plast_model_params_constrain(a->m, p);
    acc->loss += st.loss, acc->policy_loss += st.policy_loss, acc->value_loss += st.value_loss, acc->kl += st.kl;
    acc->entropy += st.entropy, acc->clip_fraction += st.clip_fraction, acc->grad_norm += gn;
    return s;
}

plast_status plast_ppo_iterate(plast_ppo *a, plast_params *p, plast_optim *o, double lr, double clip, uint64_t seed,
                               int64_t iteration, plast_ppo_stats *stats, plast_err *err) {
    if (!a || !p || !o || !stats)
        return plast_err_set(err, PLAST_ERR_INVALID_ARG, "ppo iterate: needs the learner, parameters, optimizer and stats");
    memset(stats, 0, sizeof *stats);
    const plast_ppo_cfg *c = &a->cfg;
    if (c->lr_end_steps > 0) /* linear in the environment steps sampled before this iteration, then held */
        lr += (c->lr_end - lr) * fmin(1.0, (double)a->timesteps / (double)c->lr_end_steps);
    stats->lr = lr;
    a->log_std = a->log_std_param >= 0 ? plast_params_value(p, a->log_std_param) : NULL;
    plast_status s = rollout(a, p, seed, iteration, &stats->reward, &stats->episodes, &stats->energy, err);
    if (s != PLAST_OK) return s;
    a->timesteps += a->L * a->N_all;
    if ((s = advantages(a, err)) == PLAST_OK) s = seq_table(a, err);
    if (s != PLAST_OK) return s;
    plast_rng shuffle = plast_rng_derive(seed, PLAST_PPO_SHUFFLE_STREAM, (uint64_t)iteration);
    int64_t updates = 0;
    for (int64_t ep = 0; ep < c->epochs && s == PLAST_OK; ep++) {
        plast_rng_permutation(&shuffle, a->perm, (int32_t)a->n_all);
        for (int64_t first = 0; first < a->n_all && s == PLAST_OK; first += a->M, updates++) {
            const int64_t count = a->n_all - first < a->M ? a->n_all - first : a->M;
            s = minibatch(a, p, o, lr, clip, first, count, stats, err);
        }
    }
    if (s != PLAST_OK) return s;
    if (updates) {
        const double k = 1.0 / (double)updates;
        stats->loss *= k, stats->policy_loss *= k, stats->value_loss *= k, stats->kl *= k, stats->entropy *= k;
        stats->clip_fraction *= k, stats->grad_norm *= k;
    }
    /* RLlib's KLCoeffMixin.update_kl, on the mean KL of the iteration's updates */
    if (stats->kl > 2 * c->kl_target) a->kl_coef *= 1.5;
    else if (stats->kl < 0.5 * c->kl_target) a->kl_coef *= 0.5;
    stats->kl_coef = a->kl_coef;
    return PLAST_OK;
}

plast_status plast_ppo_evaluate(plast_ppo *a, plast_params *p, plast_env *env, uint64_t seed, int64_t first_episode,
                                int64_t episodes, int explore, double *mean_return, double *energy, plast_err *err) {
    if (!a || !p || !env || episodes < 1 || !mean_return)
        return plast_err_set(err, PLAST_ERR_INVALID_ARG, "ppo evaluate: needs the learner, parameters, an environment "
                                                         "and episodes >= 1");
    const int64_t N = plast_env_count(env), I = a->I, O = a->O, A = a->A;
    a->log_std = a->log_std_param >= 0 ? plast_params_value(p, a->log_std_param) : NULL;
    if (plast_env_observation_space(env).n != I || plast_env_action_space(env).n != A)
        return plast_err_set(err, PLAST_ERR_MISMATCH, "ppo evaluate: %s does not fit the learner's model",
                             plast_env_describe(env));
    plast_state *st = plast_state_init(a->m, N, err);
    plast_engine *stepper = st ? stepper_open(a->m, st) : NULL;
    plast_real *obs = malloc(sizeof(plast_real) * (size_t)(N * I)), *y = malloc(sizeof(plast_real) * (size_t)(N * O));
    plast_real *act = malloc(sizeof(plast_real) * (size_t)(N * A)), *rew = malloc(sizeof(plast_real) * (size_t)N);
    plast_real *en = malloc(sizeof(plast_real) * (size_t)N);
    int32_t *idx = malloc(sizeof(int32_t) * (size_t)N);
    uint8_t *te = malloc((size_t)N), *tr = malloc((size_t)N);
    int64_t *done = calloc((size_t)N, sizeof(int64_t));
    double *ret = calloc((size_t)N, sizeof(double));
    plast_rng *rng = malloc(sizeof(plast_rng) * (size_t)N);
    plast_status s = st && obs && y && act && rew && en && idx && te && tr && done && ret && rng
                         ? PLAST_OK
                         : plast_err_set(err, PLAST_ERR_NOMEM, "ppo evaluate: out of memory");
    double total = 0, e_sum = 0;
    int64_t e_n = 0;
    if (s == PLAST_OK) {
        for (int64_t b = 0; b < N; b++)
            rng[b] = plast_rng_derive(seed, PLAST_PPO_EVAL_STREAM + (uint64_t)(plast_env_first(env) + b),
                                      (uint64_t)first_episode);
        plast_env_seek(env, first_episode);
        s = plast_env_reset(env, obs, err);
    }
    const int64_t cap = plast_env_max_steps(env) > 0 ? plast_env_max_steps(env) : 100000;
    for (int64_t t = 0, left = N; s == PLAST_OK && left > 0 && t < episodes * cap; t++) {
        s = policy_step(a, stepper, p, st, obs, y, en, err);
        for (int64_t b = 0; b < N && s == PLAST_OK; b++) {
            double pol[128], sd[128];
            plast_real stored[64];
            act_choose(a, y + b * O, &rng[b], explore, pol, sd, stored, act + b * A, idx + b);
            if (done[b] < episodes) e_sum += (double)en[b], e_n++;
        }
        const plast_env_actions acts = a->discrete ? (plast_env_actions){idx, NULL} : (plast_env_actions){NULL, act};
        if (s == PLAST_OK) s = plast_env_step(env, acts, obs, rew, te, tr, err);
        for (int64_t b = 0; b < N && s == PLAST_OK; b++) {
            if (done[b] >= episodes) continue;
            ret[b] += (double)rew[b];
            if (te[b] || tr[b]) {
                total += ret[b], ret[b] = 0;
                state_put(a->m, st, b, NULL);
                if (++done[b] == episodes) left--;
            }
        }
        if (s == PLAST_OK) s = plast_env_reset_ended(env, obs, NULL, err);
    }
    double sums[3] = {total, e_sum, (double)e_n}; /* data-parallel: every process's copies */
    if (s == PLAST_OK) s = ppo_allreduce(a, sums, 3, err);
    *mean_return = sums[0] / (double)(N * a->comm.size * episodes);
    if (energy) *energy = sums[2] > 0 ? sums[1] / sums[2] : 0;
    plast_engine_free(stepper);
    plast_state_free(st);
    free(obs), free(y), free(act), free(rew), free(en), free(idx), free(te), free(tr), free(done), free(ret), free(rng);
    return s;
}

/* ---- the learner's state ------------------------------------------------------------------------------------ */

typedef struct ppo_state_header {
    char magic[8]; /* "plastPPO" */
    int64_t N, I, state_numel;
    double kl_coef;
    int64_t timesteps;
    uint64_t env_bytes;
} ppo_state_header;

/* header, environment, obs_now (N, I), the model's state (N, state_numel), ep_return (N), ep_start (N), for the N
 * copies of the global batch; this process's rows [first, first + its N) of each */
size_t plast_ppo_state_bytes(const plast_ppo *a) {
    return sizeof(ppo_state_header) + plast_env_state_bytes_global(a->env, a->N_all) +
           sizeof(plast_real) * (size_t)(a->N_all * (a->I + a->state_numel)) + (sizeof(double) + 1) * (size_t)a->N_all;
}

/* where each per-copy block of the state starts, and its bytes per copy */
typedef struct ppo_state_layout {
    size_t env_rows, env_row, obs, state, ret, start; /* offsets; env_row: bytes per copy of the environment */
} ppo_state_layout;
static ppo_state_layout state_layout(const plast_ppo *a) {
    ppo_state_layout l;
    const size_t env_bytes = plast_env_state_bytes_global(a->env, a->N_all), R = sizeof(plast_real);
    /* the environment's header has one size whatever the count, so the rows are what one copy more adds */
    l.env_row = plast_env_state_bytes_global(a->env, a->N_all + 1) - env_bytes;
    l.env_rows = sizeof(ppo_state_header) + env_bytes - l.env_row * (size_t)a->N_all;
    l.obs = sizeof(ppo_state_header) + env_bytes;
    l.state = l.obs + R * (size_t)(a->N_all * a->I);
    l.ret = l.state + R * (size_t)(a->N_all * a->state_numel);
    l.start = l.ret + sizeof(double) * (size_t)a->N_all;
    return l;
}

/* data-parallel: every process's rows of each block, from that process to all (byte-exact broadcasts) */
static plast_status share_rows(const plast_ppo *a, char *buf, plast_err *err) {
    const ppo_state_layout l = state_layout(a);
    const size_t at[5] = {l.env_rows, l.obs, l.state, l.ret, l.start};
    const size_t row[5] = {l.env_row, sizeof(plast_real) * (size_t)a->I, sizeof(plast_real) * (size_t)a->state_numel,
                           sizeof(double), 1};
    for (int r = 0; r < a->comm.size; r++)
        for (int k = 0; k < 5; k++) {
            const size_t bytes = row[k] * (size_t)a->N;
            if (bytes && a->comm.broadcast(buf + at[k] + bytes * (size_t)r, (int64_t)bytes, r, a->comm.user) != PLAST_OK)
                return plast_err_set(err, PLAST_ERR_STATE, "data-parallel PPO: a broadcast of the learner state failed");
        }
    return PLAST_OK;
}

plast_status plast_ppo_state_save(const plast_ppo *a, void *buf, size_t cap, plast_err *err) {
    if (!a || !buf || cap < plast_ppo_state_bytes(a))
        return plast_err_set(err, PLAST_ERR_INVALID_ARG, "ppo state: needs a buffer of %zu bytes",
                             a ? plast_ppo_state_bytes(a) : (size_t)0);
    const ppo_state_layout l = state_layout(a);
    const size_t R = sizeof(plast_real), first = (size_t)a->first;
    ppo_state_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, "plastPPO", 8);
    h.N = a->N_all, h.I = a->I, h.state_numel = a->state_numel, h.kl_coef = a->kl_coef, h.timesteps = a->timesteps;
    h.env_bytes = plast_env_state_bytes_global(a->env, a->N_all);
    char *w = buf;
    memcpy(w, &h, sizeof h);
    plast_status s = plast_env_state_save_global(a->env, a->N_all, w + sizeof h, h.env_bytes, err);
    memcpy(w + l.obs + R * first * (size_t)a->I, a->obs_now, R * (size_t)(a->N * a->I));
    for (int64_t b = 0; b < a->N && a->state_numel > 0; b++)
        state_get(a->m, a->state, b, (plast_real *)(void *)(w + l.state + R * (first + (size_t)b) * (size_t)a->state_numel));
    memcpy(w + l.ret + sizeof(double) * first, a->ep_return, sizeof(double) * (size_t)a->N);
    memcpy(w + l.start + first, a->ep_start, (size_t)a->N);
    if (s == PLAST_OK && a->comm.size > 1) s = share_rows(a, w, err);
    return s;
}

plast_status plast_ppo_state_load(plast_ppo *a, const void *buf, size_t n, plast_err *err) {
    if (!a || !buf) return plast_err_set(err, PLAST_ERR_INVALID_ARG, "ppo state: needs a learner and a buffer");
    ppo_state_header h;
    if (n != plast_ppo_state_bytes(a))
        return plast_err_set(err, PLAST_ERR_MISMATCH, "ppo state: %zu bytes, expected %zu", n, plast_ppo_state_bytes(a));
    memcpy(&h, buf, sizeof h);
    if (memcmp(h.magic, "plastPPO", 8) != 0 || h.N != a->N_all || h.I != a->I || h.state_numel != a->state_numel ||
        h.env_bytes != plast_env_state_bytes_global(a->env, a->N_all))
        return plast_err_set(err, PLAST_ERR_MISMATCH, "ppo state: saved for %lld copies, input %lld, state %lld; this "
                                                      "learner has %lld, %lld, %lld", (long long)h.N, (long long)h.I,
                             (long long)h.state_numel, (long long)a->N_all, (long long)a->I, (long long)a->state_numel);
    if (!isfinite(h.kl_coef) || h.kl_coef < 0 || h.timesteps < 0)
        return plast_err_set(err, PLAST_ERR_FORMAT, "ppo state: KL coefficient %g, steps %lld", h.kl_coef,
                             (long long)h.timesteps);
    const ppo_state_layout l = state_layout(a);
    const size_t R = sizeof(plast_real), first = (size_t)a->first;
    const char *r = (const char *)buf;
    plast_status s = plast_env_state_load_global(a->env, a->N_all, r + sizeof h, h.env_bytes, err);
    if (s != PLAST_OK) return s;
    a->kl_coef = h.kl_coef, a->timesteps = h.timesteps;
    memcpy(a->obs_now, r + l.obs + R * first * (size_t)a->I, R * (size_t)(a->N * a->I));
    for (int64_t b = 0; b < a->N && a->state_numel > 0; b++)
        state_put(a->m, a->state, b, (const plast_real *)(const void *)(r + l.state + R * (first + (size_t)b) * (size_t)a->state_numel));
    memcpy(a->ep_return, r + l.ret + sizeof(double) * first, sizeof(double) * (size_t)a->N);
    memcpy(a->ep_start, r + l.start + first, (size_t)a->N);
    return PLAST_OK;
}
