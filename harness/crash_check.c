/* crash_check: the checks of a crash step, from states, fates and recorded calls. */
#include "crash_check.h"

#include "matcher.h"
#include "oms_alloc.h"
#include "oms_buf.h"
#include "oms_crypto.h"
#include "oms_json.h"
#include "oms_quota.h"
#include "oms_str.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Appends a difference under rule. */
static void diff(json_t *out, const char *rule, const char *path, const json_t *expected,
                 const json_t *actual, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void diff(json_t *out, const char *rule, const char *path, const json_t *expected,
                 const json_t *actual, const char *fmt, ...)
{
    char msg[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    matcher_mismatch(out, path, expected, actual, "%s", msg);
    json_object_set_new(json_array_get(out, json_array_size(out) - 1), "rule", json_string(rule));
}

/* An id given as a number or a numeric string (a payload may carry either). */
static int id_is(const json_t *v, int64_t id)
{
    if (json_is_integer(v))
        return json_integer_value(v) == id;
    if (json_is_string(v)) {
        char want[32];
        snprintf(want, sizeof(want), "%lld", (long long)id);
        return strcmp(json_string_value(v), want) == 0;
    }
    return 0;
}

static int64_t status_of(const json_t *obj)
{
    return json_integer_value(json_object_get(obj, "status"));
}

static char *label(const struct oms_profile *p, int64_t status, char *out, size_t size)
{
    return oms_profile_status_label(p, status, out, size);
}

static int answered_2xx(const json_t *entry)
{
    json_int_t a = json_integer_value(json_object_get(entry, "answered"));
    return a >= 200 && a < 300;
}

/* ---- what a transition of one package must do and send ---- */

struct expect {
    int64_t package;
    const json_t *was; /* the package in the state before the step, or NULL */
    const struct oms_profile_transition *tr;
    int64_t source;
    int64_t target;
    int allowed;
    int del_res;
    int del_disc;
    int delta;
    const char *remote; /* the mapped Omnitron status; NULL: no Omnitron call */
    json_t *moved;      /* order item ids whose status moves (owned) */
    const char *event;  /* NULL: no webhook */
};

static void expect_cleanup(struct expect *e)
{
    json_decref(e->moved);
    memset(e, 0, sizeof(*e));
}

/* The transition a command body names (transition id first, else slug), or NULL. */
static const struct oms_profile_transition *body_transition(const struct oms_profile *p,
                                                            const json_t *body)
{
    const json_t *id = json_object_get(body, "transition");
    const json_t *slug = json_object_get(body, "slug");
    if (json_is_integer(id))
        return oms_profile_transition_by_id(p, json_integer_value(id));
    if (json_is_string(slug))
        return oms_profile_transition_by_slug(p, json_string_value(slug));
    return NULL;
}

static int body_sync(const struct oms_profile *p, const json_t *body)
{
    const json_t *sync = json_object_get(body, "sync_remote_order_status");
    return json_is_boolean(sync) ? json_is_true(sync) : oms_profile_sync_default(p);
}

/* SPEC C-6..C-9, Q-2 for a move of the package was from source to target by tr. */
static void expect_fill(const struct oms_profile *p, const struct oms_profile_transition *tr,
                        int64_t package, const json_t *was, int64_t source, int64_t target,
                        int sync, struct expect *e)
{
    memset(e, 0, sizeof(*e));
    e->package = package;
    e->was = was;
    e->tr = tr;
    e->source = source;
    e->target = target;
    e->moved = json_array();
    if (!tr)
        return;
    e->allowed = oms_profile_transition_allows(tr, source);
    e->del_res = oms_profile_transition_deletes_reservations(tr, source);
    e->del_disc = oms_profile_transition_deletes_discrepancies(tr, source);
    e->delta = oms_quota_delta(p, source, target);
    e->remote = tr->sync_remote && sync ? oms_profile_omnitron_status(p, target) : NULL;
    e->event = tr->event_type;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(was, "items"), i, it)
    {
        if (status_of(it) != target) {
            json_t *oi = json_object_get(it, "order_item");
            json_array_append_new(e->moved,
                                  json_integer(oi ? json_integer_value(oi)
                                                  : json_integer_value(json_object_get(it, "id"))));
        }
    }
}

/* ---- the step's facts ---- */

struct facts {
    const struct crash_span *span;
    const json_t *before_log;
    const json_t *after_log;
    json_t *fresh; /* the log entries the step added (borrowed elements) */
    json_t *subs;  /* [{"name", "event_type", "secret"}] of the named receivers */
};

static void facts_init(struct facts *f, const struct crash_span *span)
{
    f->span = span;
    f->before_log = json_object_get(span->before, "transition_log");
    f->after_log = json_object_get(span->after, "transition_log");
    f->fresh = json_array();
    json_t *seen = json_object();
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)f->before_log, i, e)
    {
        char key[32];
        snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(json_object_get(e, "id")));
        json_object_set_new(seen, key, json_true());
    }
    json_array_foreach((json_t *)f->after_log, i, e)
    {
        json_t *id = json_object_get(e, "id");
        char key[32];
        snprintf(key, sizeof(key), "%lld", (long long)json_integer_value(id));
        /* Entries without ids: the ones past the length the log had. */
        int fresh =
            json_is_integer(id) ? !json_object_get(seen, key) : i >= json_array_size(f->before_log);
        if (fresh)
            json_array_append(f->fresh, e);
    }
    json_decref(seen);
    f->subs = json_array();
    const json_t *given = span->scenario ? span->scenario->given : NULL;
    json_array_foreach(json_object_get(given, "subscriptions"), i, e)
    {
        const char *name = json_string_value(json_object_get(e, "receiver"));
        if (!name)
            continue; /* a target_url elsewhere: its calls are not recorded here */
        json_t *secret = json_object_get(e, "secret_key");
        json_array_append_new(
            f->subs,
            json_pack("{s:s, s:O, s:O}", "name", name, "event_type",
                      json_object_get(e, "event_type"), "secret",
                      json_is_string(secret) && json_string_length(secret) ? secret : json_null()));
    }
}

