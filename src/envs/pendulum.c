/* src/envs/pendulum.c: MuJoCo's inverted pendulum with the semantics of Gymnasium's InvertedPendulum-v4
 * (docs/envs/pendulum.md; reference: Gymnasium's inverted_pendulum_v4.py and assets/inverted_pendulum.xml, MIT):
 *   model: the XML below, embedded (Gymnasium's file: gym's original lacks ctrllimited, which MuJoCo 2.2.2 refuses);
 *          RK4, timestep 0.02, a slider (range +-1) carrying a hinged pole, one motor (gear 100, ctrl in [-3, 3])
 *   step: ctrl = the action (MuJoCo clamps it to the control range), then frame_skip = 2 calls of mj_step
 *   observation (4): [qpos (cart x, pole angle); qvel (cart velocity, pole angular velocity)]
 *   reward: +1 every step; the step that terminates gets env.terminal_reward (v4: 1, v5: 0)
 *   terminated: a non-finite observation, or |pole angle| > 0.2; truncated after episode_length (1000) steps
 *   reset: qpos = qpos0 + U(-r, r), qvel = U(-r, r) per coordinate, r = env.reset_noise (0.01)
 * Each copy's physical state (qpos, qvel, the solver's warm start and time) lives in its copy state, so that it
 * saves and loads with the environment; each copy steps its own mjData, all sharing one mjModel.
 * Results are labelled "InvertedPendulum-v4 semantics, MuJoCo 2.2.2": the STPN paper ran v2 on MuJoCo 2.1. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "envs/env_internal.h"

enum { PEND_OBS = 4, PEND_FRAME_SKIP = 2 };
#define PEND_MAX_ANGLE 0.2

#ifdef PLAST_HAVE_MUJOCO
#include <mujoco/mujoco.h>

static const char PEND_XML[] =
    "<mujoco model=\"inverted pendulum\">\n"
    "  <compiler inertiafromgeom=\"true\"/>\n"
    "  <default>\n"
    "    <joint armature=\"0\" damping=\"1\" limited=\"true\"/>\n"
    "    <geom contype=\"0\" friction=\"1 0.1 0.1\" rgba=\"0.7 0.7 0 1\"/>\n"
    "    <tendon/>\n"
    "    <motor ctrlrange=\"-3 3\"/>\n"
    "  </default>\n"
    "  <option gravity=\"0 0 -9.81\" integrator=\"RK4\" timestep=\"0.02\"/>\n"
    "  <size nstack=\"3000\"/>\n"
    "  <worldbody>\n"
    "    <geom name=\"rail\" pos=\"0 0 0\" quat=\"0.707 0 0.707 0\" rgba=\"0.3 0.3 0.7 1\" size=\"0.02 1\" "
    "type=\"capsule\"/>\n"
    "    <body name=\"cart\" pos=\"0 0 0\">\n"
    "      <joint axis=\"1 0 0\" limited=\"true\" name=\"slider\" pos=\"0 0 0\" range=\"-1 1\" type=\"slide\"/>\n"
    "      <geom name=\"cart\" pos=\"0 0 0\" quat=\"0.707 0 0.707 0\" size=\"0.1 0.1\" type=\"capsule\"/>\n"
    "      <body name=\"pole\" pos=\"0 0 0\">\n"
    "        <joint axis=\"0 1 0\" name=\"hinge\" pos=\"0 0 0\" range=\"-90 90\" type=\"hinge\"/>\n"
    "        <geom fromto=\"0 0 0 0.001 0 0.6\" name=\"cpole\" rgba=\"0 0.7 0.7 1\" size=\"0.049 0.3\" "
    "type=\"capsule\"/>\n"
    "      </body>\n"
    "    </body>\n"
    "  </worldbody>\n"
    "  <actuator>\n"
    "    <motor ctrllimited=\"true\" ctrlrange=\"-3 3\" gear=\"100\" joint=\"slider\" name=\"slide\"/>\n"
    "  </actuator>\n"
    "</mujoco>\n";

/* the physical state of one copy, its part of the environment state */
typedef struct pend_copy {
    double qpos[2], qvel[2], warmstart[2]; /* warmstart: mjData.qacc_warmstart, which the solver starts from */
    double time;
} pend_copy;

