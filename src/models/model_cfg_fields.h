/* src/models/model_cfg_fields.h: the model.* configuration keys, as an X-macro list so that every schema that
 * embeds a plast_model_cfg (the model's own, an experiment's) is a compile-time constant table.
 * Include it with MF(key, type, member, def, lo, hi, choices, help) defined; types are PLAST_CFG_* suffixes. The
 * family and rule names come from their lists. */
#include "models/family_list.h"
#include "models/rule_list.h"
MF("family", STRING, family, "duan", 0, -1, NULL, PLAST_FAMILY_NAMES)
MF("input", INT, input, "0", 0, 1 << 24, NULL, "input size I (0: the task's)")
MF("output", INT, output, "0", 0, 1 << 24, NULL, "task output size O (0: the task's)")
MF("hidden", INT, hidden, "128", 1, 1 << 20, NULL, "hidden size H (duan with hidden_scaling=paper: the base size)")
MF("hidden_scaling", CHOICE, hidden_scaling, "none", 0, -1, "none|paper",
    "duan: 'paper' scales H by 1.5 without learned plasticity and by 2 for the RNN cell, as the reference")
MF("rule", STRING, rule, "default", 0, -1, NULL,
    "plasticity rule: none | default (the family's)" PLAST_RULE_LIST(PLAST_RULE_NAME_BAR))
MF("activation", CHOICE, activation, "default", 0, -1, "default|tanh|relu|sigmoid",
    "hidden nonlinearity where the family allows a choice")
MF("cell", CHOICE, cell, "lstm", 0, -1, "rnn|lstm", "duan: recurrent cell")
MF("modulation", BOOL, modulation, "true", 0, -1, NULL, "duan: neuromodulated eta(t) from the last output")
MF("plastic_lr", REAL, plastic_lr, "0.1", 0, 100, NULL, "duan: p_lr; eta(t) = 2 p_lr sigmoid(m_t), or p_lr")
MF("plastic_decay", REAL, plastic_decay, "0.1", 0, 1, NULL, "duan: p_wd; lambda(t) = 2 p_wd sigmoid(m_t), or p_wd")
MF("max_norm", REAL, max_norm, "1.0", 1e-12, 1e30, NULL, "duan: per-sample max-norm of the joint raw update")
MF("alpha", CHOICE, alpha, "random", 0, -1, "random|uniform|neg_uniform|none",
    "duan: per-connection plastic rates: U[-1,1], 1, -1 (learned) or a fixed 1")
MF("extra", INT, extra, "4", 0, 4096, NULL, "duan: extra outputs E feeding the internal loss")
MF("inner_batch", INT, inner_batch, "64", 0, 1 << 20, NULL,
    "duan gradient rule: B in the internal loss mean over B x D (the reference's training batch); 0 = actual batch")
MF("encoder", CHOICE, encoder, "linear", 0, -1, "linear|conv4",
    "duan: input encoder: a linear layer and ReLU (plastic with plasticity), or for images a Conv-4 CNN, a linear "
    "projection to H - L and ReLU, with the last L inputs (the label) appended, as the reference's CNNtoRNN")
MF("image_channels", INT, image_channels, "0", 0, 64, NULL,
   "conv4 and mnih_conv: channels of the input images (0: the task's or environment's)")
MF("image_size", INT, image_size, "0", 0, 4096, NULL,
   "conv4 and mnih_conv: side of the square input images (0: the task's or environment's)")
MF("conv_channels", INT, conv_channels, "64", 1, 4096, NULL, "duan conv4: feature maps of each convolution")
MF("policy_log_std", INT, policy_log_std, "0", 0, 1 << 16, NULL,
   "a free vector of this many reals, parameter policy.log_std (zeros at the start), that the network does not use: "
   "PPO's state-independent log standard deviations (set by ppo.std = free)")
