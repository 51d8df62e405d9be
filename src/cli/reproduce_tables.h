/* src/cli/reproduce_tables.h: the papers' tables that `plast reproduce` rebuilds, one row per cell, as an X-macro:
 *   X(table, column, config, combination, row, paper value, paper interval, scale)
 * table: the name given to `plast reproduce`; column and row: the cell's titles; config: the file under configs/
 * whose sweep holds the cell's runs (one `plast sweep` per distinct file, shared by every table that uses it);
 * combination: the sweep's combination name (summary.csv) for the cell; paper value and interval: the paper's cell
 * in the table's statistic (REPRODUCE_TABLES), NOPAPER where the paper gives no number; scale: plast's figure times
 * this is the paper's unit (an accuracy of 0.98 is 98 %).
 * The energy tables take the runs' test energy (test.json) instead of the metric. */
#ifndef PLAST_CLI_REPRODUCE_TABLES_H
#define PLAST_CLI_REPRODUCE_TABLES_H

#define NOPAPER (0.0 / 0.0) /* the paper shows the result as a figure only, or our copy of its text lost it */

#define CFD_R3D "stpn/cfd_R3_dataset.json"
#define CFD_R3I "stpn/cfd_R3_infinite.json"
#define CFD_R6I "stpn/cfd_R6_infinite.json"
#define CFD_HEBBFF "family=hebbff variant=r stp_params=synapse hidden=100"
#define CFD_USTPNF "family=stpn variant=f stp_params=scalar hidden=100"
#define CFD_STPNR "family=stpn variant=r stp_params=synapse hidden=27"
#define CFD_USTPNR "family=stpn variant=r stp_params=scalar hidden=62"
#define CFD_STPNF "family=stpn variant=f stp_params=synapse hidden=34"
#define CFD_LSTM "family=lstm variant=r stp_params=synapse hidden=21"

/* a row of STPN Table 2: the model's three columns */
#define T2(X, comb, row, m1, pm1, m2, pm2, m3, pm3)                                                                \
    X("stpn_table2", "dataset R=3", CFD_R3D, comb, row, m1, pm1, 100)                                             \
    X("stpn_table2", "infinite R=3", CFD_R3I, comb, row, m2, pm2, 100)                                            \
    X("stpn_table2", "infinite R=6", CFD_R6I, comb, row, m3, pm3, 100)

/* a row of STPN Tables 3 and 4: the same runs' metric (Table 3) and energy (Table 4) */
#define T34(X, col, cfg, comb, row, m3, pm3, scale, m4, pm4)                                                       \
    X("stpn_table3", col, cfg, comb, row, m3, pm3, scale) X("stpn_table4", col, cfg, comb, row, m4, pm4, 1)

/* a row of STPN Table 1: ART accuracy and energy, maze reward and energy (the ablation sweeps) */
#define T1(X, art, maze, row, a, pa, ae, pae, m, pm, me, pme)                                                      \
    X("stpn_table1", "ART accuracy", "stpn/art_ablations.json", art, row, a, pa, 100)                             \
    X("stpn_table1", "ART energy", "stpn/art_ablations.json", art, row, ae, pae, -1)                              \
    X("stpn_table1", "maze reward", "stpn/maze_ablations.json", maze, row, m, pm, 1)                              \
    X("stpn_table1", "maze energy", "stpn/maze_ablations.json", maze, row, me, pme, -1)

/* one cell of Duan et al.'s tables: the sweep point (the key varied, "shots=10") of one cell type and rule; the
 * paper's values are figures, or lost from our copy of its text (the tables' notes) */
#define DCELL(X, table, col, cfg, point, cell, rule, row)                                                          \
    X(table, col, cfg, point " cell=" cell " rule=" rule, row, NOPAPER, NOPAPER, 1)

/* a row of Duan Table 2 (few-shot regression, test MSE): linear and MLP functions, K = 10 and 20 */
#define D2(X, table, cell, rule, row)                                                                              \
    DCELL(X, table, "linear K=10", "duan/regression_linear.json", "shots=10", cell, rule, row)                     \
    DCELL(X, table, "linear K=20", "duan/regression_linear.json", "shots=20", cell, rule, row)                     \
    DCELL(X, table, "MLP K=10", "duan/regression_mlp.json", "shots=10", cell, rule, row)                           \
    DCELL(X, table, "MLP K=20", "duan/regression_mlp.json", "shots=20", cell, rule, row)

/* a row of Duan et al.'s copying figures, test MSE against the delay (n = 5) or the sequence length (no delay):
 * column "key v" is sweep point "key=v" */