static void facts_cleanup(struct facts *f)
{
    json_decref(f->fresh);
    json_decref(f->subs);
}

/* The step's log entries for package id (a new array of borrowed entries). */
static json_t *fresh_for(const struct facts *f, int64_t id)
{
    json_t *out = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(f->fresh, i, e)
    {
        if (json_integer_value(json_object_get(e, "package")) == id)
            json_array_append(out, e);
    }
    return out;
}

static const struct crash_command *command_for(const struct crash_run *r, int64_t id)
{
    for (size_t i = 0; i < r->count; i++)
        if (r->commands[i].package == id)
            return &r->commands[i];
    return NULL;
}

/* What happened to a command, in words: "answered 204 before the kill". */
static const char *fate_words(const struct crash_command *c, char *out, size_t size)
{
    if (!c)
        snprintf(out, size, "no command of the burst named it");
    else if (c->fate == CRASH_ANSWERED)
        snprintf(out, size, "its command was answered %ld before the kill", c->status);
    else if (c->fate == CRASH_IN_FLIGHT)
        snprintf(out, size, "its command was in flight at the kill, unanswered");
    else
        snprintf(out, size, "its command was never sent");
    return out;
}

/* ---- the state of one package ---- */

static size_t list_size(const json_t *pkg, const char *key)
{
    return json_array_size(json_object_get(pkg, key));
}

/* Differences between what a whole transition leaves and the package after the step (now) with
 * its fresh log entries; prefix says which package and why it matters. */
static void whole_diffs(const struct crash_span *span, const struct expect *e, const json_t *now,
                        const json_t *logged, const char *prefix, json_t *out)
{
    const struct oms_profile *p = span->profile;
    char a[96], b[96], path[96];
    snprintf(path, sizeof(path), "packages.%lld", (long long)e->package);
    if (!now) {
        diff(out, "C-6", path, NULL, NULL, "%s: the package is gone after the restart", prefix);
        return;
    }
    json_t *want = json_integer(e->target);
    if (status_of(now) != e->target)
        diff(out, "C-6", path, want, json_object_get(now, "status"),
             "%s: the package is in %s after the restart, not %s", prefix,
             label(p, status_of(now), a, sizeof(a)), label(p, e->target, b, sizeof(b)));
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(now, "items"), i, it)
    {
        if (status_of(it) != e->target) {
            char ip[160];
            snprintf(ip, sizeof(ip), "%s.items.%lld.status", path,
                     (long long)json_integer_value(json_object_get(it, "id")));
            diff(out, "C-6", ip, want, json_object_get(it, "status"),
                 "%s: item %lld is in %s, not %s like its package", prefix,
                 (long long)json_integer_value(json_object_get(it, "id")),
                 label(p, status_of(it), a, sizeof(a)), label(p, e->target, b, sizeof(b)));
        }
    }
    json_decref(want);
    static const char *const lists[] = {"reservations", "discrepancies"};
    for (size_t k = 0; k < 2; k++) {
        int deletes = k == 0 ? e->del_res : e->del_disc;
        size_t had = list_size(e->was, lists[k]), has = list_size(now, lists[k]);
        size_t wanted = deletes ? 0 : had;
        if (has != wanted) {
            char lp[128];
            snprintf(lp, sizeof(lp), "%s.%s", path, lists[k]);
            json_t *w = json_integer((json_int_t)wanted), *h = json_integer((json_int_t)has);
            diff(out, "C-7", lp, w, h, "%s: %zu %s left, expected %zu (%zu before, %s from %s)",
                 prefix, has, lists[k], wanted, had, deletes ? "deleted" : "kept",
                 label(p, e->source, a, sizeof(a)));
            json_decref(w);
            json_decref(h);
        }
    }
    size_t n = json_array_size(logged);
    const json_t *entry = json_array_get(logged, 0);
    if (n != 1) {
        json_t *w = json_integer(1), *h = json_integer((json_int_t)n);
        diff(out, "C-10", "transition_log", w, h,
             "%s: %zu transition log entries for it, expected exactly 1", prefix, n);
        json_decref(w);
        json_decref(h);
    } else if (json_integer_value(json_object_get(entry, "old_status")) != e->source ||
               json_integer_value(json_object_get(entry, "new_status")) != e->target) {
        diff(out, "C-10", "transition_log", NULL, entry,
             "%s: its log entry says %lld -> %lld, expected %s -> %s", prefix,
             (long long)json_integer_value(json_object_get(entry, "old_status")),
             (long long)json_integer_value(json_object_get(entry, "new_status")),
             label(p, e->source, a, sizeof(a)), label(p, e->target, b, sizeof(b)));
    }
}

