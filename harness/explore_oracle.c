/* explore_oracle: expectations from the reference's observed behaviour, contract fields only. */
#include "explore_oracle.h"

#include "crash.h"
#include "explore_gen.h"
#include "matcher.h"
#include "oms_alloc.h"
#include "oms_crypto.h"
#include "oms_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define UUID_PATTERN   "^[0-9a-f]{32}$"
#define WEBHOOK_PREFIX "/hooks/"
#define COMMAND_PREFIX "/api/v1/oms/packages/"

/* The receivers, Omnitron's first. */
enum { OMNITRON, WEBHOOK, RECEIVERS };
static const char *const RECEIVER[RECEIVERS] = {"omnitron", "webhook"};

struct explore_oracle {
    const json_t *probe;
    struct oms_profile *profile;
    int invariants;
    struct runner_observer observer;
    json_t *thens; /* per step: its "then" object, or null */
    size_t seen;   /* steps observed */
    /* What a kill inside a burst left to the target's threads (which commands applied, how many
     * calls a receiver's fault rules met): nothing the contract decides, so no expectation may
     * rest on it. Packages and locations by id ("501": true). */
    json_t *unsure_packages;
    json_t *unsure_locations;
    int faults[RECEIVERS];       /* fault rules are in force (their counters run down) */
    int unsure_calls[RECEIVERS]; /* and they met a number of calls timing chose */
};

/* A status by name when the catalogue has it (readable, and what scenarios write), else the
 * number. New reference. */
static json_t *status_value(const struct oms_profile *p, int64_t v)
{
    const struct oms_profile_status *s = oms_profile_status_by_value(p, v);
    return s ? json_string(s->name) : json_integer(v);
}

static json_t *ruled(const char *rule, json_t *m)
{
    return json_pack("{s:[s,o]}", "$rule", rule, m);
}

/* ---- what a request gets wrong ---- */

/* The faults of a request that SPEC E-2 answers before the body's fields are read (method, token,
 * path id, content type, size, JSON, object). Implementations check them in different orders
 * so with two of them only "some 4xx" is the contract's. */
struct request_faults {
    unsigned transport; /* how many of them */
    int body_sent;
    json_t *body; /* the parsed body when it is JSON (new reference), else NULL */
    json_int_t path_id;
};

static const json_t *header_override(const json_t *request, const char *name, int *present)
{
    const char *key;
    json_t *v;
    *present = 0;
    json_object_foreach(json_object_get(request, "headers"), key, v)
    {
        if (strcasecmp(key, name) == 0) {
            *present = 1;
            return v;
        }
    }
    return NULL;
}

static int json_type_ok(const char *type)
{
    size_t n = strlen("application/json");
    return type && strncasecmp(type, "application/json", n) == 0 &&
           (type[n] == '\0' || type[n] == ';' || type[n] == ' ');
}

/* A path id as the command path carries it: a positive integer, else 0. */
static json_int_t path_id(const char *path)
{
    if (strncmp(path, COMMAND_PREFIX, strlen(COMMAND_PREFIX)) != 0)
        return 0;
    const char *p = path + strlen(COMMAND_PREFIX);
    json_int_t v = 0;
    size_t digits = 0;
    while (*p >= '0' && *p <= '9' && digits < 18) {
        v = v * 10 + (*p - '0');
        p++;
        digits++;
    }
    return digits && strcmp(p, "/command/") == 0 && v > 0 ? v : 0;
}