#define DPOINT(X, table, cfg, key, v, cell, rule, row) DCELL(X, table, key " " #v, cfg, key "=" #v, cell, rule, row)
#define DCOPY(X, cell, rule, row)                                                                                  \
    DPOINT(X, "duan_copy_delay", "duan/copy_delay.json", "delay", 0, cell, rule, row)                              \
    DPOINT(X, "duan_copy_delay", "duan/copy_delay.json", "delay", 10, cell, rule, row)                             \
    DPOINT(X, "duan_copy_delay", "duan/copy_delay.json", "delay", 20, cell, rule, row)                             \
    DPOINT(X, "duan_copy_delay", "duan/copy_delay.json", "delay", 40, cell, rule, row)                             \
    DPOINT(X, "duan_copy_delay", "duan/copy_delay.json", "delay", 60, cell, rule, row)                             \
    DPOINT(X, "duan_copy_length", "duan/copy_length.json", "length", 5, cell, rule, row)                           \
    DPOINT(X, "duan_copy_length", "duan/copy_length.json", "length", 10, cell, rule, row)                          \
    DPOINT(X, "duan_copy_length", "duan/copy_length.json", "length", 20, cell, rule, row)                          \
    DPOINT(X, "duan_copy_length", "duan/copy_length.json", "length", 30, cell, rule, row)                          \
    DPOINT(X, "duan_copy_length", "duan/copy_length.json", "length", 40, cell, rule, row)                          \
    X("duan_cuereward", "test MSE", "duan/cuereward.json", "cell=" cell " rule=" rule, row, NOPAPER, NOPAPER, 1)

/* the six models of Duan et al.'s figures */
#define DUAN_MODELS(X)                                                                                             \
    DCOPY(X, "lstm", "none", "LSTM") DCOPY(X, "lstm", "hebbian", "LSTM, Hebbian")                                   \
    DCOPY(X, "lstm", "gradient", "LSTM, gradient-based") DCOPY(X, "rnn", "none", "RNN")                             \
    DCOPY(X, "rnn", "hebbian", "RNN, Hebbian") DCOPY(X, "rnn", "gradient", "RNN, gradient-based")

/* a row of the Miconi 2016 table: one task, with and without learned plasticity */
#define M16(X, cfg, row)                                                                                           \
    X("miconi2016", "learned plasticity (BOHP)", cfg, "rule=default", row, NOPAPER, NOPAPER, 100)                \
    X("miconi2016", "no plasticity (control)", cfg, "rule=none", row, NOPAPER, NOPAPER, 100)

