/* fixture: the loading side of the fixture protocol (docs/fixture-protocol.md) - validates a
 * scenario's initial state and installs it, replacing everything, in one transaction. */
#ifndef FIXTURE_H
#define FIXTURE_H

#include <jansson.h>

#include "oms_error.h"
#include "reference_internal.h"

/* Validates doc completely, then replaces the whole state (rows, subscriptions, profile overrides,
 * Omnitron settings) in one transaction. Returns 0, or OMS_E_INVAL with err naming the JSON path
 * and what was expected; on any error nothing has changed. */
int fixture_load(struct reference *r, const json_t *doc, struct oms_err *err);

/* SPEC P-2, Q-3: plans one package ({"package": {...}} as in a fixture; status defaults to the
 * profile's planning status). Returns 0 with *answer a new object {package, location, status,
 * quota, max_quota, available_quota}; OMS_E_INVAL for a package the fixture rules refuse;
 * OMS_E_CONFLICT when the location's scenario rules include SELECT_BY_QUOTA and its
 * available_quota <= 0; OMS_E_DB when the store fails. On error err says why (its code is the one
 * returned) and nothing changed. */
int fixture_plan(struct reference *r, const json_t *doc, json_t **answer, struct oms_err *err);

/* Re-installs the profile overrides, Omnitron settings and clock mode a persistent store recorded,
 * at start (a virtual clock starts again from the wall clock).
 * Returns 0 or a negative code with err set. */
int fixture_restore_settings(struct reference *r, struct oms_err *err);

#endif
