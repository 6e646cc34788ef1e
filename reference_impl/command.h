/* command: executes a package command end to end (SPEC C-1..C-11, Q-1..Q-4, O-1) - validation,
 * then in one transaction the status moves, the deletions, the quota change, the transition log
 * and the outbox rows; nothing of it happens when any part fails. */
#ifndef COMMAND_H
#define COMMAND_H

#include <jansson.h>
#include <stdint.h>

#include "reference_internal.h"

struct command_outcome {
    int status;   /* 204 on success; 400, 404 or 500 (store failure) otherwise */
    json_t *body; /* the error envelope (new reference), NULL with 204 */
};

/* Runs the command on path_package with the parsed request body. Fills out. */
void command_execute(struct reference *r, int64_t path_package, const json_t *body,
                     struct command_outcome *out);

/* Waits until every command answered so far has written its outbox rows. The reference writes
 * them before it answers, so this returns at once; a planted build (tests/planted,
 * REFERENCE_PLANTED_OUTBOX=2) writes them after the answer, and a drain or a state load must
 * wait for them. */
void command_settle(struct reference *r);

#endif