/* scale -1: the energy column of a table whose other columns are metrics (the runs' test energy, unit 1) */
#define REPRODUCE_CELLS(X)                                                                                         \
    /* STPN paper, Table 1: per-synapse against uniform STP parameters, ART (accuracy %, energy) and maze      \
     * exploration (reward, energy) */                                                                         \
    T1(X, "family=stpn variant=r stp_params=synapse hidden=11", "family=stpn variant=r stp_params=synapse hidden=30", \
       "STPNr per-synapse", 99.99, 0.01, 3.4, 0.4, 115.7, 1.6, 80.2, 2.4)                                          \
    T1(X, "family=stpn variant=f stp_params=synapse hidden=13", "family=stpn variant=f stp_params=synapse hidden=76", \
       "STPNf per-synapse", 89.40, 5.14, 1.2, 0.1, 112.9, 1.5, 154.8, 6.3)                                         \
    T1(X, "family=stpn variant=r stp_params=scalar hidden=20", "family=stpn variant=r stp_params=scalar hidden=55", \
       "STPNr uniform", 96.89, 6.21, 4.0, 0.3, 74.0, 1.4, 150.2, 5.5)                                              \
    T1(X, "family=stpn variant=f stp_params=scalar hidden=26", "family=stpn variant=f stp_params=scalar hidden=181", \
       "STPNf uniform", 60.21, 0.52, 2.6, 0.1, 85.2, 1.6, 355.6, 12.9)                                             \
    T1(X, "family=hebbff variant=r stp_params=synapse hidden=26", "family=hebbff variant=r stp_params=synapse hidden=181", \
       "HebbFF", 10.62, 0.02, 7.9, 1.8, 39.9, 1.3, 385.9, 8.9)                                                     \
    /* STPN paper, Table 2: continual familiarity detection, generalisation accuracy (%); columns dataset R=3,  \
     * infinite R=3, infinite R=6 */                                                                               \
    T2(X, CFD_STPNR, "STPNr per-synapse", 97.53, 0.31, 99.99, 0.02, 98.98, 0.28)                                    \
    T2(X, CFD_STPNF, "STPNf per-synapse", 98.16, 0.91, 99.92, 0.04, 98.72, 0.19)                                    \
    T2(X, CFD_USTPNR, "STPNr uniform", 78.52, 12.82, 94.13, 7.59, 90.88, 3.00)                                      \
    T2(X, CFD_USTPNF, "STPNf uniform", 81.08, 14.27, 91.95, 9.45, 91.50, 11.67)                                     \
    T2(X, CFD_HEBBFF, "HebbFF", 98.47, 0.87, 99.68, 0.09, 99.71, 0.12)                                              \
    T2(X, CFD_LSTM, "LSTM", 66.75, 0.39, 78.52, 2.07, 74.37, 2.90)                                                  \
    /* STPN paper, Tables 3 and 4 on the same runs: inference accuracy (%) or reward, then energy (PongLike is  \
     * not ALE Pong: never beside it) */                                                                         \
    T34(X, "associative retrieval", "stpn/art.json", "family=stpn hidden=11", "STPN", 98.55, 2.76, 100, 10.9, 3.8)  \
    T34(X, "associative retrieval", "stpn/art.json", "family=lstm hidden=9", "LSTM", 47.28, 3.16, 100, 65.6, 3.4)   \
    T34(X, "associative retrieval", "stpn/art.json", "family=rnn hidden=20", "RNN", 46.83, 5.56, 100, 43.0, 4.9)    \
    T34(X, "associative retrieval", "stpn/art.json", "family=modplast hidden=17", "Modulated Plasticity", 61.49, 15.79, 100, 32.0, 7.4) \
    T34(X, "associative retrieval", "stpn/art.json", "family=fastweights hidden=20", "Fast Weights", 80.87, 1.67, 100, 80.6, 69.4) \
    T34(X, "maze exploration", "stpn/maze.json", "family=stpn hidden=55", "STPN", 132.7, 1.4, 1, 181.1, 2.9)        \
    T34(X, "maze exploration", "stpn/maze.json", "family=lstm hidden=47", "LSTM", 119.8, 2.1, 1, 649.1, 15.3)       \
    T34(X, "maze exploration", "stpn/maze.json", "family=rnn hidden=100", "RNN", 97.9, 1.9, 1, 330.6, 24.3)         \
    T34(X, "maze exploration", "stpn/maze.json", "family=modplast hidden=73", "Modulated Plasticity", 112.2, 2.0, 1, 231.6, 23.9) \
    T34(X, "inverted pendulum", "stpn/pendulum.json", "family=stpn", "STPN", 985.0, 15.0, 1, 7.9, 2.5)              \
    T34(X, "inverted pendulum", "stpn/pendulum.json", "family=lstm", "LSTM", 23.2, 10.1, 1, 758.8, 81.7)            \
    T34(X, "inverted pendulum", "stpn/pendulum.json", "family=rnn", "RNN", 143.0, 22.4, 1, 143.0, 22.4)             \
    T34(X, "inverted pendulum", "stpn/pendulum.json", "family=mlp", "MLP", 701.8, 98.9, 1, 115.8, 33.9)             \
    /* PongLike, the STPN paper's two Pong models in a table of their own: PongLike is not ALE Pong, so the   \
     * paper's Pong column is never shown beside it */                                                          \
    X("stpn_ponglike", "return", "stpn/ponglike.json", "family=stpn hidden=64 lr=7e-4", "STPNr 64", NOPAPER, NOPAPER, 1) \
    X("stpn_ponglike", "energy", "stpn/ponglike.json", "family=stpn hidden=64 lr=7e-4", "STPNr 64", NOPAPER, NOPAPER, -1) \
    X("stpn_ponglike", "return", "stpn/ponglike.json", "family=lstm hidden=48 lr=1e-4", "LSTM 48", NOPAPER, NOPAPER, 1) \
    X("stpn_ponglike", "energy", "stpn/ponglike.json", "family=lstm hidden=48 lr=1e-4", "LSTM 48", NOPAPER, NOPAPER, -1) \
    /* Duan et al. 2023, Table 2: few-shot regression, the paper's LSTM rows; the RNN rows as a table of their \
     * own from the same runs */                                                                                   \
    D2(X, "duan_table2", "lstm", "none", "LSTM") D2(X, "duan_table2", "lstm", "hebbian", "LSTM, Hebbian")            \
    D2(X, "duan_table2", "lstm", "gradient", "LSTM, gradient-based")                                                \
    D2(X, "duan_table2_rnn", "rnn", "none", "RNN") D2(X, "duan_table2_rnn", "rnn", "hebbian", "RNN, Hebbian")        \
    D2(X, "duan_table2_rnn", "rnn", "gradient", "RNN, gradient-based")                                              \
    /* Duan et al. 2023, the copying figures (error against delay and length) and cue-reward association */       \
    DUAN_MODELS(X)                                                                                                 \
    /* Miconi 2016: the three tasks of Figures 2-4 */                                                              \
    M16(X, "miconi/completion.json", "pattern completion (bit accuracy, %)")                                       \
    M16(X, "miconi/oneshot_binary.json", "one-shot learning (accuracy, %)")                                        \
    M16(X, "miconi/reversal.json", "reversal learning (accuracy, %)")

