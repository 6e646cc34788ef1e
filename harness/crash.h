/* crash: runs a crash step (docs/scenario-format.md, "crash") - a burst of commands on many
 * packages, up to N in flight, with the target killed with SIGKILL right after its Nth answer (or
 * after a number of answers drawn from a seed), or killed at once without a burst; then the
 * target started again on the same port and data, its handshake waited for, and the receivers
 * given their behaviour for after the restart. What each command got (answered, in flight at the
 * kill, never sent) is kept for the checks (crash_check.h). */
#ifndef CRASH_H
#define CRASH_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "oms_error.h"
#include "oms_profile.h"
#include "scenario.h"
#include "sut.h"
#include "target.h"

#define CRASH_DEFAULT_CONCURRENT 32

enum crash_fate {
    CRASH_NOT_SENT = 0, /* the kill came first */
    CRASH_ANSWERED,     /* an answer arrived before the kill */
    CRASH_IN_FLIGHT,    /* sent, and no answer: the kill (or a transport failure) came first */
};

/* "not sent", "answered", "in flight". */
const char *crash_fate_name(enum crash_fate f);

struct crash_command {
    int64_t package;
    json_t *body; /* the body sent (owned) */
    enum crash_fate fate;
    long status;     /* with CRASH_ANSWERED */
    char error[256]; /* with CRASH_IN_FLIGHT: what the transport said */
    int before_kill; /* with CRASH_IN_FLIGHT: it failed before the kill (the target's fault) */
};

struct crash_run {
    struct crash_command *commands; /* in burst order; none without a burst */
    size_t count;
    size_t concurrent;
    size_t kill_after; /* the answer the kill waited for; 0: killed at once */
    int random;        /* kill_after was drawn from seed */
    uint64_t seed;
    int64_t delay_ms;
    size_t answered_at_kill; /* answers in when the kill came (>= kill_after with delay_ms) */
    double kill_ms;          /* from the first request to the kill */
    double restart_ms;       /* from the kill to the handshake of the restarted target */
};

/* The answer the kill waits for under "at": "random": 1 + a draw from seed in [0, n - c) (so c
 * commands are still in flight when it comes), or in [0, n - 1) when n <= c; 1 when n is 1. */
size_t crash_random_after(uint64_t seed, size_t n, size_t c);

/* The seed of a random crash moment: the step's own "seed", else one derived from the run's
 * seed, the scenario's name and the step's index (so each step of a run draws its own, and the
 * same run seed draws the same moments wherever the file lies). Below 2^53. */
uint64_t crash_step_seed(const json_t *crash, uint64_t run_seed, const char *name, size_t index);

/* The packages of a burst in order: a new array the caller frees; *n its length. */
int64_t *crash_burst_packages(const json_t *burst, size_t *n);

/* Runs the crash step st (kind STEP_CRASH) on the target t, which the harness runs as s: sends
 * the burst (token: the Authorization token), kills, restarts, waits for the handshake (through
 * t), applies the step's "receivers". Fills out (free with crash_run_cleanup). Returns 0, or
 * OMS_E_ENV with err saying what failed (the kill or the restart) - out then holds what was
 * learnt. */
int crash_execute(struct target *t, struct sut *s, const char *token,
                  const struct scenario_step *st, uint64_t seed, struct crash_run *out,
                  struct oms_err *err);
void crash_run_cleanup(struct crash_run *r);

/* "kill -9 after answer 37 of 200 (random, seed 12), restart" for the step's label: into out. */
char *crash_describe(const struct crash_run *r, char *out, size_t size);

#endif