/* 1 when the package differs from how it was before the step, or the step logged it. */
static int touched(const json_t *was, const json_t *now, const json_t *logged)
{
    if (json_array_size(logged) > 0 || !was != !now)
        return 1;
    if (!was)
        return 0;
    if (status_of(was) != status_of(now) ||
        list_size(was, "reservations") != list_size(now, "reservations") ||
        list_size(was, "discrepancies") != list_size(now, "discrepancies"))
        return 1;
    size_t i;
    json_t *it;
    json_array_foreach(json_object_get(now, "items"), i, it)
    {
        const json_t *old = oms_json_find_by_id(json_object_get(was, "items"),
                                                json_integer_value(json_object_get(it, "id")));
        if (!old || status_of(old) != status_of(it))
            return 1;
    }
    return 0;
}

/* ---- calls ---- */

struct arrival {
    size_t arrived;   /* attempts the receiver recorded */
    size_t delivered; /* of which answered 2xx */
};

/* Omnitron: the attempts listing every moved item with the mapped status (an item is counted by
 * the least-seen of them, so a call missing one item does not count). */
static struct arrival omnitron_arrival(const struct crash_span *span, const struct expect *e)
{
    struct arrival least = {0};
    size_t i;
    json_t *item;
    json_array_foreach(e->moved, i, item)
    {
        struct arrival a = {0};
        size_t k;
        json_t *entry;
        json_array_foreach((json_t *)span->omnitron_calls, k, entry)
        {
            size_t j;
            json_t *el;
            json_array_foreach(json_object_get(json_object_get(entry, "json"), "orderitem_set"), j,
                               el)
            {
                const char *st = json_string_value(json_object_get(el, "status"));
                if (id_is(json_object_get(el, "id"), json_integer_value(item)) && st &&
                    strcmp(st, e->remote) == 0) {
                    a.arrived++;
                    a.delivered += answered_2xx(entry);
                    break;
                }
            }
        }
        if (i == 0 || a.arrived < least.arrived)
            least.arrived = a.arrived;
        if (i == 0 || a.delivered < least.delivered)
            least.delivered = a.delivered;
    }
    return least;
}

/* 1 when entry is a webhook to the named receiver about package id. */
static int webhook_about(const struct crash_span *span, const json_t *entry, const char *name,
                         int64_t id)
{
    char path[300];
    snprintf(path, sizeof(path), "%s%s", span->webhook_prefix, name);
    const char *got = json_string_value(json_object_get(entry, "path"));
    return got && strcmp(got, path) == 0 &&
           id_is(json_object_get(json_object_get(json_object_get(entry, "json"), "payload"), "id"),
                 id);
}

/* Webhooks of package e->package to one subscriber; with out, also checks the event type (C-9),
 * one uuid on every attempt (O-2) and the signature of each (O-3). */
