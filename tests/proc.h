/* proc: the built programs as child processes for tests. */
#ifndef PROC_H
#define PROC_H

#include "support.h"

#include <sys/types.h>

#define START_TIMEOUT_MS 20000
#define STOP_TIMEOUT_MS  20000
#define MAX_PROCS        8

/* A started program: its pid, the read ends of its stdout (and stderr when captured), and the URL
 * it printed. */
struct proc {
    pid_t pid;
    int out_fd;
    int err_fd; /* -1: stderr inherited */
    char url[128];
};

/* The temporary directory and database of the running test (proc_make_temp_db), removed by
 * proc_teardown even when the test failed half-way. */
extern char proc_temp_dir[64];
extern char proc_temp_db[128];

/* The path of a built program (REFUND_BIN_DIR/name), in a static buffer. */
const char *proc_bin(const char *name);
/* Starts argv[0] from REFUND_BIN_DIR with stdout (and stderr when capture_err) on pipes; fails the
 * test when it cannot. */
void proc_spawn(struct proc *p, const char *const *argv, int capture_err);
/* Appends what fd gives to buf (NUL-terminated) until EOF, the deadline or (with until not NULL)
 * a whole line containing until. Returns 2 for the line, 1 at EOF, 0 at the deadline. */
int proc_read_until(int fd, char *buf, size_t size, int64_t deadline, const char *until);
/* Waits for "<program>: listening on URL" and keeps the URL in p->url; fails the test otherwise. */
void proc_wait_listening(struct proc *p, const char *name);
/* Polls until pid ends or timeout_ms passes: 1 and *status, or 0. */
int proc_wait_exit(pid_t pid, int64_t timeout_ms, int *status);
/* SIGTERM; the program must exit 0 within STOP_TIMEOUT_MS, else it is killed and the test fails. */
void proc_stop(struct proc *p, const char *name);
/* Forgets pid (the test reaped it itself), so teardown does not kill it. */
void proc_forget(pid_t pid);
/* Creates proc_temp_dir and names proc_temp_db in it. */
void proc_make_temp_db(void);
/* A cmocka teardown: kills every child still alive and removes the temporary database. */
int proc_teardown(void **state);

#endif
