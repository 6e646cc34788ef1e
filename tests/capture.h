/* capture: runs a program to its end with its output captured, within a time limit, for tests of
 * command-line behaviour; and the temporary directories and files those tests write. */
#ifndef CAPTURE_H
#define CAPTURE_H

#include "support.h"

#include <stddef.h>
#include <stdint.h>

/* The time limit of capture_run when the options give none. */
#define CAPTURE_TIMEOUT_MS 60000
/* Output beyond this many bytes per stream is read and dropped. */
#define CAPTURE_MAX_BYTES (16u * 1024 * 1024)

/* How a program ended and what it printed. */
struct capture {
    int code;      /* exit code; -1 when it ended by a signal or was killed at the deadline */
    int signal;    /* the signal that ended it, or 0 */
    int timed_out; /* 1: still running at the deadline, so its process group was killed */
    char *out;     /* stdout, NUL-terminated; never NULL after capture_run */
    size_t out_len;
    char *err; /* stderr, NUL-terminated; never NULL after capture_run */
    size_t err_len;
};

struct capture_options {
    const char *cwd;        /* the child's working directory; NULL: the test's */
    const char *const *env; /* NULL-terminated changes to the test's environment: "NAME=value"
                               sets NAME, "NAME" removes it; NULL: no change */
    int stdout_tty;         /* 1: stdout is a pseudo-terminal (its controlling terminal) */
    int64_t timeout_ms;     /* 0: CAPTURE_TIMEOUT_MS */
};

/* Runs argv[0] (a path, not searched in PATH) with argv, stdin on /dev/null, stdout and stderr
 * captured, in a process group of its own. At the deadline the whole group is killed with SIGKILL;
 * when the program exits, what is left of its group (helpers it started) gets SIGKILL too, a
 * short grace later. opt may be NULL. Returns r->code; the caller releases r with
 * capture_cleanup. Fails the test when the program cannot be started (exit code 127 from the
 * child: exec failed, with the reason on its stderr). */
int capture_run(const char *const *argv, const struct capture_options *opt, struct capture *r);
/* Runs the built refund-harness (proc_bin) with args (NULL-terminated, at most 38) from cwd,
 * within timeout_ms; fails the test when it cannot finish. Returns r->code; the caller releases r
 * with capture_cleanup. */
int capture_harness(const char *const *args, const char *cwd, int64_t timeout_ms,
                    struct capture *r);
/* The file name in dir_a, after failing the test unless dir_b holds the same bytes under that
 * name (two runs that must write identical files). Returns its text (the caller frees it). */
char *capture_same_file(const char *dir_a, const char *dir_b, const char *name);
/* DIR/results.json, parsed (the caller releases it); fails the test when it cannot be read. */
json_t *capture_results(const char *dir);
/* Frees what capture_run filled in; r becomes empty. NULL allowed. */
void capture_cleanup(struct capture *r);
/* Finds an executable name in the directories of PATH (/usr/bin:/bin without PATH) and writes its
 * path into out. Returns 0, or -1 when there is none (out is then unspecified). */
int capture_find_program(const char *name, char *out, size_t size);
/* "exit code N", "signal N" or "killed at the deadline" into buf (returned). */
const char *capture_describe(const struct capture *r, char *buf, size_t size);

/* Creates a fresh directory $TMPDIR/refund-<name>-XXXXXX (TMPDIR defaults to /tmp) and returns
 * its path (the caller frees it); fails the test when it cannot. */
char *capture_temp_dir(const char *name);
/* Removes path and everything under it, without following symbolic links. NULL allowed; a path
 * that does not exist is not an error. */
void capture_remove_tree(const char *path);
/* Writes text to path (created or truncated); fails the test when it cannot. */
void capture_write_file(const char *path, const char *text);
/* The whole file as a NUL-terminated string the caller frees (its length in *len when len is not
 * NULL), or NULL when it cannot be read. */
char *capture_read_file(const char *path, size_t *len);
/* 1 when path exists (any kind of file), else 0. */
int capture_exists(const char *path);

#endif