static struct arrival webhook_arrival(const struct crash_span *span, const struct expect *e,
                                      const json_t *sub, const char *prefix, json_t *out)
{
    struct arrival a = {0};
    const char *name = json_string_value(json_object_get(sub, "name"));
    const char *secret = json_string_value(json_object_get(sub, "secret"));
    const char *first_uuid = NULL;
    char header[128];
    oms_str_lower(header, sizeof(header), oms_profile_signature_header(span->profile));
    size_t k;
    json_t *entry;
    json_array_foreach((json_t *)span->webhook_calls, k, entry)
    {
        if (!webhook_about(span, entry, name, e->package))
            continue;
        a.arrived++;
        a.delivered += answered_2xx(entry);
        if (!out)
            continue;
        const json_t *event = json_object_get(json_object_get(entry, "json"), "event");
        const char *type = json_string_value(json_object_get(event, "type"));
        const char *uuid = json_string_value(json_object_get(event, "uuid"));
        char path[160];
        snprintf(path, sizeof(path), "webhooks.%s[%zu]", name, k);
        if (!type || strcmp(type, e->event) != 0) {
            json_t *w = json_string(e->event);
            diff(out, "C-9", path, w, json_object_get(event, "type"),
                 "%s: the webhook to \"%s\" carries event type %s%s%s, not \"%s\"", prefix, name,
                 type ? "\"" : "", type ? type : "none", type ? "\"" : "", e->event);
            json_decref(w);
        }
        if (!first_uuid) {
            first_uuid = uuid;
        } else if (uuid && strcmp(uuid, first_uuid) != 0) {
            json_t *w = json_string(first_uuid), *h = json_string(uuid);
            diff(out, "O-2", path, w, h,
                 "%s: the webhook to \"%s\" arrived again with another event uuid (%s, then "
                 "%s): a resent event keeps its uuid",
                 prefix, name, first_uuid, uuid);
            json_decref(w);
            json_decref(h);
        }
        if (secret) {
            const char *raw = json_string_value(json_object_get(entry, "body"));
            char mac[65], want[160];
            oms_hmac_sha256_hex(secret, strlen(secret), raw ? raw : "", raw ? strlen(raw) : 0, mac);
            snprintf(want, sizeof(want), "%s%s", oms_profile_signature_prefix(span->profile), mac);
            const json_t *sig = json_object_get(json_object_get(entry, "headers"), header);
            if (!json_is_string(sig) || strcmp(json_string_value(sig), want) != 0) {
                json_t *w = json_string(want);
                diff(out, "O-3", path, w, sig,
                     "%s: the webhook to \"%s\" %s the HMAC-SHA256 signature of its body", prefix,
                     name, sig ? "does not carry" : "lacks");
                json_decref(w);
            }
        }
    }
    return a;
}

/* Tallies of the calls of the step's transitions. */
struct tally {
    size_t expected, arrived, delivered, lost, duplicated;
};

static void count_call(struct tally *t, struct arrival a)
{
    t->expected++;
    t->arrived += a.arrived > 0;
    t->delivered += a.delivered > 0;
    t->lost += a.arrived == 0;
    t->duplicated += a.delivered > 1 ? a.delivered - 1 : 0;
}

/* The item ids of a list, "7014, 7015" into out. */
static char *id_list(const json_t *ids, char *out, size_t size)
{
    size_t n = 0, i;
    json_t *v;
    out[0] = '\0';
    json_array_foreach((json_t *)ids, i, v)
    {
        if (n < size)
            n += (size_t)snprintf(out + n, size - n, "%s%lld", i ? ", " : "",
                                  (long long)json_integer_value(v));
    }
    return out;
}

/* Every expected call of e arrived (SPEC O-1); names the transition that lost one. With tally,
 * counts them; with full, also checks uuids, types and signatures. */
static void calls_diffs(const struct facts *f, const struct expect *e, const char *who, int full,
                        struct tally *tally, json_t *out)
{
    const struct crash_span *span = f->span;
    if (e->remote && json_array_size(e->moved) > 0) {
        struct arrival a = omnitron_arrival(span, e);
        if (tally)
            count_call(tally, a);
        if (a.arrived == 0) {
            char ids[256];
            diff(out, "O-1", "omnitron", NULL, NULL,
                 "O-1: %s lost its Omnitron call (order items %s as \"%s\"): it never arrived", who,
                 id_list(e->moved, ids, sizeof(ids)), e->remote);
        }
    }
    if (!e->event)
        return;
    size_t i;
    json_t *sub;
    json_array_foreach(f->subs, i, sub)
    {
        const char *type = json_string_value(json_object_get(sub, "event_type"));
        if (!type || strcmp(type, e->event) != 0)
            continue;
        struct arrival a = webhook_arrival(span, e, sub, who, full ? out : NULL);
        if (tally)
            count_call(tally, a);
        if (a.arrived == 0) {
            char path[160];
            snprintf(path, sizeof(path), "webhooks.%s",
                     json_string_value(json_object_get(sub, "name")));
            diff(out, "O-1", path, NULL, NULL,
                 "O-1: %s lost its webhook to \"%s\": it never arrived", who,
                 json_string_value(json_object_get(sub, "name")));
        }
    }
}