typedef struct pend_shared {
    mjModel *model;
    mjData **data; /* (n) one per copy */
    int64_t n;
} pend_shared;

/* MuJoCo's default warning handler prints to stdout and writes MUJOCO_LOG.TXT; a library stays silent. MuJoCo
 * counts each warning in mjData.warning regardless. */
static void pend_quiet(const char *msg) { (void)msg; }

static plast_status pend_open(plast_env *e, plast_err *err) {
    if (e->cfg.episode_length == 0) e->cfg.episode_length = 1000;
    pend_shared *S = calloc(1, sizeof *S);
    if (!S) return plast_err_set(err, PLAST_ERR_NOMEM, "env: out of memory for the pendulum");
    e->shared = S;
    if (!mju_user_warning) mju_user_warning = pend_quiet;
    mjVFS *vfs = malloc(sizeof *vfs);
    if (!vfs) return plast_err_set(err, PLAST_ERR_NOMEM, "env: out of memory for the pendulum");
    mj_defaultVFS(vfs);
    const int len = (int)sizeof PEND_XML - 1;
    char msg[512] = "";
    if (mj_makeEmptyFileVFS(vfs, "inverted_pendulum.xml", len) == 0) {
        memcpy(vfs->filedata[mj_findFileVFS(vfs, "inverted_pendulum.xml")], PEND_XML, (size_t)len);
        S->model = mj_loadXML("inverted_pendulum.xml", vfs, msg, (int)sizeof msg);
    }
    mj_deleteVFS(vfs);
    free(vfs);
    if (!S->model)
        return plast_err_set(err, PLAST_ERR_CONFIG, "env pendulum: MuJoCo %s cannot load the embedded model: %s",
                             mj_versionString(), msg[0] ? msg : "out of memory");
    if (S->model->nq != 2 || S->model->nv != 2 || S->model->nu != 1)
        return plast_err_set(err, PLAST_ERR_CONFIG, "env pendulum: the model has nq %d, nv %d, nu %d (want 2, 2, 1)",
                             S->model->nq, S->model->nv, S->model->nu);
    S->data = calloc((size_t)e->n, sizeof *S->data);
    if (!S->data) return plast_err_set(err, PLAST_ERR_NOMEM, "env: out of memory for %lld pendulums", (long long)e->n);
    S->n = e->n;
    for (int64_t i = 0; i < e->n; i++)
        if (!(S->data[i] = mj_makeData(S->model)))
            return plast_err_set(err, PLAST_ERR_NOMEM, "env: out of memory for %lld pendulums", (long long)e->n);
    e->obs_size = PEND_OBS;
    e->action = (plast_space){PLAST_SPACE_BOX, 1, S->model->actuator_ctrlrange[0], S->model->actuator_ctrlrange[1]};
    e->max_steps = e->cfg.episode_length;
    e->copy_bytes = sizeof(pend_copy);
    return PLAST_OK;
}

static void pend_close(plast_env *e) {
    pend_shared *S = e->shared;
    if (!S) return;
    if (S->data)
        for (int64_t i = 0; i < S->n; i++)
            if (S->data[i]) mj_deleteData(S->data[i]);
    free(S->data);
    if (S->model) mj_deleteModel(S->model);
}

static void pend_observe(const pend_copy *p, plast_real *obs) {
    obs[0] = (plast_real)p->qpos[0], obs[1] = (plast_real)p->qpos[1];
    obs[2] = (plast_real)p->qvel[0], obs[3] = (plast_real)p->qvel[1];
}