static void request_faults(const struct oms_profile *p, const json_t *r, int command,
                           struct request_faults *f)
{
    memset(f, 0, sizeof(*f));
    const char *method = json_string_value(json_object_get(r, "method"));
    if (method ? strcmp(method, "POST") != 0 : !command)
        f->transport++;
    const char *path = json_string_value(json_object_get(r, "path"));
    f->path_id = path ? path_id(path) : json_integer_value(json_object_get(r, "package"));
    if (f->path_id <= 0)
        f->transport++;
    /* The Authorization header as the runner builds it: the step's header, else its token,
     * else the run's (assumed right). */
    int present;
    const json_t *auth = header_override(r, "Authorization", &present);
    const json_t *token = json_object_get(r, "token");
    if (present) {
        const char *a = json_string_value(auth);
        if (!a || strncmp(a, "Token ", 6) != 0 || !oms_secret_in(oms_profile_tokens(p), a + 6))
            f->transport++;
    } else if (token && (!json_is_string(token) ||
                         !oms_secret_in(oms_profile_tokens(p), json_string_value(token)))) {
        f->transport++;
    }
    const json_t *body = json_object_get(r, "body");
    const char *raw = json_string_value(json_object_get(r, "raw_body"));
    f->body_sent = body || raw;
    const json_t *type = header_override(r, "Content-Type", &present);
    if (f->body_sent && present && !json_type_ok(json_string_value(type)))
        f->transport++;
    if (!f->body_sent && (!method || strcmp(method, "POST") == 0))
        f->transport++; /* a command without a body: no contract answer to rely on */
    if (!f->body_sent)
        return;
    char *text = body ? oms_json_dumps(body) : NULL;
    size_t len = text ? strlen(text) : strlen(raw);
    if (len > oms_profile_max_body(p))
        f->transport++;
    if (body) {
        f->body = json_incref((json_t *)body);
    } else {
        f->body = json_loadb(raw, strlen(raw), JSON_DECODE_ANY, NULL);
        if (!f->body)
            f->transport++; /* not JSON */
    }
    if (f->body && !json_is_object(f->body))
        f->transport++; /* not an object */
    free(text);
}

/* The first field the contract refuses in a body (C-3, C-4, C-8), with the rule it breaks; NULL
 * when every field is valid. *t gets the transition named when they are. */
static const char *field_fault(const struct oms_profile *p, const json_t *body, json_int_t path,
                               const char **rule, const struct oms_profile_transition **t)
{
    *t = NULL;
    const json_t *pkg = json_object_get(body, "package");
    if (!json_is_integer(pkg) || json_integer_value(pkg) <= 0) {
        *rule = "C-3";
        return "package";
    }
    if (json_integer_value(pkg) != path) {
        *rule = "A-2";
        return "package";
    }
    *rule = "C-4";
    const json_t *id = json_object_get(body, "transition");
    const json_t *slug = json_object_get(body, "slug");
    const struct oms_profile_transition *by_id = NULL, *by_slug = NULL;
    if (id) {
        if (!json_is_integer(id))
            return "transition";
        by_id = oms_profile_transition_by_id(p, json_integer_value(id));
    }
    if (slug) {
        if (!json_is_string(slug))
            return "slug";
        by_slug = oms_profile_transition_by_slug(p, json_string_value(slug));
    }
    const json_t *sync = json_object_get(body, "sync_remote_order_status");
    if (sync && !json_is_boolean(sync)) {
        *rule = "C-8";
        return "sync_remote_order_status";
    }
    if (!id && !slug)
        return "non_field_errors";
    if (id && !by_id)
        return "transition";
    if (slug && !by_slug)
        return "slug";
    if (by_id && by_slug && by_id != by_slug)
        return "non_field_errors";
    *t = by_id ? by_id : by_slug;
    return NULL;
}

/* ---- expectations of one answer ---- */

/* The field list of an error: the reference's keys; with group (neither or both of transition
 * and slug, disagreeing), transition, slug and non_field_errors stand for one another: which of
 * them such a fault is filed under is the implementation's. */
static json_t *fields_of(const json_t *error, int group)
{
    json_t *fields = json_array();
    int c4 = 0;
    if (!group) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)error, key, v)
        {
            json_array_append_new(fields, json_string(key));
        }
        return fields;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)error, key, v)
    {
        if (strcmp(key, "transition") == 0 || strcmp(key, "slug") == 0 ||
            strcmp(key, "non_field_errors") == 0)
            c4 = 1;
        else
            json_array_append_new(fields, json_string(key));
    }
    if (c4) {
        json_array_append_new(fields, json_string("non_field_errors"));
        json_array_append_new(fields, json_string("transition"));
        json_array_append_new(fields, json_string("slug"));
    }
    return fields;
}

/* status and body expectations of one answer to a command (or http) request r; before is the
 * state the request met, concurrent says the answer is one of several copies (then the status a
 * refusal names may be the winner's result, so only the allowed ones are required). */