/* Calls about a package that must have none. */
static void no_calls(const struct facts *f, int64_t id, const json_t *was, const char *why,
                     json_t *out)
{
    const struct crash_span *span = f->span;
    size_t k;
    json_t *entry;
    json_array_foreach((json_t *)span->webhook_calls, k, entry)
    {
        if (id_is(json_object_get(json_object_get(json_object_get(entry, "json"), "payload"), "id"),
                  id)) {
            char path[64];
            snprintf(path, sizeof(path), "webhooks[%zu]", k);
            diff(out, "O-1", path, NULL, json_object_get(entry, "path"),
                 "O-1: a webhook arrived at %s for package %lld, but %s and it was not applied",
                 json_string_value(json_object_get(entry, "path")), (long long)id, why);
            return;
        }
    }
    json_array_foreach((json_t *)span->omnitron_calls, k, entry)
    {
        size_t j;
        json_t *el;
        json_array_foreach(json_object_get(json_object_get(entry, "json"), "orderitem_set"), j, el)
        {
            size_t i;
            json_t *it;
            json_array_foreach(json_object_get(was, "items"), i, it)
            {
                json_t *oi = json_object_get(it, "order_item");
                if (oi && id_is(json_object_get(el, "id"), json_integer_value(oi))) {
                    char path[64];
                    snprintf(path, sizeof(path), "omnitron[%zu]", k);
                    diff(out, "O-1", path, NULL, el,
                         "O-1: an Omnitron call arrived for order item %lld of package %lld, but "
                         "%s and it was not applied",
                         (long long)json_integer_value(oi), (long long)id, why);
                    return;
                }
            }
        }
    }
}

/* ---- the checks ---- */

static void add_check(const struct crash_span *span, const char *what, const char *rule,
                      json_t *mismatches, struct result_check **checks, size_t *count)
{
    char path[96], where[OMS_ERR_SOURCE_MAX + 32];
    snprintf(path, sizeof(path), "%s.crash", span->step->path);
    scenario_where(span->scenario, path, where, sizeof(where));
    result_add_check(checks, count, what, where, rule, NULL, NULL, mismatches);
}

/* Without a burst: the state committed before the kill is the state after the restart. */
static void check_survived(const struct facts *f, struct result_check **checks, size_t *count)
{
    const struct crash_span *span = f->span;
    json_t *out = json_array();
    char a[96], b[96];
    size_t i;
    json_t *was;
    json_array_foreach(json_object_get(span->before, "packages"), i, was)
    {
        int64_t id = json_integer_value(json_object_get(was, "id"));
        const json_t *now = oms_json_find_by_id(json_object_get(span->after, "packages"), id);
        char path[64];
        snprintf(path, sizeof(path), "packages.%lld", (long long)id);
        if (!now)
            diff(out, "C-6", path, was, NULL, "package %lld is gone after the restart",
                 (long long)id);
        else if (!json_equal((json_t *)was, (json_t *)now))
            diff(out, "C-6", path, was, now,
                 "package %lld changed across the restart (%s before the kill, %s after)",
                 (long long)id, label(span->profile, status_of(was), a, sizeof(a)),
                 label(span->profile, status_of(now), b, sizeof(b)));
    }
    json_array_foreach(json_object_get(span->before, "locations"), i, was)
    {
        int64_t id = json_integer_value(json_object_get(was, "id"));
        const json_t *now = oms_json_find_by_id(json_object_get(span->after, "locations"), id);
        const json_t *q0 = json_object_get(was, "quota"), *q1 = json_object_get(now, "quota");
        if (!json_equal((json_t *)q0, (json_t *)q1)) {
            char path[64];
            snprintf(path, sizeof(path), "locations.%lld.quota", (long long)id);
            diff(out, "Q-2", path, q0, q1,
                 "location %lld: quota %lld before the kill, %lld after the restart", (long long)id,
                 (long long)json_integer_value(q0), (long long)json_integer_value(q1));
        }
    }
    if (!json_equal((json_t *)f->before_log, (json_t *)f->after_log))
        diff(out, "C-10", "transition_log", f->before_log, f->after_log,
             "the transition log had %zu entries before the kill and %zu after the restart",
             json_array_size(f->before_log), json_array_size(f->after_log));
    add_check(span, "crash: the state committed before the kill survived it", "C-6", out, checks,
              count);
}

/* The expectation for the burst's command on its package. */
static void command_expect(const struct facts *f, const struct crash_command *c, struct expect *e)
{
    const struct crash_span *span = f->span;
    const json_t *was = oms_json_find_by_id(json_object_get(span->before, "packages"), c->package);
    const struct oms_profile_transition *tr = body_transition(span->profile, c->body);
    expect_fill(span->profile, tr, c->package, was, status_of(was), tr ? tr->target : 0,
                body_sync(span->profile, c->body), e);
    if (!was)
        e->allowed = 0;
}