static int64_t copy_index(const plast_env *e, const plast_env_copy *c) {
    return (int64_t)(((const unsigned char *)c - e->copies) / (ptrdiff_t)e->stride);
}

static void pend_reset(const plast_env *e, plast_env_copy *c, void *state, plast_real *obs) {
    const pend_shared *S = e->shared;
    pend_copy *p = state;
    const double r = e->cfg.reset_noise;
    for (int k = 0; k < 2; k++) p->qpos[k] = S->model->qpos0[k] + r * (2 * plast_rng_uniform(&c->rng) - 1);
    for (int k = 0; k < 2; k++) p->qvel[k] = r * (2 * plast_rng_uniform(&c->rng) - 1);
    p->warmstart[0] = p->warmstart[1] = 0;
    p->time = 0;
    pend_observe(p, obs);
}

static void pend_step(const plast_env *e, plast_env_copy *c, void *state, int32_t index, const plast_real *value,
                      plast_real *obs, plast_real *reward, int *terminated) {
    (void)index;
    const pend_shared *S = e->shared;
    pend_copy *p = state;
    mjData *d = S->data[copy_index(e, c)];
    /* mj_step reads qpos, qvel, qacc_warmstart, time and ctrl (act, mocap, applied forces are zero here and never
     * written by it); everything else it computes, so these inputs make the step a function of the copy's state */
    memcpy(d->qpos, p->qpos, sizeof p->qpos);
    memcpy(d->qvel, p->qvel, sizeof p->qvel);
    memcpy(d->qacc_warmstart, p->warmstart, sizeof p->warmstart);
    d->time = p->time;
    d->ctrl[0] = (mjtNum)value[0];
    for (int k = 0; k < PEND_FRAME_SKIP; k++) mj_step(S->model, d);
    memcpy(p->qpos, d->qpos, sizeof p->qpos);
    memcpy(p->qvel, d->qvel, sizeof p->qvel);
    memcpy(p->warmstart, d->qacc_warmstart, sizeof p->warmstart);
    p->time = d->time;
    pend_observe(p, obs);
    int finite = 1;
    for (int k = 0; k < 2; k++) finite &= isfinite(p->qpos[k]) && isfinite(p->qvel[k]);
    *terminated = !finite || fabs(p->qpos[1]) > PEND_MAX_ANGLE;
    *reward = (plast_real)(*terminated ? e->cfg.terminal_reward : 1.0);
}

static void pend_describe(plast_env *e) {
    snprintf(e->desc, sizeof e->desc, "pendulum (InvertedPendulum-v4 semantics, MuJoCo %s), %lld steps, terminal "
             "reward %g, reset noise %g", mj_versionString(), (long long)e->cfg.episode_length, e->cfg.terminal_reward,
             e->cfg.reset_noise);
}

#else /* built without MuJoCo */

static plast_status pend_open(plast_env *e, plast_err *err) {
    (void)e;
    return plast_err_set(err, PLAST_ERR_CONFIG, "key 'env.name' = \"pendulum\": this plast was built without MuJoCo "
                                                "(install libmujoco-dev and rebuild)");
}
static void pend_reset(const plast_env *e, plast_env_copy *c, void *state, plast_real *obs) {
    (void)e, (void)c, (void)state, (void)obs;
}
static void pend_step(const plast_env *e, plast_env_copy *c, void *state, int32_t index, const plast_real *value,
                      plast_real *obs, plast_real *reward, int *terminated) {
    (void)e, (void)c, (void)state, (void)index, (void)value, (void)obs, (void)reward, (void)terminated;
}
static void pend_describe(plast_env *e) { snprintf(e->desc, sizeof e->desc, "pendulum (not built)"); }
#define pend_close NULL

#endif

const plast_env_def plast_env_pendulum = {"pendulum", "MuJoCo inverted pendulum (InvertedPendulum-v4 semantics)",
                                          pend_open,  pend_reset, pend_step, pend_describe, pend_close};