static void answer_expect(const struct oms_profile *p, const json_t *r, int command,
                          const json_t *answer, const json_t *before, int concurrent,
                          json_t **status_out, json_t **body_out)
{
    json_int_t status = json_integer_value(json_object_get(answer, "status"));
    const json_t *parsed = json_object_get(answer, "json");
    struct request_faults f;
    request_faults(p, r, command, &f);
    *body_out = NULL;
    if (status >= 500) {
        *status_out = ruled("E-3", json_integer(status));
    } else if (f.transport >= 2 && status >= 400 && status < 500) {
        /* Which fault answers first is the reference's order; that it is refused is not. */
        *status_out =
            json_pack("{s:[o,o]}", "$all", ruled("E-2", json_pack("{s:[i,i]}", "$range", 400, 499)),
                      ruled("R-2", json_integer(status)));
        *body_out =
            ruled("E-2", json_pack("{s:{s:{s:[i,i]}}}", "$error", "status", "$range", 400, 499));
    } else if (status >= 200 && status < 300) {
        *status_out = ruled("C-2", json_integer(status));
        *body_out = json_string("");
    } else if (f.transport == 1 || status == 401 || status == 404 || status == 405 ||
               status == 413 || status == 415 || !json_is_object(parsed)) {
        *status_out = ruled("E-2", json_integer(status));
        *body_out = ruled("E-2", json_pack("{s:{s:I}}", "$error", "status", status));
    } else {
        const struct oms_profile_transition *t = NULL;
        const char *rule = "E-1";
        const char *field = json_is_object(f.body) ? field_fault(p, f.body, f.path_id, &rule, &t)
                                                   : "non_field_errors";
        const json_t *error = json_object_get(parsed, "error");
        int only_nfe = json_object_size(error) == 1 && json_object_get(error, "non_field_errors");
        if (!field && t && only_nfe && status == 400) {
            /* SPEC C-5: a refused source; the message names the package's status and the
             * allowed ones (E-1), by name or by number. */
            json_t *names = json_array();
            const json_t *pkg = oms_json_find_by_id(json_object_get(before, "packages"), f.path_id);
            if (pkg && !concurrent)
                json_array_append_new(
                    names, status_value(p, json_integer_value(json_object_get(pkg, "status"))));
            for (size_t i = 0; i < t->source_count; i++)
                json_array_append_new(names, status_value(p, t->sources[i]));
            *status_out = ruled("C-5", json_integer(status));
            *body_out = ruled("C-5", json_pack("{s:{s:I, s:s, s:o}}", "$error", "status", status,
                                               "field", "non_field_errors", "names", names));
        } else {
            *status_out = ruled(rule, json_integer(status));
            int group = field && strcmp(field, "non_field_errors") == 0;
            *body_out = ruled(rule, json_pack("{s:{s:I, s:o}}", "$error", "status", status, "field",
                                              fields_of(error, group)));
        }
    }
    json_decref(f.body);
}

/* A lifecycle step's last answer: planning (201, or 409 when SELECT_BY_QUOTA leaves no room) or
 * the commands of an action (P-2). */
static json_t *lifecycle_expect(const json_t *step_request, const json_t *answer)
{
    json_int_t status = json_integer_value(json_object_get(answer, "status"));
    const char *rule = status == 409 ? "Q-3" : status >= 500 ? "E-3" : "P-2";
    json_t *resp = json_pack("{s:o}", "status", ruled(rule, json_integer(status)));
    if (!json_object_get(step_request, "plan") && status >= 400 && status < 500)
        json_object_set_new(resp, "body",
                            ruled(rule, json_pack("{s:{s:I}}", "$error", "status", status)));
    else if (!json_object_get(step_request, "plan") && status >= 200 && status < 300)
        json_object_set_new(resp, "body", json_string(""));
    return resp;
}

/* ---- expectations of the state and the calls ---- */

static int state_changed(const json_t *before, const json_t *after)
{
    static const char *const parts[] = {"locations", "packages", "transition_log", "outbox"};
    for (size_t i = 0; i < 4; i++)
        if (!json_equal(json_object_get(before, parts[i]), json_object_get(after, parts[i])))
            return 1;
    return 0;
}

/* A count, or under A-3 when the command moved the package from a source whose records it keeps
 * (the contract's documented deletion is from Waiting only). */
static json_t *records_expect(const struct oms_profile *p, const json_t *was, const json_t *now,
                              const char *key)
{
    size_t n = json_array_size(json_object_get(now, key));
    const struct oms_profile_transition *cmd = explore_command_transition(p);
    if (was && cmd) {
        int64_t from = json_integer_value(json_object_get(was, "status"));
        int64_t to = json_integer_value(json_object_get(now, "status"));
        int keeps = strcmp(key, "reservations") == 0
                        ? !oms_profile_transition_deletes_reservations(cmd, from)
                        : !oms_profile_transition_deletes_discrepancies(cmd, from);
        if (from != to && to == cmd->target && keeps)
            return ruled("A-3", json_pack("{s:I}", "$len", (json_int_t)n));
    }
    return json_integer((json_int_t)n);
}