static void check_answered(const struct facts *f, struct result_check **checks, size_t *count)
{
    const struct crash_span *span = f->span;
    const struct crash_run *r = span->run;
    json_t *out = json_array();
    json_t *deltas = json_object(); /* location id -> summed quota change of kept transitions */
    char a[96];
    for (size_t i = 0; i < r->count; i++) {
        const struct crash_command *c = &r->commands[i];
        struct expect e;
        command_expect(f, c, &e);
        const json_t *now =
            oms_json_find_by_id(json_object_get(span->after, "packages"), c->package);
        json_t *logged = fresh_for(f, c->package);
        char prefix[160], path[64];
        snprintf(prefix, sizeof(prefix), "package %lld (answered 204 before the kill)",
                 (long long)c->package);
        snprintf(path, sizeof(path), "packages.%lld", (long long)c->package);
        int kept = e.tr && e.allowed && (json_array_size(logged) > 0 || status_of(now) == e.target);
        if (kept) {
            char key[32];
            snprintf(key, sizeof(key), "%lld",
                     (long long)json_integer_value(json_object_get(e.was, "location")));
            json_object_set_new(
                deltas, key,
                json_integer(json_integer_value(json_object_get(deltas, key)) + e.delta));
        }
        if (c->fate == CRASH_ANSWERED && c->status == 204) {
            if (!e.tr)
                diff(out, "C-4", path, NULL, c->body,
                     "%s: its body names no transition of the profile", prefix);
            else if (!e.allowed)
                diff(out, "C-5", path, NULL, json_object_get(now, "status"),
                     "%s: it was in %s, not a source of \"%s\"", prefix,
                     label(span->profile, e.source, a, sizeof(a)), e.tr->slug);
            else
                whole_diffs(span, &e, now, logged, prefix, out);
        }
        json_decref(logged);
        expect_cleanup(&e);
    }
    /* SPEC Q-2: each location moved by the transitions the target kept, answered or not. */
    size_t i;
    json_t *loc;
    json_array_foreach(json_object_get(span->before, "locations"), i, loc)
    {
        int64_t id = json_integer_value(json_object_get(loc, "id"));
        const json_t *now = oms_json_find_by_id(json_object_get(span->after, "locations"), id);
        if (json_is_true(json_object_get(loc, "quota_drift")) || !now)
            continue;
        char key[32], path[64];
        snprintf(key, sizeof(key), "%lld", (long long)id);
        snprintf(path, sizeof(path), "locations.%lld.quota", (long long)id);
        json_int_t before = json_integer_value(json_object_get(loc, "quota"));
        json_int_t delta = json_integer_value(json_object_get(deltas, key));
        json_int_t want = before + delta < 0 ? 0 : before + delta;
        json_t *w = json_integer(want);
        if (!json_equal(w, json_object_get(now, "quota")))
            diff(out, "Q-2", path, w, json_object_get(now, "quota"),
                 "location %lld: quota %lld after the restart, expected %lld (%lld before, %+lld "
                 "for the transitions the target kept)",
                 (long long)id, (long long)json_integer_value(json_object_get(now, "quota")),
                 (long long)want, (long long)before, (long long)delta);
        json_decref(w);
    }
    json_decref(deltas);
    add_check(span, "crash: commands answered 204 before the kill kept all their effects", "C-6",
              out, checks, count);
}

static size_t check_half(const struct facts *f, struct result_check **checks, size_t *count)
{
    const struct crash_span *span = f->span;
    const struct crash_run *r = span->run;
    json_t *out = json_array();
    size_t half = 0;
    char why[160];
    for (size_t i = 0; i < r->count; i++) {
        const struct crash_command *c = &r->commands[i];
        struct expect e;
        command_expect(f, c, &e);
        const json_t *now =
            oms_json_find_by_id(json_object_get(span->after, "packages"), c->package);
        json_t *logged = fresh_for(f, c->package);
        char path[64];
        snprintf(path, sizeof(path), "packages.%lld", (long long)c->package);
        if (touched(e.was, now, logged)) {
            if (!e.tr || !e.allowed) {
                half++;
                diff(out, "Q-4", path, e.was, now,
                     "package %lld changed although its command could not apply (%s)",
                     (long long)c->package, fate_words(c, why, sizeof(why)));
            } else {
                json_t *parts = json_array();
                char prefix[64];
                snprintf(prefix, sizeof(prefix), "package %lld", (long long)c->package);
                whole_diffs(span, &e, now, logged, prefix, parts);
                if (json_array_size(parts) > 0) {
                    half++;
                    struct oms_buf m;
                    oms_buf_init(&m, 0);
                    size_t k;
                    json_t *d;
                    json_array_foreach(parts, k, d)
                    {
                        const char *msg = json_string_value(json_object_get(d, "message"));
                        oms_buf_printf(&m, "%s%s", k ? "; " : "", msg + strlen(prefix) + 2);
                    }
                    diff(out, "Q-4", path, NULL, now, "package %lld is half-applied (%s): %s",
                         (long long)c->package, fate_words(c, why, sizeof(why)), oms_buf_str(&m));
                    oms_buf_cleanup(&m);
                } else if (c->fate == CRASH_ANSWERED && c->status != 204) {
                    diff(out, "C-5", path, NULL, now,
                         "package %lld was transitioned although its command was answered %ld",
                         (long long)c->package, c->status);
                }
                json_decref(parts);
            }
        }
        json_decref(logged);
        expect_cleanup(&e);
    }
    /* Nothing outside the burst moves. */
    size_t i;
    json_t *now;
    json_array_foreach(json_object_get(span->after, "packages"), i, now)
    {
        int64_t id = json_integer_value(json_object_get(now, "id"));
        if (command_for(r, id))
            continue;
        const json_t *was = oms_json_find_by_id(json_object_get(span->before, "packages"), id);
        json_t *logged = fresh_for(f, id);
        if (!json_equal((json_t *)was, now) || json_array_size(logged) > 0) {
            char path[64];
            snprintf(path, sizeof(path), "packages.%lld", (long long)id);
            diff(out, "Q-4", path, was, now,
                 "package %lld changed during the crash step, though no command of its burst "
                 "named it",
                 (long long)id);
        }
        json_decref(logged);
    }
    add_check(span, "crash: no package is half-applied", "Q-4", out, checks, count);
    return half;
}

