/* command: executes a package command end to end (SPEC C-1..C-11, Q-1..Q-4, O-1) - validation,
 * then in one transaction the status moves, the deletions, the quota change, the transition log
 * and the outbox rows; nothing of it happens when any part fails. */
#ifndef COMMAND_H
#define COMMAND_H

#include <jansson.h>
#include <stdint.h>

#include "reference_internal.h"
#include "valerr.h"

/* Runs the command on path_package with the parsed request body. Returns 0 when the transition
 * is committed; otherwise nothing changed, errors holds the messages, and the code says what
 * failed: OMS_E_INVAL (validation, SPEC C-1..C-5), OMS_E_NOENT (no such package) or OMS_E_DB (the
 * store). The HTTP status is the caller's to choose. */
int command_execute(struct reference *r, int64_t path_package, const json_t *body,
                    struct valerr *errors);

/* SPEC: moves a location's quota counter by delta, as oms_quota decides (never below 0).
 * Locked, inside a transaction. Returns 0, OMS_E_NOENT (no such location) or OMS_E_DB. */
int command_move_quota(struct reference *r, int64_t location_id, int delta);

/* Waits until every command answered so far has written its outbox rows. The reference writes
 * them before it answers, so this returns at once; a planted build (tests/planted,
 * REFERENCE_PLANTED_OUTBOX=2) writes them after the answer, and a drain or a state load must
 * wait for them. */
void command_settle(struct reference *r);

#endif