static json_t *packages_expect(const struct oms_profile *p, const json_t *before,
                               const json_t *after)
{
    json_t *out = json_object();
    size_t i;
    json_t *pkg;
    json_array_foreach(json_object_get(after, "packages"), i, pkg)
    {
        json_int_t id = json_integer_value(json_object_get(pkg, "id"));
        const json_t *was = oms_json_find_by_id(json_object_get(before, "packages"), id);
        json_t *e = json_pack("{s:o}", "status",
                              status_value(p, json_integer_value(json_object_get(pkg, "status"))));
        json_t *items = json_object_get(pkg, "items");
        if (json_array_size(items)) {
            json_t *map = json_object();
            int same = 1;
            json_int_t first =
                json_integer_value(json_object_get(json_array_get(items, 0), "status"));
            size_t k;
            json_t *it;
            json_array_foreach(items, k, it)
            {
                char key[32];
                json_int_t s = json_integer_value(json_object_get(it, "status"));
                snprintf(key, sizeof(key), "%lld",
                         (long long)json_integer_value(json_object_get(it, "id")));
                json_object_set_new(map, key, status_value(p, s));
                same &= s == first;
            }
            if (same) {
                json_decref(map);
                map = status_value(p, first);
            }
            json_object_set_new(e, "items", map);
        }
        json_object_set_new(e, "reservations", records_expect(p, was, pkg, "reservations"));
        json_object_set_new(e, "discrepancies", records_expect(p, was, pkg, "discrepancies"));
        char key[32];
        snprintf(key, sizeof(key), "%lld", (long long)id);
        json_object_set_new(out, key, e);
    }
    return out;
}

static json_t *locations_expect(const json_t *after)
{
    json_t *out = json_object();
    size_t i;
    json_t *loc;
    json_array_foreach(json_object_get(after, "locations"), i, loc)
    {
        char key[32];
        snprintf(key, sizeof(key), "%lld",
                 (long long)json_integer_value(json_object_get(loc, "id")));
        json_object_set_new(
            out, key,
            json_pack("{s:o, s:o}", "quota",
                      ruled("Q-2", json_incref(json_object_get(loc, "quota"))), "available_quota",
                      ruled("Q-1", json_incref(json_object_get(loc, "available_quota")))));
    }
    return out;
}

static json_t *log_expect(const struct oms_profile *p, const json_t *before, const json_t *after)
{
    json_t *out = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(after, "transition_log"), i, e)
    {
        if (oms_json_find_by_id(json_object_get(before, "transition_log"),
                                json_integer_value(json_object_get(e, "id"))))
            continue;
        json_array_append_new(
            out, json_pack("{s:O, s:O, s:O, s:o, s:o}", "package", json_object_get(e, "package"),
                           "transition", json_object_get(e, "transition"), "slug",
                           json_object_get(e, "slug"), "old_status",
                           status_value(p, json_integer_value(json_object_get(e, "old_status"))),
                           "new_status",
                           status_value(p, json_integer_value(json_object_get(e, "new_status")))));
    }
    return out;
}

/* SPEC C-8, A-4: each attempt of the bulk status update, its items in any order. */
static json_t *omnitron_expect(const json_t *calls)
{
    if (json_array_size(calls) == 0)
        return json_array();
    json_t *list = json_array();
    size_t i;
    json_t *c;
    json_array_foreach((json_t *)calls, i, c)
    {
        json_t *call = json_pack("{s:O, s:O}", "method", json_object_get(c, "method"), "path",
                                 json_object_get(c, "path"));
        const json_t *body = json_object_get(c, "json");
        const json_t *set = json_object_get(body, "orderitem_set");
        if (json_is_array(set)) {
            json_t *items = json_array();
            size_t k;
            json_t *it;
            json_array_foreach((json_t *)set, k, it)
            {
                json_array_append_new(items,
                                      json_pack("{s:O, s:O}", "id", json_object_get(it, "id"),
                                                "status", json_object_get(it, "status")));
            }
            json_object_set_new(
                call, "body",
                ruled("A-4", json_pack("{s:{s:o}}", "orderitem_set", "$unordered", items)));
        }
        json_array_append_new(list, call);
    }
    return json_pack("{s:o}", "$unordered", list);
}

