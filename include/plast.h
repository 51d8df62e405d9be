/* plast.h: recurrent neural networks with synaptic plasticity, meta-trained by backpropagation through time.
 *
 * Modules (each header is documented on its own):
 *   plast/base.h         version, plast_real, status codes, plast_err
 *   plast/rng.h          explicit random number generator state (no global RNG anywhere)
 *   plast/shape.h        tensor shapes and views
 *   plast/tape.h         reverse-mode autodiff of any order: ops, gradients, gradients of gradients
 *   plast/params.h       one parameter buffer with named views; gradients in the same layout
 *   plast/optim.h        SGD, Adam, AdamW (amsgrad), gradient clipping, cosine schedule
 *   plast/safetensors.h  reading and writing safetensors files
 *   plast/checkpoint.h   atomic training checkpoints
 *   plast/config.h       typed JSON configuration with key=value overrides
 *   plast/model.h        model families, caller-owned state, recording trials, stepping
 *   plast/task.h         the papers' tasks: batches of trials, losses, metrics, chance levels
 *   plast/env.h          environments for reinforcement learning, a batch of copies in lock-step
 *   plast/experiment.h   the configuration of a whole run (model, task, training)
 *   plast/engine.h       whole trials forward and backward on the fastest path (low-rank, dense, fused, tape)
 *   plast/rl.h           agents, rollouts, A2C and PPO
 *   plast/comm.h         caller-supplied collectives for data-parallel training (plast calls no MPI itself)
 *   plast/train.h        training runs (validation, best checkpoint, resume, test), evaluation, seed summaries
 *   plast/runtime.h      build description and thread settings
 *
 * Conventions: every public symbol is plast_<noun>_<verb> (op constructors are plast_<op>); objects come in
 * plast_<noun>_init / plast_<noun>_free pairs and own everything they point to; state is explicit and owned by
 * the caller; fallible calls return plast_status and fill a caller-owned plast_err. Tensors are row-major, weights
 * of a layer y = x W + b are stored in x out.
 */
#ifndef PLAST_H
#define PLAST_H

#include "plast/base.h"
#include "plast/checkpoint.h"
#include "plast/comm.h"
#include "plast/config.h"
#include "plast/engine.h"
#include "plast/env.h"
#include "plast/experiment.h"
#include "plast/model.h"
#include "plast/optim.h"
#include "plast/params.h"
#include "plast/rl.h"
#include "plast/rng.h"
#include "plast/runtime.h"
#include "plast/safetensors.h"
#include "plast/shape.h"
#include "plast/tape.h"
#include "plast/task.h"
#include "plast/train.h"

#endif