/* the statistic of a table's cells, the paper's: over seeds, the mean +- standard deviation (Rodriguez et al.),
 * the mean +- 1.96 standard errors (Duan et al.), or the median and interquartile range (Miconi) */
#define REPRODUCE_STATS(X)                                                                                         \
    X(STAT_SD, "mean +- sd over seeds")                                                                            \
    X(STAT_SEM196, "mean +- 1.96 SEM over seeds")                                                                  \
    X(STAT_MEDIAN_IQR, "median [first quartile, third quartile] over runs")

/* the tables: name, title, 1 if every cell is the runs' test energy, the statistic, a note printed under the
 * title, and for a figure the x axis (each column title ends in its x value; "" for a table alone) */
#define REPRODUCE_TABLES(X)                                                                                        \
    X("stpn_table1", "Rodriguez et al. 2022, Table 1: per-synapse and uniform STP, ART and maze (accuracy %, "     \
                     "reward, energy)", 0, STAT_SD,                                                                \
      "configs/stpn/art_ablations.json and maze_ablations.json follow the reference's ablation folders; the maze "       \
      "columns need 50,000 A2C iterations per run.", "")                                                               \
    X("stpn_table2", "Rodriguez et al. 2022, Table 2: continual familiarity detection, accuracy (%)", 0, STAT_SD,  \
      "", "")                                                                                                          \
    X("stpn_table3", "Rodriguez et al. 2022, Table 3: inference accuracy (%) and reward", 0, STAT_SD,             \
      "PongLike is not ALE Pong: its runs are never set beside the paper's Pong column.", "")                          \
    X("stpn_table4", "Rodriguez et al. 2022, Table 4: inference energy", 1, STAT_SD, "", "")                          \
    X("stpn_ponglike", "PongLike (not the Arcade Learning Environment) with the STPN paper's Pong models and "       \
                       "settings: test return (-21 to 21) and energy", 0, STAT_SD,                                  \
      "PongLike is a native stand-in for Atari Pong (docs/envs/ponglike.md), not the ALE: the paper's Pong "           \
      "numbers (Tables 3 and 4) are deliberately not shown. A random agent scores about -20.7.", "")                  \
    X("duan_table2", "Duan et al. 2023, Table 2: few-shot regression, test MSE (LSTM rows)", 0, STAT_SEM196,       \
      "The paper's values are not in the plain text of the paper this repository was built from (the table "     \
      "was lost in extraction): the cells give plast's figures only.", "")                                             \
    X("duan_table2_rnn", "Duan et al. 2023, few-shot regression with RNN cells, test MSE (the same sweeps)", 0,    \
      STAT_SEM196, "The paper's Table 2 shows the LSTM rows; these are the RNN runs of the same sweeps.", "")         \
    X("miconi2016", "Miconi 2016: pattern completion, one-shot and reversal learning (test accuracy, %)", 0,       \
      STAT_MEDIAN_IQR,                                                                                             \
      "The paper shows these as curves of the median error over 20 runs with interquartile bands (Figures 2-4) "  \
      "and reports each task solved; it gives no numbers. Chance: 56.25% of bits (completion), 50% (the others).", \
      "")                                                                                                          \
    X("duan_copy_delay", "Duan et al. 2023, copying n = 5 values after a delay: test MSE against the delay", 0,    \
      STAT_SEM196, "The paper shows this as a figure; it gives no numbers.", "delay (steps)")                      \
    X("duan_copy_length", "Duan et al. 2023, copying without delay: test MSE against the sequence length", 0,      \
      STAT_SEM196, "The paper shows this as a figure; it gives no numbers.", "sequence length")                    \
    X("duan_cuereward", "Duan et al. 2023, cue-reward association: test MSE", 0, STAT_SEM196,                      \
      "The paper shows this as a figure; it gives no numbers.", "")

#endif