static void check_answered_calls(const struct facts *f, struct result_check **checks, size_t *count)
{
    const struct crash_span *span = f->span;
    const struct crash_run *r = span->run;
    json_t *out = json_array();
    for (size_t i = 0; i < r->count; i++) {
        const struct crash_command *c = &r->commands[i];
        struct expect e;
        command_expect(f, c, &e);
        const json_t *now =
            oms_json_find_by_id(json_object_get(span->after, "packages"), c->package);
        json_t *logged = fresh_for(f, c->package);
        char who[200];
        if (c->fate == CRASH_ANSWERED && c->status == 204 && e.tr && e.allowed) {
            snprintf(who, sizeof(who), "package %lld (answered 204 before the kill)",
                     (long long)c->package);
            calls_diffs(f, &e, who, 1, NULL, out);
        } else if (!touched(e.was, now, logged)) {
            no_calls(f, c->package, e.was, fate_words(c, who, sizeof(who)), out);
        }
        json_decref(logged);
        expect_cleanup(&e);
    }
    add_check(span,
              "crash: the calls of commands answered 204 arrived, none for commands that did "
              "not apply",
              "O-1", out, checks, count);
}

static void check_logged_calls(const struct facts *f, struct tally *tally, size_t *unanswered,
                               struct result_check **checks, size_t *count)
{
    const struct crash_span *span = f->span;
    json_t *out = json_array();
    size_t i;
    json_t *entry;
    json_array_foreach(f->fresh, i, entry)
    {
        int64_t id = json_integer_value(json_object_get(entry, "package"));
        const struct crash_command *c = command_for(span->run, id);
        const json_t *tid = json_object_get(entry, "transition");
        const struct oms_profile_transition *tr =
            json_is_integer(tid)
                ? oms_profile_transition_by_id(span->profile, json_integer_value(tid))
                : oms_profile_transition_by_slug(span->profile,
                                                 json_string_value(json_object_get(entry, "slug")));
        const json_t *was = oms_json_find_by_id(json_object_get(span->before, "packages"), id);
        int64_t source = json_integer_value(json_object_get(entry, "old_status"));
        int64_t target = json_integer_value(json_object_get(entry, "new_status"));
        struct expect e;
        expect_fill(span->profile, tr, id, was, source, target,
                    c ? body_sync(span->profile, c->body) : oms_profile_sync_default(span->profile),
                    &e);
        if (c && !(c->fate == CRASH_ANSWERED && c->status == 204))
            (*unanswered)++;
        char a[96], b[96], why[160], who[512];
        snprintf(who, sizeof(who), "transition %lld (package %lld, %s -> %s; %s)",
                 (long long)json_integer_value(json_object_get(entry, "id")), (long long)id,
                 label(span->profile, source, a, sizeof(a)),
                 label(span->profile, target, b, sizeof(b)), fate_words(c, why, sizeof(why)));
        calls_diffs(f, &e, who, 0, tally, out);
        expect_cleanup(&e);
    }
    add_check(span, "crash: every transition the restarted target logged has its calls", "O-1", out,
              checks, count);
}