/* SPEC C-9, O-2, O-3: per named receiver, every attempt it received; the uuid of one event is
 * captured on its first attempt and must repeat on the others. */
static json_t *webhooks_expect(const json_t *probe, const json_t *calls, size_t step)
{
    const json_t *subs = json_object_get(json_object_get(probe, "given"), "subscriptions");
    if (json_array_size(subs) == 0)
        return json_array();
    json_t *out = json_object();
    size_t i;
    json_t *s;
    json_array_foreach((json_t *)subs, i, s)
    {
        const char *name = json_string_value(json_object_get(s, "receiver"));
        if (!name)
            continue;
        char path[128];
        snprintf(path, sizeof(path), WEBHOOK_PREFIX "%s", name);
        json_t *list = json_array();
        json_t *uuids = json_array(); /* the events seen, in order, for capture names */
        size_t k;
        json_t *c;
        json_array_foreach((json_t *)calls, k, c)
        {
            if (strcmp(json_string_value(json_object_get(c, "path")), path) != 0)
                continue;
            const json_t *body = json_object_get(c, "json");
            const json_t *event = json_object_get(body, "event");
            const json_t *payload = json_object_get(body, "payload");
            const json_t *uuid = json_object_get(event, "uuid");
            size_t n = 0;
            while (n < json_array_size(uuids) && !json_equal(json_array_get(uuids, n), uuid))
                n++;
            if (n == json_array_size(uuids))
                json_array_append(uuids, (json_t *)uuid);
            char capture[160];
            snprintf(capture, sizeof(capture), "%s.when%zu.event%zu", name, step, n + 1);
            json_t *m = json_pack(
                "{s:{s:O?, s:{s:[{s:s}, o]}}, s:{s:{s:O?, s:O?}}}", "event", "type",
                json_object_get(event, "type"), "uuid", "$all", "$regex", UUID_PATTERN,
                ruled("O-2", json_pack("{s:s}", "$capture", capture)), "payload", "$partial", "id",
                json_object_get(payload, "id"), "status", json_object_get(payload, "status"));
            json_t *call = json_pack("{s:s, s:o}", "method", "POST", "body", m);
            const json_t *extra = json_object_get(s, "additional_headers");
            if (json_object_size(extra))
                json_object_set(call, "headers", (json_t *)extra);
            const char *secret = json_string_value(json_object_get(s, "secret_key"));
            if (secret)
                json_object_set_new(call, "signed_with", json_string(secret));
            else
                json_object_set_new(call, "unsigned", json_true());
            json_array_append_new(list, call);
        }
        json_decref(uuids);
        json_object_set_new(out, name,
                            json_array_size(list) ? json_pack("{s:o}", "$unordered", list) : list);
    }
    return out;
}

/* SPEC O-1, O-2: what became of each delivery after the drain. */
static json_t *outbox_expect(const json_t *before, const json_t *after)
{
    json_t *rows = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(after, "outbox"), i, row)
    {
        if (oms_json_find_by_id(json_object_get(before, "outbox"),
                                json_integer_value(json_object_get(row, "id"))))
            continue;
        json_t *e =
            json_pack("{s:O, s:O, s:O}", "kind", json_object_get(row, "kind"), "state",
                      json_object_get(row, "state"), "attempts", json_object_get(row, "attempts"));
        const char *url = json_string_value(json_object_get(row, "url"));
        const char *hooks = url ? strstr(url, WEBHOOK_PREFIX) : NULL;
        if (hooks)
            json_object_set_new(e, "receiver", json_string(hooks + strlen(WEBHOOK_PREFIX)));
        json_array_append_new(rows, json_pack("{s:o}", "$partial", e));
    }
    if (json_array_size(rows) == 0)
        return rows;
    return json_pack("{s:o}", "$unordered", rows);
}

