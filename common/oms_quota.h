/* oms_quota: the quota rule (SPEC Q-1..Q-4) as pure functions - how a location's counter moves,
 * what is available, whether planning may create a package there, and whether a counter agrees
 * with its packages. No I/O: the store writes the values these decide. Which statuses count comes
 * from the profile (quota.counting, SPEC A-5). */
#ifndef OMS_QUOTA_H
#define OMS_QUOTA_H

#include <jansson.h>
#include <stdint.h>

#include "oms_profile.h"

/* The status "before" a package is created: no package, which counts toward nothing. */
#define OMS_QUOTA_NO_PACKAGE 0

/* The scenario rule under which planning looks at the quota (SPEC Q-3). */
#define OMS_QUOTA_SELECT_BY_QUOTA "SELECT_BY_QUOTA"

/* SPEC Q-2: the change of a move from status `from` to status `to`: (counts after) - (counts
 * before), so -1, 0 or +1. from OMS_QUOTA_NO_PACKAGE is a creation; a status outside the catalogue
 * counts toward nothing. */
int oms_quota_delta(const struct oms_profile *p, int64_t from, int64_t to);

/* SPEC: the counter after moving quota by delta; never below 0 (a drifted counter stops
 * there), never past INT64_MAX. */
int64_t oms_quota_after(int64_t quota, int64_t delta);

/* SPEC Q-1: max_quota - quota (negative when the counter is above the maximum; saturates at the
 * int64 range). */
int64_t oms_quota_available(int64_t max_quota, int64_t quota);

/* SPEC Q-3: 1 when rules (a JSON array of rule names; NULL or not an array: none) holds
 * "SELECT_BY_QUOTA" exactly. */
int oms_quota_selects_by_quota(const json_t *rules);

/* SPEC Q-3: 1 when planning may create a package at a location: always when the location does not
 * select by quota, otherwise only while its available quota is above 0 (A-16: <= 0 refuses). */
int oms_quota_may_plan(int selects_by_quota, int64_t max_quota, int64_t quota);

/* SPEC: 0 when a location's counter agrees with its counting packages, or disagrees on
 * purpose (drift declared); OMS_E_CONFLICT otherwise. */
int oms_quota_check(int64_t quota, int64_t counting_packages, int drift_declared);

#endif