MF("frontend", CHOICE, frontend, "none", 0, -1, "none|mnih_conv|mnih_conv_fc",
    "pixels in front of any family but duan: mnih_conv = conv 16 8x8 stride 4, ReLU, conv 32 4x4 stride 2, ReLU, "
    "flattened (Mnih et al. 2016 without the dense layer, as the STPN paper's Pong model); mnih_conv_fc = the same "
    "and a dense ReLU layer of frontend_units (Mnih et al. 2016's whole A3C body; not the STPN paper's model); the input is "
    "image_channels x image_size^2 pixels, channels last (image_size 0: a square of the input)")
MF("frontend_units", INT, frontend_units, "256", 1, 1 << 16, NULL,
   "mnih_conv_fc: units of the dense ReLU layer after the convolutions (Mnih et al. 2016: 256)")
MF("variant", CHOICE, variant, "r", 0, -1, "r|f", "stpn: r = input and recurrent synapses, f = input only")
MF("stp_params", CHOICE, stp_params, "synapse", 0, -1, "synapse|scalar",
    "stpn: lambda and gamma per synapse, or one scalar each")
MF("norm", CHOICE, norm, "pre", 0, -1, "pre|post|none",
    "stpn: per-neuron normalisation of the efficacies, before or after the update")
MF("stpn_form", CHOICE, stpn_form, "paper", 0, -1, "paper|hebbff",
    "stpn: the nets of the paper's ART, maze and RL runs, or those of its familiarity-detection runs (the HebbFF "
    "folder's STPNfNet/STPNrNet: STPNf with a bias and the F/n decay as STPNr, Gaussian initialisation)")
MF("clamp", REAL, clamp, "0", 0, 1e30, NULL,
    "bound on the plastic state; 0 = the family's default (stpn none, modplast and diffplast 1)")
MF("pre_new_h", BOOL, pre_new_h, "false", 0, -1, NULL,
    "stpn: Hebbian presynaptic vector [x_t; h_t] as the reference's ART driver, not [x_t; h_t-1]")
MF("fw_decay", REAL, fw_decay, "0.9", 0, 1, NULL, "fastweights: lambda")
MF("fw_lr", REAL, fw_lr, "0.5", 0, 100, NULL, "fastweights: eta")
MF("fw_steps", INT, fw_steps, "1", 1, 100, NULL, "fastweights: inner-loop iterations S")
MF("fw_double_update", BOOL, fw_double_update, "false", 0, -1, NULL,
    "fastweights: also the ART driver's second update after each step")
MF("neuromod", CHOICE, neuromod, "simple", 0, -1, "simple|retroactive", "modplast: neuromodulation kind")
MF("modulator", CHOICE, modulator, "tanh", 0, -1, "tanh|sigmoid|linear", "modplast: modulator nonlinearity")
MF("trace", CHOICE, trace, "decay", 0, -1, "decay|clip",
    "diffplast: Hebb <- (1-eta) Hebb + eta G, or clamp(Hebb + eta G)")
MF("direct_input", BOOL, direct_input, "false", 0, -1, NULL,
    "diffplast: add the input to the neurons directly, without input weights (needs input = hidden)")
MF("readout", CHOICE, readout, "linear", 0, -1, "linear|none",
    "diffplast, bohp: a linear readout, or none (the outputs are the first O hidden units; bohp: O = H)")
MF("eta_init", REAL, eta_init, "0.01", 0, 1, NULL, "diffplast, modplast retroactive: initial learned eta")
MF("hebbff_lambda", CHOICE, hebbff_lambda, "clamp", 0, -1, "clamp|sigmoid",
    "hebbff: lambda projected to [0,1] after each update, or sigmoid-parameterised")
MF("hebbff_eta", CHOICE, hebbff_eta, "free", 0, -1, "free|anti|hebb", "hebbff: sign of the plasticity rate")
MF("trace_decay", REAL, trace_decay, "0.9", 0, 1, NULL, "bohp: gamma, Hebb <- gamma Hebb + (1-gamma) y x^T")