static json_t *responses_expect(const struct oms_profile *p, const json_t *r, int command,
                                const json_t *responses, const json_t *before)
{
    json_t *out = json_object();
    size_t i;
    json_t *a;
    json_array_foreach((json_t *)responses, i, a)
    {
        char code[16];
        snprintf(code, sizeof(code), "%lld",
                 (long long)json_integer_value(json_object_get(a, "status")));
        json_t *group = json_object_get(out, code);
        if (group) {
            json_object_set_new(
                group, "count",
                json_integer(json_integer_value(json_object_get(group, "count")) + 1));
            continue;
        }
        json_t *status = NULL, *body = NULL;
        answer_expect(p, r, command, a, before, 1, &status, &body);
        json_decref(status);
        group = json_pack("{s:i}", "count", 1);
        if (body)
            json_object_set_new(group, "body", body);
        json_object_set_new(out, code, group);
    }
    return out;
}

/* ---- after a crash: what timing decided ---- */

static int unsure(const json_t *set, json_int_t id)
{
    char key[32];
    snprintf(key, sizeof(key), "%lld", (long long)id);
    return json_object_get(set, key) != NULL;
}

static void mark(json_t *set, json_int_t id)
{
    char key[32];
    snprintf(key, sizeof(key), "%lld", (long long)id);
    json_object_set_new(set, key, json_true());
}

/* A receivers document ({"omnitron": B, "webhook": B}) sets new fault rules: their counters start
 * again, so what they meet from here on is decided again. */
static void note_behaviour(struct explore_oracle *o, const json_t *receivers, int timed)
{
    for (size_t i = 0; i < RECEIVERS; i++) {
        const json_t *faults = json_object_get(json_object_get(receivers, RECEIVER[i]), "faults");
        if (!faults)
            continue;
        o->faults[i] = json_array_size(faults) > 0;
        o->unsure_calls[i] = timed && o->faults[i];
    }
}

/* A kill inside a burst: which of its commands applied, and so each package's and location's
 * state, is timing's; so is how far the calls ran down the receivers' fault rules. */
static void note_crash(struct explore_oracle *o, const struct runner_step_view *v)
{
    const json_t *crash = v->step->request;
    const json_t *burst = json_object_get(crash, "burst");
    if (burst) {
        size_t n = 0;
        int64_t *ids = crash_burst_packages(burst, &n);
        for (size_t i = 0; i < n; i++) {
            mark(o->unsure_packages, ids[i]);
            const json_t *pkg = oms_json_find_by_id(json_object_get(v->before, "packages"), ids[i]);
            if (pkg)
                mark(o->unsure_locations, json_integer_value(json_object_get(pkg, "location")));
        }
        free(ids);
        for (size_t i = 0; i < RECEIVERS; i++)
            o->unsure_calls[i] |= o->faults[i];
    }
    /* Set at the restart; the drain's calls (their number timing's after a burst) meet them. */
    note_behaviour(o, json_object_get(crash, "receivers"), burst != NULL);
}

/* The package a command or http request names in its path (0: none). */
static json_int_t request_package(const json_t *r)
{
    const char *path = json_string_value(json_object_get(r, "path"));
    return path ? path_id(path) : json_integer_value(json_object_get(r, "package"));
}

/* Whether what a step does rests on a state timing decided: a request or lifecycle action on a
 * package a burst left unsure, or a plan on a location whose quota it left unsure (a package so
 * planned is unsure in turn). */
static int rests_on_timing(struct explore_oracle *o, const struct scenario_step *st)
{
    if (json_object_size(o->unsure_packages) == 0 && json_object_size(o->unsure_locations) == 0)
        return 0;
    const json_t *r = st->request;
    if (st->kind == STEP_COMMAND || st->kind == STEP_HTTP) {
        const json_t *body = json_object_get(r, "body");
        const json_t *named = json_object_get(body, "package");
        return unsure(o->unsure_packages, request_package(r)) ||
               (json_is_integer(named) && unsure(o->unsure_packages, json_integer_value(named)));
    }
    if (st->kind != STEP_LIFECYCLE)
        return 0;
    const json_t *plan = json_object_get(r, "plan");
    if (plan) {
        if (!unsure(o->unsure_locations, json_integer_value(json_object_get(plan, "location"))))
            return 0;
        mark(o->unsure_packages, json_integer_value(json_object_get(plan, "id")));
        return 1;
    }
    return unsure(o->unsure_packages, json_integer_value(json_object_get(r, "package")));
}

/* Drops from an object keyed by id the ids in set. */
static void drop_unsure(json_t *by_id, const json_t *set)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)set, key, v)
    {
        json_object_del(by_id, key);
    }
}