/* The calls the outbox still held when the kill came. */
static void check_pending(const struct facts *f, struct result_check **checks, size_t *count)
{
    const struct crash_span *span = f->span;
    const char *what = "crash: calls pending in the outbox at the kill arrived after the restart";
    const json_t *rows = json_object_get(span->before, "outbox");
    if (span->no_outbox || !json_is_array(rows)) {
        char path[96], where[OMS_ERR_SOURCE_MAX + 32];
        snprintf(path, sizeof(path), "%s.crash", span->step->path);
        scenario_where(span->scenario, path, where, sizeof(where));
        result_skip_check(checks, count, what, where, "O-1",
                          "the target does not expose its outbox (fixture capability "
                          "\"outbox\"): which calls were pending at the kill is unknown");
        return;
    }
    json_t *out = json_array();
    size_t i;
    json_t *row;
    json_array_foreach((json_t *)rows, i, row)
    {
        const char *state = json_string_value(json_object_get(row, "state"));
        if (!state || strcmp(state, "pending") != 0)
            continue;
        const char *uuid = json_string_value(json_object_get(row, "event_uuid"));
        const char *body = json_string_value(json_object_get(row, "body"));
        int webhook = uuid != NULL;
        const json_t *calls = webhook ? span->webhook_calls : span->omnitron_calls;
        int found = 0;
        size_t k;
        json_t *entry;
        json_array_foreach((json_t *)calls, k, entry)
        {
            if (webhook) {
                const char *u = json_string_value(json_object_get(
                    json_object_get(json_object_get(entry, "json"), "event"), "uuid"));
                found |= u && strcmp(u, uuid) == 0;
            } else {
                const char *raw = json_string_value(json_object_get(entry, "body"));
                found |= raw && body && strcmp(raw, body) == 0;
            }
        }
        if (!found) {
            char path[64];
            snprintf(path, sizeof(path), "outbox.%lld",
                     (long long)json_integer_value(json_object_get(row, "id")));
            diff(out, "O-1", path, NULL, row,
                 "O-1: the %s call of outbox row %lld (%s%s%s), pending when the kill came, "
                 "never arrived after the restart",
                 webhook ? "webhook" : "Omnitron",
                 (long long)json_integer_value(json_object_get(row, "id")),
                 json_string_value(json_object_get(row, "url")), webhook ? ", event " : "",
                 webhook ? uuid : "");
        }
    }
    add_check(span, what, "O-1", out, checks, count);
}

static int has_pending(const json_t *state)
{
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(state, "outbox"), i, row)
    {
        const char *s = json_string_value(json_object_get(row, "state"));
        if (s && strcmp(s, "pending") == 0)
            return 1;
    }
    return 0;
}

json_t *crash_check(const struct crash_span *span, struct result_check **checks, size_t *count)
{
    struct facts f;
    facts_init(&f, span);
    const struct crash_run *r = span->run;
    struct tally tally = {0};
    size_t half = 0, unanswered = 0;
    if (r->count == 0) {
        check_survived(&f, checks, count);
    } else {
        check_answered(&f, checks, count);
        half = check_half(&f, checks, count);
        check_answered_calls(&f, checks, count);
    }
    check_logged_calls(&f, &tally, &unanswered, checks, count);
    if (r->count == 0 || span->no_outbox || has_pending(span->before))
        check_pending(&f, checks, count);

    size_t answered = 0, refused = 0, in_flight = 0, not_sent = 0, failed_early = 0;
    json_t *commands = json_array();
    for (size_t i = 0; i < r->count; i++) {
        const struct crash_command *c = &r->commands[i];
        answered += c->fate == CRASH_ANSWERED && c->status == 204;
        refused += c->fate == CRASH_ANSWERED && c->status != 204;
        in_flight += c->fate == CRASH_IN_FLIGHT;
        not_sent += c->fate == CRASH_NOT_SENT;
        failed_early += c->fate == CRASH_IN_FLIGHT && c->before_kill;
        json_t *one = json_pack("{s:I, s:s}", "package", (json_int_t)c->package, "fate",
                                crash_fate_name(c->fate));
        if (c->fate == CRASH_ANSWERED)
            json_object_set_new(one, "status", json_integer(c->status));
        if (c->fate == CRASH_IN_FLIGHT)
            json_object_set_new(one, "error", json_string(c->error));
        json_array_append_new(commands, one);
    }
    json_t *fig = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:f, "
        "s:f, s:b}",
        "sent", (json_int_t)(r->count - not_sent), "answered", (json_int_t)answered, "refused",
        (json_int_t)refused, "in_flight", (json_int_t)in_flight, "not_sent", (json_int_t)not_sent,
        "failed_before_kill", (json_int_t)failed_early, "kill_after", (json_int_t)r->kill_after,
        "answered_at_kill", (json_int_t)r->answered_at_kill, "transitions",
        (json_int_t)json_array_size(f.fresh), "applied_unanswered", (json_int_t)unanswered,
        "half_applied", (json_int_t)half, "calls_expected", (json_int_t)tally.expected,
        "calls_arrived", (json_int_t)tally.arrived, "calls_delivered", (json_int_t)tally.delivered,
        "lost", (json_int_t)tally.lost, "duplicated", (json_int_t)tally.duplicated, "kill_ms",
        r->kill_ms, "restart_ms", r->restart_ms, "random", r->random);
    json_object_set_new(fig, "seed", r->random ? json_integer((json_int_t)r->seed) : json_null());
    json_object_set_new(fig, "commands", commands);
    facts_cleanup(&f);
    return fig;
}
