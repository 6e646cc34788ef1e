/* sut: the system under test as a process the harness owns (--target-cmd) - started by /bin/sh
 * from a command template with {port} and {dir} filled in, waited for until it answers the
 * fixture handshake, killed with SIGKILL and started again on the same port and data, stopped at
 * the end. Crash steps (docs/scenario-format.md) need one: a target the harness did not start
 * cannot be restarted. Linux only (process groups, a child subreaper). */
#ifndef SUT_H
#define SUT_H

#include <stdint.h>

#include "oms_error.h"

struct sut;

/* Whether the started target is ready: 0 when it is, otherwise a negative code with err saying
 * why not yet (polled until ready_timeout_ms). */
typedef int (*sut_probe_fn)(void *arg, struct oms_err *err);

struct sut_config {
    /* The shell command (/bin/sh -c). "{port}" becomes the port the harness chose (the same on
     * every restart), "{dir}" a private temporary directory kept across restarts (the target's
     * data: --db {dir}/oms.db); both are also in the environment as REFUND_TARGET_PORT and
     * REFUND_TARGET_DIR. It must run in the foreground: the harness signals its process group. */
    const char *command;
    /* The target's base URL, "{port}" substituted; NULL: http://127.0.0.1:{port}. */
    const char *url;
    int64_t ready_timeout_ms; /* per start; 0: 30000 */
    /* Given to the target as REFUND_FIXTURE_TOKEN (the harness sends the same one); NULL: the
     * target inherits the harness's environment as it is. */
    const char *fixture_token;
};

/* Chooses a free loopback port and creates the temporary directory; starts nothing. Returns 0
 * and *out (free with sut_destroy), or OMS_E_INVAL (command empty or unusable) / OMS_E_ENV with
 * err saying why. */
int sut_create(const struct sut_config *cfg, struct sut **out, struct oms_err *err);

/* Stops the target (SIGTERM to its process group, SIGKILL after 10 s) and removes the temporary
 * directory with everything in it. NULL allowed. */
void sut_destroy(struct sut *s);

/* The readiness probe used by sut_start and sut_restart (borrowed arg); without one,
 * sut_probe_handshake on the URL. */
void sut_set_probe(struct sut *s, sut_probe_fn probe, void *arg);

/* Starts the command and waits until the probe says it is ready. Returns 0, or OMS_E_ENV with err
 * naming the command and the cause - it exited (its status and the end of its output) or it was
 * not ready in time (then it is killed). Starting a target that runs is OMS_E_EXIST. */
int sut_start(struct sut *s, struct oms_err *err);

/* SIGKILL to the target's process group; returns once every process of the group is gone (so its
 * port and files are free). 0, or OMS_E_ENV when it was not running. */
int sut_kill(struct sut *s, struct oms_err *err);

/* Kills the target if it runs, then sut_start. While the dead target's port is still taken
 * (a target without SO_REUSEADDR and connections in TIME_WAIT), a target that exits at once is
 * started again until the ready timeout. Same returns as sut_start. */
int sut_restart(struct sut *s, struct oms_err *err);

/* 1 when the target was started and has not been seen to exit. */
int sut_running(struct sut *s);

/* Where the target listens: its base URL (borrowed) and port, the same across restarts. */
const char *sut_url(const struct sut *s);
unsigned sut_port(const struct sut *s);
/* The {dir} of the command (borrowed). */
const char *sut_dir(const struct sut *s);
/* The command with {port} and {dir} substituted (borrowed). */
const char *sut_command(const struct sut *s);
/* Starts so far (the first one included). */
unsigned sut_starts(const struct sut *s);

/* One poll of the fixture handshake: GET url/_fixture/ (with $REFUND_FIXTURE_TOKEN as
 * X-Fixture-Token when it is set) must answer 200 with {"version": 1, "capabilities": [...]}. 0,
 * or OMS_E_ENV / OMS_E_INVAL with err saying what came back. (The readiness check of a target the
 * harness starts; a plain handshake poll.) */
int sut_probe_handshake(const char *url, struct oms_err *err);

/* A word quoted for /bin/sh ('...' with embedded quotes escaped): a new string. */
char *sut_shell_quote(const char *word);

#endif