static json_t *step_then(struct explore_oracle *o, const struct runner_step_view *v)
{
    const struct scenario_step *st = v->step;
    if (st->kind == STEP_RECEIVERS) {
        note_behaviour(o, st->request, 0);
        return json_null();
    }
    if (st->kind == STEP_CRASH) {
        /* The crash checks judge it (crash_check.h): what the contract decides across a kill. */
        note_crash(o, v);
        return json_null();
    }
    if (rests_on_timing(o, st))
        return json_null(); /* the harness's invariants still hold it */
    const struct oms_profile *p = o->profile;
    json_t *then = json_object();
    size_t n = json_array_size(v->responses);
    const json_t *last = json_array_get(v->responses, n ? n - 1 : 0);
    int command = st->kind == STEP_COMMAND;
    const char *path = json_string_value(json_object_get(st->request, "path"));
    /* A request elsewhere than the command endpoint (a replayed file's http step): the contract
     * says nothing of its answer; what it did to the state is still checked below. */
    int elsewhere =
        st->kind == STEP_HTTP && path && strncmp(path, COMMAND_PREFIX, strlen(COMMAND_PREFIX)) != 0;
    if (elsewhere) {
        /* no response expectation */
    } else if (st->kind == STEP_LIFECYCLE && last) {
        json_object_set_new(then, "response", lifecycle_expect(st->request, last));
    } else if (st->concurrent > 1) {
        /* Counts by status code; when the code depends on the check order there is no
         * contract count to write, and "unchanged" below says what the contract does. */
        struct request_faults f;
        request_faults(p, st->request, command, &f);
        json_decref(f.body);
        if (f.transport < 2)
            json_object_set_new(then, "responses",
                                responses_expect(p, st->request, command, v->responses, v->before));
    } else if (last) {
        json_t *status = NULL, *body = NULL;
        answer_expect(p, st->request, command, last, v->before, 0, &status, &body);
        json_t *resp = json_pack("{s:o}", "status", status);
        if (body)
            json_object_set_new(resp, "body", body);
        json_object_set_new(then, "response", resp);
    }
    size_t calls = json_array_size(v->omnitron_calls) + json_array_size(v->webhook_calls);
    if (!state_changed(v->before, v->after) && calls == 0) {
        json_object_set_new(then, "unchanged", json_true());
        return then;
    }
    json_t *packages = packages_expect(p, v->before, v->after);
    json_t *locations = locations_expect(v->after);
    drop_unsure(packages, o->unsure_packages);
    drop_unsure(locations, o->unsure_locations);
    json_object_set_new(then, "packages", packages);
    json_object_set_new(then, "locations", locations);
    json_object_set_new(then, "transition_log", log_expect(p, v->before, v->after));
    if (!o->unsure_calls[OMNITRON])
        json_object_set_new(then, "omnitron", omnitron_expect(v->omnitron_calls));
    if (!o->unsure_calls[WEBHOOK])
        json_object_set_new(then, "webhooks",
                            webhooks_expect(o->probe, v->webhook_calls, v->index));
    json_t *outbox = outbox_expect(v->before, v->after);
    if (calls && json_is_object(outbox) && !o->unsure_calls[OMNITRON] && !o->unsure_calls[WEBHOOK])
        json_object_set_new(then, "outbox", outbox);
    else
        json_decref(outbox);
    return then;
}

static void on_step(void *arg, const struct runner_step_view *v, struct result_step *rs)
{
    struct explore_oracle *o = arg;
    json_array_set_new(o->thens, v->index, step_then(o, v));
    o->seen = v->index + 1;
    if (o->invariants)
        explore_invariants(o->profile, v, rs);
}

struct explore_oracle *explore_oracle_create(const json_t *probe, struct oms_profile *profile,
                                             int invariants)
{
    struct explore_oracle *o = oms_xcalloc(1, sizeof(*o));
    o->probe = probe;
    o->profile = oms_profile_ref(profile);
    o->invariants = invariants;
    o->observer.step = on_step;
    o->observer.arg = o;
    o->thens = json_array();
    for (size_t i = 0; i < json_array_size(json_object_get(probe, "when")); i++)
        json_array_append_new(o->thens, json_null());
    o->unsure_packages = json_object();
    o->unsure_locations = json_object();
    note_behaviour(o, json_object_get(json_object_get(probe, "given"), "receivers"), 0);
    return o;
}

void explore_oracle_destroy(struct explore_oracle *o)
{
    if (!o)
        return;
    oms_profile_unref(o->profile);
    json_decref(o->thens);
    json_decref(o->unsure_packages);
    json_decref(o->unsure_locations);
    free(o);
}

