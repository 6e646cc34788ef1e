/* bench_proc: a server under measurement as a child process - started, found by the
 * "listening on URL" line it prints, its peak memory read from /proc, stopped with SIGTERM. */
#ifndef BENCH_PROC_H
#define BENCH_PROC_H

#include <sys/types.h>

#define BENCH_URL_MAX 160

struct bench_proc {
    pid_t pid; /* 0: not running */
    int out_fd;
    char url[BENCH_URL_MAX];         /* from "listening on URL" */
    char control_url[BENCH_URL_MAX]; /* from "control on URL", "" when none was printed */
};

/* Starts argv (argv[0] is a path, argv NULL-terminated) with stderr appended to log_path (NULL:
 * /dev/null) and waits at most timeout_ms for a stdout line containing "listening on " (and, when
 * want_control, one containing "control on "). Returns 0 and fills *p, or -1 after printing why
 * to stderr; no child is left running then. */
int bench_proc_start(struct bench_proc *p, char *const argv[], const char *log_path,
                     int want_control, int timeout_ms);
/* The child's VmHWM (peak resident set) or VmRSS in kB from /proc/PID/status; -1 when unknown. */
long bench_proc_hwm_kb(const struct bench_proc *p);
long bench_proc_rss_kb(const struct bench_proc *p);
/* SIGTERM, then SIGKILL after 10 s; reaps the child. NULL or a stopped child allowed. */
void bench_proc_stop(struct bench_proc *p);

#endif
