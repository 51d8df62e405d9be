/* src/core/runtime.c: thread settings, the free-core meter and a one-line build description. */
#define _GNU_SOURCE /* sched_getaffinity */
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <omp.h>

#include "core/blas.h"
#include "core/err.h"
#include "plast/runtime.h"

/* the first number after `key` in a text file, or -1 */
static double read_number(const char *path, const char *key) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[256];
    double v = -1;
    while (fgets(line, sizeof line, f)) {
        const char *p = key ? strstr(line, key) : line;
        if (p == line) {
            double x;
            if (sscanf(p + (key ? strlen(key) : 0), "%lf", &x) == 1) v = x;
            break;
        }
    }
    fclose(f);
    return v;
}

double plast_runtime_memory_available(void) {
    double avail = read_number("/proc/meminfo", "MemAvailable:");
    avail = avail >= 0 ? avail * 1024 : 0; /* kB */
    const double limit = read_number("/sys/fs/cgroup/memory.max", NULL); /* "max" reads as -1 */
    const double used = read_number("/sys/fs/cgroup/memory.current", NULL);
    if (limit > 0 && used >= 0 && (avail == 0 || limit - used < avail)) avail = limit > used ? limit - used : 0;
    /* under an address-space limit (ulimit -v): what is left of it, less the 128 MB buffer OpenBLAS takes for each
     * thread that calls it (and waits for forever when it cannot) */
    const double left = plast_blas_space_left();
    if (left >= 0) {
        const double blas = PLAST_BLAS_THREAD_BYTES * omp_get_max_threads(), as = left > blas ? left - blas : 0;
        if (avail == 0 || as < avail) avail = as;
    }
    return avail;
}

plast_status plast_runtime_load_blas(plast_err *err) {
    const double left = plast_blas_space_left(), need = plast_blas_space_needed();
    const int threads = plast_blas_load_threads();
    const plast_blas *b = plast_blas_get();
    if (b->path) return PLAST_OK;
    if (left >= 0 && left < need)
        return plast_err_set(err, PLAST_ERR_NOMEM, "the address space is limited (ulimit -v): %.0f MB left, and "
                             "OpenBLAS needs about %.0f MB to load for %d thread%s (it would wait forever with less): "
                             "raise the limit or use fewer threads (--threads)",
                             left / 1048576.0, need / 1048576.0, threads, threads == 1 ? "" : "s");
    return plast_err_set(err, PLAST_ERR_IO, "no BLAS: %s (install libopenblas0-openmp)", b->error);
}

void plast_runtime_set_threads(int n) {
    if (n < 1) n = 1;
    omp_set_num_threads(n);
    const plast_blas *blas = plast_blas_peek(); /* not opened yet: it will take OpenMP's count when it is */
    if (blas && blas->set_threads) blas->set_threads(n);
}

int plast_runtime_threads(void) { return omp_get_max_threads(); }

char *plast_runtime_describe(char *buf, size_t cap) {
    if (!buf || cap == 0) return buf;
    const plast_blas *b = plast_blas_get();
    char blas[320];
    if (!b->path) snprintf(blas, sizeof blas, "none (%s): plast's reference loops, slow", b->error);
    else snprintf(blas, sizeof blas, "%s (%d threads)", b->get_config ? b->get_config() : "CBLAS (not OpenBLAS)",
                  b->get_threads ? b->get_threads() : -1);
    snprintf(buf, cap, "plast %s, %s, gcc %d.%d, OpenMP %d threads, BLAS: %s", PLAST_VERSION_STRING,
             sizeof(plast_real) == 8 ? "float64" : "float32", __GNUC__, __GNUC_MINOR__, omp_get_max_threads(), blas);
    return buf;
}

/* ---- the free-core meter ------------------------------------------------------------------------------------- */

static double clock_seconds(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* busy ticks of the CPUs in our affinity mask; 0 CPUs when /proc/stat cannot be read */
static int read_cpu_ticks(unsigned long long *busy) {
    cpu_set_t mask;
    CPU_ZERO(&mask);
    if (sched_getaffinity(0, sizeof mask, &mask) != 0) return 0;
    FILE *f = fopen("/proc/stat", "r");
    if (!f) return 0;
    char line[512];
    int cpus = 0;
    *busy = 0;
    while (fgets(line, sizeof line, f)) {
        int id;
        unsigned long long v[8] = {0};
        if (strncmp(line, "cpu", 3) != 0 || line[3] < '0' || line[3] > '9') continue;
        if (sscanf(line + 3, "%d %llu %llu %llu %llu %llu %llu %llu %llu", &id, &v[0], &v[1], &v[2], &v[3], &v[4],
                   &v[5], &v[6], &v[7]) < 5 || id < 0 || id >= CPU_SETSIZE || !CPU_ISSET(id, &mask))
            continue;
        unsigned long long all = 0;
        for (int k = 0; k < 8; k++) all += v[k];
        *busy += all - v[3] - v[4]; /* less idle and iowait */
        cpus++;
    }
    fclose(f);
    return cpus;
}

void plast_cpu_meter_init(plast_cpu_meter *m) {
    memset(m, 0, sizeof *m);
    m->cpus = read_cpu_ticks(&m->busy);
    m->wall = clock_seconds(CLOCK_MONOTONIC);
    m->own = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
}

int plast_cpu_meter_free(plast_cpu_meter *m, int max) {
    if (max < 1) max = 1;
    const double wall = clock_seconds(CLOCK_MONOTONIC);
    if (m->cpus == 0 || wall - m->wall < 0.2) return max;
    unsigned long long busy;
    const int cpus = read_cpu_ticks(&busy);
    const double own = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
    const long hz = sysconf(_SC_CLK_TCK);
    if (cpus == 0 || hz <= 0 || busy < m->busy) return max;
    /* other processes' busy cores over the interval; our own CPU time (spinning threads included) is not theirs */
    double others = ((double)(busy - m->busy) / (double)hz - (own - m->own)) / (wall - m->wall);
    m->busy = busy, m->wall = wall, m->own = own, m->cpus = cpus;
    int free_cores = cpus - (int)(others + 0.5);
    if (free_cores < 1) free_cores = 1;
    return free_cores < max ? free_cores : max;
}