const struct runner_observer *explore_oracle_observer(struct explore_oracle *o)
{
    return &o->observer;
}

json_t *explore_oracle_expected(const struct explore_oracle *o)
{
    size_t steps = json_array_size(json_object_get(o->probe, "when"));
    if (o->seen != steps)
        return NULL;
    json_t *doc = json_deep_copy(o->probe);
    json_t *when = json_object_get(doc, "when");
    for (size_t i = 0; i < steps; i++) {
        json_t *then = json_array_get(o->thens, i);
        json_t *step = json_array_get(when, i);
        json_object_del(step, "then");
        if (json_is_object(then))
            json_object_set(step, "then", then);
    }
    return doc;
}

/* ---- explore's invariants ---- */

static int all_refused(const json_t *responses)
{
    size_t i;
    json_t *r;
    json_array_foreach((json_t *)responses, i, r)
    {
        if (json_integer_value(json_object_get(r, "status")) < 400)
            return 0;
    }
    return json_array_size(responses) > 0;
}

void explore_invariants(const struct oms_profile *p, const struct runner_step_view *v,
                        struct result_step *rs)
{
    (void)p;
    char what[160];
    json_t *out = json_array();
    size_t i;
    json_t *r;
    json_array_foreach((json_t *)v->responses, i, r)
    {
        json_int_t status = json_integer_value(json_object_get(r, "status"));
        if (status >= 500) {
            json_t *a = json_integer(status);
            matcher_mismatch(out, "$", NULL, a, "answer %zu was %lld: a 5xx to a client's request",
                             i, (long long)status);
            json_decref(a);
        }
    }
    snprintf(what, sizeof(what), "explore invariant: no 5xx after when[%zu]", v->index);
    result_add_check(&rs->checks, &rs->check_count, what, "", "E-3", NULL, NULL, out)->invariant =
        1;

    if (v->step->kind == STEP_COMMAND || v->step->kind == STEP_HTTP) {
        out = json_array();
        if (all_refused(v->responses)) {
            if (state_changed(v->before, v->after))
                matcher_mismatch(out, "$", NULL, NULL,
                                 "every answer was a refusal, yet the state changed");
            size_t calls = json_array_size(v->omnitron_calls) + json_array_size(v->webhook_calls);
            if (calls)
                matcher_mismatch(out, "$.calls", NULL, NULL,
                                 "every answer was a refusal, yet %zu outbound call(s) were made",
                                 calls);
        }
        snprintf(what, sizeof(what), "explore invariant: a refusal changes nothing after when[%zu]",
                 v->index);
        result_add_check(&rs->checks, &rs->check_count, what, "", "E-3", NULL, NULL, out)
            ->invariant = 1;
    }

    out = json_array();
    json_t *pkg;
    json_array_foreach(json_object_get(v->after, "packages"), i, pkg)
    {
        json_int_t id = json_integer_value(json_object_get(pkg, "id"));
        const json_t *was = oms_json_find_by_id(json_object_get(v->before, "packages"), id);
        if (!was)
            continue;
        json_int_t old = json_integer_value(json_object_get(was, "status"));
        int agreed = 1;
        size_t k;
        json_t *it;
        json_array_foreach(json_object_get(was, "items"), k, it)
        {
            agreed &= json_integer_value(json_object_get(it, "status")) == old;
        }
        if (!agreed)
            continue;
        json_int_t now = json_integer_value(json_object_get(pkg, "status"));
        json_array_foreach(json_object_get(pkg, "items"), k, it)
        {
            if (json_integer_value(json_object_get(it, "status")) != now) {
                char path[96];
                snprintf(path, sizeof(path), "$.packages[\"%lld\"].items[%zu]", (long long)id, k);
                matcher_mismatch(
                    out, path, json_object_get(pkg, "status"), json_object_get(it, "status"),
                    "item %lld is in %lld while its package moved to %lld",
                    (long long)json_integer_value(json_object_get(it, "id")),
                    (long long)json_integer_value(json_object_get(it, "status")), (long long)now);
            }
        }
    }
    snprintf(what, sizeof(what), "explore invariant: items move with their package after when[%zu]",
             v->index);
    result_add_check(&rs->checks, &rs->check_count, what, "", "C-6", NULL, NULL, out)->invariant =
        1;
}
