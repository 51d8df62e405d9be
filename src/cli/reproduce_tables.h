/* src/cli/reproduce_tables.h: the papers' tables that `plast reproduce` rebuilds, one row per cell, as an X-macro:
 *   X(table, column, config, combination, row, paper mean, paper +-, scale)
 * table: the name given to `plast reproduce`; column: its title; config: the file under configs/ whose sweep gives
 * the column (one `plast sweep` per column); combination: the sweep's combination name (summary.csv) for the row;
 * paper mean and +-: the paper's cell (Rodriguez et al. 2022 report the mean and the standard deviation over seeds);
 * scale: plast's figure times this is the paper's unit (an accuracy of 0.98 is 98 %).
 * The energy tables take the runs' test energy (test.json) instead of the metric: TABLE_ENERGY below. */
#ifndef PLAST_CLI_REPRODUCE_TABLES_H
#define PLAST_CLI_REPRODUCE_TABLES_H

#define CFD_R3D "stpn/cfd_R3_dataset.json"
#define CFD_R3I "stpn/cfd_R3_infinite.json"
#define CFD_R6I "stpn/cfd_R6_infinite.json"
#define CFD_HEBBFF "family=hebbff variant=r stp_params=synapse hidden=100"
#define CFD_USTPNF "family=stpn variant=f stp_params=scalar hidden=100"
#define CFD_STPNR "family=stpn variant=r stp_params=synapse hidden=27"
#define CFD_USTPNR "family=stpn variant=r stp_params=scalar hidden=62"
#define CFD_STPNF "family=stpn variant=f stp_params=synapse hidden=34"
#define CFD_LSTM "family=lstm variant=r stp_params=synapse hidden=21"

/* a row of Table 2: the model's three columns */
#define T2(X, comb, row, m1, pm1, m2, pm2, m3, pm3)                                                                \
    X("stpn_table2", "dataset R=3", CFD_R3D, comb, row, m1, pm1, 100)                                             \
    X("stpn_table2", "infinite R=3", CFD_R3I, comb, row, m2, pm2, 100)                                            \
    X("stpn_table2", "infinite R=6", CFD_R6I, comb, row, m3, pm3, 100)

/* a row of Tables 3 and 4: the same runs' metric (Table 3) and energy (Table 4) */
#define T34(X, col, cfg, comb, row, m3, pm3, scale, m4, pm4)                                                       \
    X("stpn_table3", col, cfg, comb, row, m3, pm3, scale) X("stpn_table4", col, cfg, comb, row, m4, pm4, 1)

#define REPRODUCE_CELLS(X)                                                                                         \
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
    T34(X, "inverted pendulum", "stpn/pendulum.json", "family=mlp", "MLP", 701.8, 98.9, 1, 115.8, 33.9)

/* the tables, with their titles; an energy table reads the runs' test energy */
#define REPRODUCE_TABLES(X)                                                                                        \
    X("stpn_table2", "Rodriguez et al. 2022, Table 2: continual familiarity detection, accuracy (%)", 0)           \
    X("stpn_table3", "Rodriguez et al. 2022, Table 3: inference accuracy (%) and reward", 0)                      \
    X("stpn_table4", "Rodriguez et al. 2022, Table 4: inference energy", 1)

#endif
