/* explore_gen: seeded case generation. */
#include "explore_gen.h"

#include "explore_rng.h"
#include "oms_alloc.h"

#include <stdio.h>
#include <string.h>

/* Kinds of check and the rule each takes in an explore case: reservations before the package
 * status (C-7 lists "packages.reservations", C-6 all of "packages"), the response before the
 * other rules that list it, "unchanged" under E-3. The rest appear inside {"$rule": [...]}. */
const char *const EXPLORE_RULES[] = {
    "C-7", "C-6", "Q-2", "C-10", "C-2", "E-3", "C-8", "C-9", "C-11", "O-2", "Q-1", "C-3", "C-4",
    "C-5", "A-2", "A-3", "A-4",  "E-1", "E-2", "Q-3", "P-2", "R-2",  "O-1", "O-3", "Q-4", NULL,
};

#define FIRST_PACKAGE  501
#define FIRST_ITEM     9001
#define ORDER_ITEM_GAP 2000 /* order_item = item id - 2000, so the two never look alike */
#define UNKNOWN_ID     999

static const char *const RECEIVERS[] = {"erp", "wms", "crm"};

struct gen {
    struct explore_rng rng;
    const struct explore_gen_config *cfg;
    const struct oms_profile *p;
    const struct oms_profile_transition *cmd;
    json_t *given;
    json_t *when;
    json_t *packages; /* ids of packages the case has (given, then planned) */
    int64_t next_package;
    int64_t next_item;
    size_t locations;
    const char *receivers[3];
    size_t receiver_count;
    int fault_ready;        /* a failing receiver is retried at once or on a virtual clock */
    size_t given_packages;  /* packages of given before a crash burst added its own */
    int64_t max_body;       /* the body limit in force, 0 when the profile's */
    const json_t *previous; /* the last command step, for repeats */
};

const struct oms_profile_transition *explore_command_transition(const struct oms_profile *p)
{
    const struct oms_profile_transition *t = oms_profile_transition_by_slug(p, "packed-for-refund");
    for (size_t i = 0; !t && i < oms_profile_transition_count(p); i++) {
        const struct oms_profile_transition *c = oms_profile_transition_at(p, i);
        const struct oms_profile_status *s = oms_profile_status_by_value(p, c->target);
        if (s && strcmp(s->name, "Packed for Refund") == 0)
            t = c;
    }
    if (!t && oms_profile_transition_count(p) > 0)
        t = oms_profile_transition_at(p, 0);
    return t;
}

static uint64_t below(struct gen *g, uint64_t n)
{
    return explore_rng_below(&g->rng, n);
}

static int chance(struct gen *g, unsigned percent)
{
    return explore_rng_chance(&g->rng, percent);
}

static int64_t range(struct gen *g, int64_t lo, int64_t hi)
{
    return explore_rng_range(&g->rng, lo, hi);
}

static size_t weighted(struct gen *g, const unsigned *w, size_t n)
{
    return explore_rng_weighted(&g->rng, w, n);
}

/* A status name: often a source of the command (the interesting ones), else any status. */
static const char *draw_status(struct gen *g)
{
    const struct oms_profile_transition *t = g->cmd;
    if (t && t->source_count && chance(g, 60)) {
        const struct oms_profile_status *s =
            oms_profile_status_by_value(g->p, t->sources[below(g, t->source_count)]);
        if (s)
            return s->name;
    }
    return oms_profile_status_at(g->p, below(g, oms_profile_status_count(g->p)))->name;
}

static void gen_locations(struct gen *g)
{
    static const unsigned count_w[] = {55, 35, 10};
    g->locations = 1 + weighted(g, count_w, 3);
    json_t *list = json_array();
    for (size_t i = 0; i < g->locations; i++) {
        json_t *loc = json_pack("{s:I, s:I, s:I}", "id", (json_int_t)(i + 1), "max_quota",
                                (json_int_t)range(g, 0, 6), "quota", (json_int_t)0);
        if (chance(g, 30))
            json_object_set_new(loc, "scenario_rules", json_pack("[s]", "SELECT_BY_QUOTA"));
        if (chance(g, 10)) {
            /* A drifted production counter (SPEC Q-4): any value, moved by Q-2 and clamped. */
            json_object_set_new(loc, "quota_drift", json_true());
            json_object_set_new(loc, "quota", json_integer(range(g, 0, 4)));
        }
        json_array_append_new(list, loc);
    }
    json_object_set_new(g->given, "locations", list);
}

static json_t *gen_items(struct gen *g, size_t n)
{
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        int64_t id = g->next_item++;
        char sku[32];
        snprintf(sku, sizeof(sku), "SKU-%lld", (long long)id);
        json_t *it = json_pack("{s:I, s:I, s:s}", "id", (json_int_t)id, "order_item",
                               (json_int_t)(id - ORDER_ITEM_GAP), "sku", sku);
        if (chance(g, 25))
            json_object_set_new(it, "quantity", json_integer(range(g, 2, 3)));
        json_array_append_new(items, it);
    }
    return items;
}

static json_t *gen_package(struct gen *g)
{
    static const unsigned items_w[] = {40, 25, 15, 10, 10};
    int64_t id = g->next_package++;
    json_t *items = gen_items(g, 1 + weighted(g, items_w, 5));
    json_t *pkg = json_pack("{s:I, s:I, s:s, s:o}", "id", (json_int_t)id, "location",
                            (json_int_t)(1 + below(g, g->locations)), "status", draw_status(g),
                            "items", items);
    static const unsigned res_w[] = {30, 35, 20, 15};
    size_t nres = weighted(g, res_w, 4);
    if (nres) {
        json_t *res = json_array();
        for (size_t i = 0; i < nres; i++) {
            json_t *it = json_array_get(items, below(g, json_array_size(items)));
            json_array_append_new(res, json_pack("{s:O, s:I}", "sku", json_object_get(it, "sku"),
                                                 "quantity", (json_int_t)range(g, 1, 3)));
        }
        json_object_set_new(pkg, "reservations", res);
    }
    static const unsigned dis_w[] = {55, 30, 15};
    size_t ndis = weighted(g, dis_w, 3);
    if (ndis) {
        static const char *const kinds[] = {"damaged", "missing", "extra"};
        json_t *dis = json_array();
        for (size_t i = 0; i < ndis; i++) {
            json_t *it = json_array_get(items, below(g, json_array_size(items)));
            json_array_append_new(
                dis, json_pack("{s:O, s:s, s:I}", "item", json_object_get(it, "id"), "kind",
                               kinds[below(g, 3)], "quantity", (json_int_t)range(g, 1, 2)));
        }
        json_object_set_new(pkg, "discrepancies", dis);
    }
    json_array_append_new(g->packages, json_integer(id));
    return pkg;
}

/* Event types the profile's transitions announce, the command's first. */
static const char *draw_event_type(struct gen *g)
{
    if (g->cmd && g->cmd->event_type && chance(g, 75))
        return g->cmd->event_type;
    size_t n = oms_profile_transition_count(g->p);
    for (size_t tries = 0; tries < 8; tries++) {
        const struct oms_profile_transition *t = oms_profile_transition_at(g->p, below(g, n));
        if (t->event_type)
            return t->event_type;
    }
    return g->cmd && g->cmd->event_type ? g->cmd->event_type : "package.status.packed_for_refund";
}

/* A retry policy a failing receiver gets through quickly: immediate retries on the wall clock,
 * or a short schedule the virtual clock skips. */
static json_t *fast_policy(struct gen *g, int virtual_clock)
{
    static const char *const choices[] = {"fixed", "linear", "exponential"};
    return json_pack("{s:s, s:I, s:I}", "choice", choices[below(g, 3)], "countdown",
                     (json_int_t)(virtual_clock ? range(g, 1, 3) : 0), "max_retries",
                     (json_int_t)range(g, 0, 3));
}

static void gen_subscriptions(struct gen *g, int virtual_clock)
{
    static const unsigned count_w[] = {40, 35, 18, 7};
    g->receiver_count = weighted(g, count_w, 4);
    if (!g->receiver_count)
        return;
    json_t *subs = json_array();
    for (size_t i = 0; i < g->receiver_count; i++) {
        g->receivers[i] = RECEIVERS[i];
        json_t *s =
            json_pack("{s:s, s:s}", "event_type", draw_event_type(g), "receiver", RECEIVERS[i]);
        if (chance(g, 30)) {
            json_t *h = json_pack("{s:s}", "X-Tenant", "acme");
            if (chance(g, 40))
                json_object_set_new(h, "X-Env", json_string("test"));
            json_object_set_new(s, "additional_headers", h);
        }
        if (chance(g, 40)) {
            char key[32];
            snprintf(key, sizeof(key), "secret-%s", RECEIVERS[i]);
            json_object_set_new(s, "secret_key", json_string(key));
        }
        if (g->fault_ready && chance(g, 30))
            json_object_set_new(s, "retry_countdown_config", fast_policy(g, virtual_clock));
        json_array_append_new(subs, s);
    }
    json_object_set_new(g->given, "subscriptions", subs);
}

/* One fault rule: a status (server or client error), a dropped connection, a short delay, or a
 * healthy answer for the first calls so that the next one fails (the Nth call). */
static json_t *fault_rule(struct gen *g)
{
    static const unsigned w[] = {40, 12, 20, 13, 15};
    static const int server[] = {500, 502, 503};
    static const int client[] = {400, 410, 422};
    switch (weighted(g, w, 5)) {
    case 0:
        return json_pack("{s:i, s:I}", "status", server[below(g, 3)], "times",
                         (json_int_t)range(g, 1, 3));
    case 1:
        return json_pack("{s:i}", "status", client[below(g, 3)]);
    case 2:
        return json_pack("{s:b, s:I}", "drop", 1, "times", (json_int_t)range(g, 1, 2));
    case 3:
        return json_pack("{s:I}", "delay_ms", (json_int_t)range(g, 5, 25));
    default:
        return json_pack("{s:i, s:I}", "status", 200, "times", (json_int_t)range(g, 1, 2));
    }
}

/* Fault rules for one receiver; path limits them to one subscriber (NULL: every request). */
static json_t *fault_rules(struct gen *g, const char *path)
{
    json_t *rules = json_array();
    size_t n = 1 + below(g, 2);
    for (size_t i = 0; i < n; i++) {
        json_t *r = fault_rule(g);
        int healthy = json_integer_value(json_object_get(r, "status")) == 200;
        json_array_append_new(rules, r);
        if (healthy) {
            /* Healthy for the first calls, then a failure: the Nth call fails. */
            static const int server[] = {500, 503};
            json_array_append_new(rules, json_pack("{s:i}", "status", server[below(g, 2)]));
        }
    }
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        if (path)
            json_object_set_new(r, "path", json_string(path));
    }
    return rules;
}

static json_t *behaviour(struct gen *g, const char *which)
{
    if (strcmp(which, "omnitron") == 0) {
        if (chance(g, 12))
            return json_pack("{s:i}", "status", 503); /* down for good: dead letters */
        return json_pack("{s:o}", "faults", fault_rules(g, NULL));
    }
    json_t *rules = json_array();
    for (size_t i = 0; i < g->receiver_count; i++) {
        if (i > 0 && !chance(g, 50))
            continue;
        char path[64];
        snprintf(path, sizeof(path), "/hooks/%s", g->receivers[i]);
        json_t *mine = fault_rules(g, path);
        json_array_extend(rules, mine);
        json_decref(mine);
    }
    return json_pack("{s:o}", "faults", rules);
}

static void gen_given(struct gen *g)
{
    gen_locations(g);
    static const unsigned count_w[] = {35, 35, 20, 10};
    size_t n = 1 + weighted(g, count_w, 4);
    json_t *pkgs = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(pkgs, gen_package(g));
    json_object_set_new(g->given, "packages", pkgs);
    g->given_packages = n;

    /* Failing receivers only where their retries are quick: on a virtual clock, or with
     * immediate retries set through the profile. */
    int faults = (g->cfg->clock || g->cfg->profile_overrides) && chance(g, 25);
    int virtual_clock = faults && g->cfg->clock && (!g->cfg->profile_overrides || chance(g, 60));
    g->fault_ready = faults;
    json_t *profile = json_object();
    if (faults && !virtual_clock)
        json_object_set_new(profile, "delivery",
                            json_pack("{s:o, s:o}", "omnitron_retry", fast_policy(g, 0),
                                      "webhook_retry", fast_policy(g, 0)));
    if (g->cfg->profile_overrides && chance(g, 10))
        json_object_set_new(profile, "sync_remote_order_status_default", json_false());
    if (g->cfg->profile_overrides && chance(g, 8)) {
        g->max_body = range(g, 80, 160);
        json_object_set_new(profile, "limits",
                            json_pack("{s:I}", "max_body_bytes", (json_int_t)g->max_body));
    }
    if (json_object_size(profile))
        json_object_set_new(g->given, "profile", profile);
    else
        json_decref(profile);

    gen_subscriptions(g, virtual_clock);
    if (faults) {
        json_t *rv = json_object();
        if (chance(g, 60) || g->receiver_count == 0)
            json_object_set_new(rv, "omnitron", behaviour(g, "omnitron"));
        if (g->receiver_count && (chance(g, 60) || !json_object_size(rv)))
            json_object_set_new(rv, "webhook", behaviour(g, "webhook"));
        json_object_set_new(g->given, "receivers", rv);
    }
    if (virtual_clock)
        json_object_set_new(g->given, "clock", json_pack("{s:s}", "mode", "virtual"));
}

/* ---- steps ---- */

static int64_t draw_package(struct gen *g)
{
    if (chance(g, 5))
        return UNKNOWN_ID;
    return json_integer_value(json_array_get(g->packages, below(g, json_array_size(g->packages))));
}

/* Another transition than the command's, for conflicts. */
static const struct oms_profile_transition *other_transition(struct gen *g)
{
    size_t n = oms_profile_transition_count(g->p);
    for (size_t tries = 0; tries < 8; tries++) {
        const struct oms_profile_transition *t = oms_profile_transition_at(g->p, below(g, n));
        if (t != g->cmd)
            return t;
    }
    return g->cmd;
}

/* A value of the wrong type for one field of the body. */
static void wrong_type(struct gen *g, json_t *body, int64_t pkg)
{
    char text[32];
    switch (below(g, 7)) {
    case 0:
        snprintf(text, sizeof(text), "%lld", (long long)g->cmd->id);
        json_object_set_new(body, "transition", json_string(text));
        break;
    case 1:
        json_object_set_new(body, "slug", json_integer(g->cmd->id));
        break;
    case 2:
        snprintf(text, sizeof(text), "%lld", (long long)pkg);
        json_object_set_new(body, "package", json_string(text));
        break;
    case 3:
        json_object_set_new(body, "package", json_real(1.5));
        break;
    case 4:
        json_object_set_new(body, "package", json_true());
        break;
    case 5:
        json_object_set_new(body, "transition", json_pack("[I]", (json_int_t)g->cmd->id));
        break;
    default:
        json_object_set_new(body, "slug", json_pack("{s:s}", "slug", g->cmd->slug));
        break;
    }
}

/* The body of a command on pkg: by id, slug, both, conflicting, neither, unknown, wrong types,
 * mismatched with the path, missing or bad package. Returns a new value; *raw gets a raw body
 * instead (malformed JSON, a body that is not an object) or stays NULL. Longer than 80 lines on
 * purpose: one case per kind of body, next to the weights table w that draws them. */
static json_t *command_body(struct gen *g, int64_t pkg, char **raw)
{
    static const unsigned w[] = {30, 24, 14, 5, 3, 3, 3, 7, 4, 2, 3, 5, 3};
    const struct oms_profile_transition *t = g->cmd;
    json_t *body = json_pack("{s:I}", "package", (json_int_t)pkg);
    char text[256];
    *raw = NULL;
    switch (weighted(g, w, 13)) {
    case 0:
        json_object_set_new(body, "transition", json_integer(t->id));
        break;
    case 1:
        json_object_set_new(body, "slug", json_string(t->slug));
        break;
    case 2:
        json_object_set_new(body, "transition", json_integer(t->id));
        json_object_set_new(body, "slug", json_string(t->slug));
        break;
    case 3: {
        const struct oms_profile_transition *o = other_transition(g);
        int id_first = chance(g, 50);
        json_object_set_new(body, "transition", json_integer(id_first ? t->id : o->id));
        json_object_set_new(body, "slug", json_string(id_first ? o->slug : t->slug));
        break;
    }
    case 4:
        break; /* neither transition nor slug */
    case 5:
        json_object_set_new(body, "transition", json_integer(UNKNOWN_ID));
        break;
    case 6:
        json_object_set_new(body, "slug", json_string("packed-for-return"));
        break;
    case 7:
        json_object_set_new(body, "transition", json_integer(t->id));
        wrong_type(g, body, pkg);
        break;
    case 8: {
        /* SPEC A-2: the body names another package than the path. */
        int64_t other = draw_package(g);
        json_object_set_new(body, "package", json_integer(other == pkg ? pkg + 1 : other));
        json_object_set_new(body, "transition", json_integer(t->id));
        break;
    }
    case 9:
        json_object_del(body, "package");
        json_object_set_new(body, "slug", json_string(t->slug));
        break;
    case 10: {
        static const int64_t bad[] = {0, -1};
        json_object_set_new(body, "package", json_integer(chance(g, 50) ? bad[below(g, 2)] : -pkg));
        json_object_set_new(body, "transition", json_integer(t->id));
        break;
    }
    case 11: {
        long long a = (long long)pkg, b = (long long)t->id;
        switch (below(g, 5)) {
        case 0:
            snprintf(text, sizeof(text), "{\"package\": %lld, \"transition\": %lld", a, b);
            break;
        case 1:
            snprintf(text, sizeof(text), "{'package': %lld, 'transition': %lld}", a, b);
            break;
        case 2:
            snprintf(text, sizeof(text), "{\"package\": %lld, \"transition\": %lld} x", a, b);
            break;
        case 3:
            snprintf(text, sizeof(text), "package=%lld&transition=%lld", a, b);
            break;
        default:
            text[0] = '\0';
            break;
        }
        *raw = oms_xstrdup(text);
        json_decref(body);
        return NULL;
    }
    default: {
        json_object_set_new(body, "transition", json_integer(t->id));
        switch (below(g, 4)) {
        case 0: {
            json_t *arr = json_pack("[o]", body);
            return arr;
        }
        case 1:
            json_decref(body);
            return json_string(t->slug);
        case 2:
            json_decref(body);
            return json_integer(pkg);
        default:
            json_decref(body);
            *raw = oms_xstrdup("null");
            return NULL;
        }
    }
    }
    /* SPEC C-8: the sync flag true, false, absent, or not a boolean. */
    static const unsigned sync_w[] = {58, 15, 22, 5};
    switch (weighted(g, sync_w, 4)) {
    case 1:
        json_object_set_new(body, "sync_remote_order_status", json_true());
        break;
    case 2:
        json_object_set_new(body, "sync_remote_order_status", json_false());
        break;
    case 3:
        json_object_set_new(body, "sync_remote_order_status",
                            chance(g, 50) ? json_string("false") : json_integer(0));
        break;
    default:
        break;
    }
    if (chance(g, 4))
        json_object_set_new(body, "note", json_string("sent by explore")); /* ignored key */
    return body;
}

/* One fault of the request itself (SPEC E-2): token, method, content type, size, path. */
static void transport_fault(struct gen *g, json_t *req)
{
    static const char *const methods[] = {"GET", "PUT", "PATCH", "DELETE"};
    switch (below(g, g->max_body ? 7 : 6)) {
    case 0:
        json_object_set_new(req, "token", json_null());
        break;
    case 1:
        json_object_set_new(req, "token", json_string("not-the-token"));
        break;
    case 2:
        json_object_set_new(req, "headers",
                            json_pack("{s:s}", "Authorization", "Bearer refund-harness-token"));
        break;
    case 3:
        json_object_set_new(req, "method", json_string(methods[below(g, 4)]));
        if (chance(g, 50)) {
            json_object_del(req, "body");
            json_object_del(req, "raw_body");
        }
        break;
    case 4:
        json_object_set_new(req, "headers",
                            json_pack("{s:o}", "Content-Type",
                                      chance(g, 60) ? json_string("text/plain") : json_null()));
        break;
    case 5:
        json_object_del(req, "package");
        json_object_set_new(req, "path", json_string("/api/v1/oms/packages/abc/command/"));
        break;
    default: {
        /* Larger than limits.max_body_bytes: the body padded with spaces. */
        json_t *body = json_object_get(req, "body");
        char *text = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        size_t len = text ? strlen(text) : 0, want = (size_t)g->max_body + 1 + below(g, 40);
        char *raw = oms_xcalloc(want + len + 2, 1);
        if (text && text[0] == '{') {
            size_t pad = want > len ? want - len : 1;
            raw[0] = '{';
            memset(raw + 1, ' ', pad);
            memcpy(raw + 1 + pad, text + 1, len - 1);
        } else {
            memset(raw, ' ', want);
        }
        json_object_del(req, "body");
        json_object_set_new(req, "raw_body", json_string(raw));
        free(raw);
        free(text);
        break;
    }
    }
}

static json_t *command_step(struct gen *g)
{
    if (g->previous && chance(g, 10))
        return json_deep_copy(g->previous); /* a repeated command */
    int64_t pkg = draw_package(g);
    char *raw = NULL;
    json_t *body = command_body(g, pkg, &raw);
    json_t *req = json_pack("{s:I}", "package", (json_int_t)pkg);
    if (body)
        json_object_set_new(req, "body", body);
    else
        json_object_set_new(req, "raw_body", json_string(raw));
    free(raw);
    if (chance(g, 12)) {
        transport_fault(g, req);
        if (chance(g, 20))
            transport_fault(g, req);
    }
    json_t *step = json_pack("{s:o}", "command", req);
    if (chance(g, 12)) {
        static const unsigned copies_w[] = {40, 25, 20, 15};
        static const int copies[] = {2, 3, 4, 8};
        json_object_set_new(step, "concurrent", json_integer(copies[weighted(g, copies_w, 4)]));
    }
    return step;
}

/* Lifecycle actions of the profile (every key of "lifecycle" but plan_status). */
static const char *draw_action(struct gen *g)
{
    const json_t *lc = json_object_get(oms_profile_json(g->p), "lifecycle");
    size_t n = 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)lc, key, v)
    {
        n += json_is_array(v);
    }
    if (n == 0)
        return NULL;
    size_t pick = below(g, n);
    json_object_foreach((json_t *)lc, key, v)
    {
        if (json_is_array(v) && pick-- == 0)
            return key;
    }
    return NULL;
}

static json_t *lifecycle_step(struct gen *g)
{
    if (g->cfg->plan && chance(g, 30)) {
        static const unsigned items_w[] = {60, 30, 10};
        int64_t id = g->next_package++;
        json_t *plan = json_pack("{s:I, s:I, s:o}", "id", (json_int_t)id, "location",
                                 (json_int_t)(1 + below(g, g->locations)), "items",
                                 gen_items(g, 1 + weighted(g, items_w, 3)));
        json_array_append_new(g->packages, json_integer(id));
        return json_pack("{s:{s:o}}", "lifecycle", "plan", plan);
    }
    const char *action = draw_action(g);
    if (!action)
        return command_step(g);
    int64_t pkg =
        json_integer_value(json_array_get(g->packages, below(g, json_array_size(g->packages))));
    return json_pack("{s:{s:s, s:I}}", "lifecycle", "action", action, "package", (json_int_t)pkg);
}

/* A receiver starts failing or recovers between steps. */
static json_t *receivers_step(struct gen *g)
{
    json_t *rv = json_object();
    if (g->receiver_count && chance(g, 50))
        json_object_set_new(
            rv, "webhook", chance(g, 30) ? json_pack("{s:[]}", "faults") : behaviour(g, "webhook"));
    else
        json_object_set_new(rv, "omnitron",
                            chance(g, 30) ? json_pack("{s:i, s:[]}", "status", 200, "faults")
                                          : behaviour(g, "omnitron"));
    return json_pack("{s:o}", "receivers", rv);
}

static void gen_when(struct gen *g)
{
    unsigned k = g->cfg->max_steps ? g->cfg->max_steps : 1;
    size_t n = 1 + below(g, k);
    static const unsigned w[] = {70, 24, 6};
    for (size_t i = 0; i < n; i++) {
        size_t kind = weighted(g, w, g->fault_ready ? 3 : 2);
        json_t *step = kind == 0   ? command_step(g)
                       : kind == 1 ? lifecycle_step(g)
                                   : receivers_step(g);
        if (json_object_get(step, "command"))
            g->previous = step;
        json_array_append_new(g->when, step);
    }
}

/* ---- crash steps ---- */

/* A valid command for every package of a burst: by id, slug or both, the sync flag sometimes. */
static json_t *burst_body(struct gen *g)
{
    static const unsigned how_w[] = {50, 35, 15};
    static const unsigned sync_w[] = {75, 15, 10};
    json_t *body = json_object();
    size_t how = weighted(g, how_w, 3);
    if (how != 1)
        json_object_set_new(body, "transition", json_integer(g->cmd->id));
    if (how != 0)
        json_object_set_new(body, "slug", json_string(g->cmd->slug));
    size_t sync = weighted(g, sync_w, 3);
    if (sync)
        json_object_set_new(body, "sync_remote_order_status", json_boolean(sync == 1));
    return body;
}

/* The packages a burst commands: new ones (mostly in a source of the command, so most commands
 * apply), on a location of their own or a drawn one, sometimes with one of the case's own. Adds
 * them to given; returns the list of ids. */
static json_t *burst_packages(struct gen *g)
{
    static const unsigned items_w[] = {60, 30, 10};
    json_t *given_pkgs = json_object_get(g->given, "packages");
    json_t *locs = json_object_get(g->given, "locations");
    size_t n = (size_t)range(g, 8, 40);
    json_int_t location;
    if (chance(g, 65)) {
        /* A location of the burst's own: the quotas the other steps check stay out of it. */
        location = (json_int_t)json_array_size(locs) + 1;
        json_array_append_new(locs, json_pack("{s:I, s:I, s:I}", "id", location, "max_quota",
                                              (json_int_t)(n + 10), "quota", (json_int_t)0));
    } else {
        location = (json_int_t)(1 + below(g, g->locations));
    }
    json_t *ids = json_array();
    for (size_t i = 0; i < n; i++) {
        int64_t id = g->next_package++;
        const struct oms_profile_transition *t = g->cmd;
        const char *status = NULL;
        if (t->source_count && chance(g, 80)) {
            const struct oms_profile_status *s =
                oms_profile_status_by_value(g->p, t->sources[below(g, t->source_count)]);
            status = s ? s->name : NULL;
        }
        if (!status)
            status = oms_profile_status_at(g->p, below(g, oms_profile_status_count(g->p)))->name;
        json_t *items = gen_items(g, 1 + weighted(g, items_w, 3));
        json_t *pkg = json_pack("{s:I, s:I, s:s, s:o}", "id", (json_int_t)id, "location", location,
                                "status", status, "items", items);
        if (chance(g, 40)) {
            json_t *it = json_array_get(items, below(g, json_array_size(items)));
            json_object_set_new(pkg, "reservations",
                                json_pack("[{s:O, s:I}]", "sku", json_object_get(it, "sku"),
                                          "quantity", (json_int_t)range(g, 1, 2)));
        }
        json_array_append_new(given_pkgs, pkg);
        json_array_append_new(ids, json_integer(id));
    }
    if (g->given_packages && chance(g, 20)) {
        /* One of the case's own packages, which earlier steps may have moved. */
        const json_t *own = json_array_get(given_pkgs, below(g, g->given_packages));
        json_array_append_new(ids, json_incref(json_object_get(own, "id")));
    }
    return ids;
}

/* Retries that outlast a receiver refusing connections through the kill: on a virtual clock
 * (the drain moves it to each retry once the receiver is back), several of them. */
static void outlasting_retries(struct gen *g)
{
    json_object_set_new(g->given, "clock", json_pack("{s:s}", "mode", "virtual"));
    json_t *profile = json_object_get(g->given, "profile");
    if (!profile) {
        profile = json_object();
        json_object_set_new(g->given, "profile", profile);
    }
    json_object_set_new(profile, "delivery",
                        json_pack("{s:{s:s, s:i, s:i}, s:{s:s, s:i, s:i}}", "omnitron_retry",
                                  "choice", "fixed", "countdown", 1, "max_retries", 5,
                                  "webhook_retry", "choice", "fixed", "countdown", 1, "max_retries",
                                  5));
    size_t i;
    json_t *sub;
    json_array_foreach(json_object_get(g->given, "subscriptions"), i, sub)
    {
        json_object_del(sub, "retry_countdown_config");
    }
}

/* The receivers around a crash: down through it (refusing connections, every call waiting in
 * the outbox) or failing before it, and what they do once the target is up again. *before gets a
 * receivers step to run before the crash, or NULL. Returns the crash's "receivers" or NULL. */
static json_t *crash_receivers(struct gen *g, int burst, json_t **before)
{
    *before = NULL;
    const char *which = g->receiver_count && chance(g, 50) ? "webhook" : "omnitron";
    if (burst && g->cfg->clock && g->cfg->profile_overrides && chance(g, 25)) {
        /* Down through the kill, back after the restart (SPEC O-1: the calls wait). */
        outlasting_retries(g);
        int both = g->receiver_count && chance(g, 40);
        json_t *down = json_object(), *up = json_object();
        const char *const names[] = {which,
                                     strcmp(which, "omnitron") == 0 ? "webhook" : "omnitron"};
        for (size_t i = 0; i < (both ? 2u : 1u); i++) {
            json_object_set_new(down, names[i], json_pack("{s:b}", "down", 1));
            json_t *back = json_pack("{s:b}", "down", 0);
            if (chance(g, 50))
                json_object_set_new(back, "faults", json_array());
            json_object_set_new(up, names[i], back);
        }
        *before = json_pack("{s:o}", "receivers", down);
        return up;
    }
    if (burst && g->fault_ready && chance(g, 35)) {
        /* Failing while the burst runs; after the restart recovered, still failing, or failing
         * otherwise. */
        static const unsigned after_w[] = {60, 20, 20};
        *before = json_pack("{s:{s:o}}", "receivers", which, behaviour(g, which));
        switch (weighted(g, after_w, 3)) {
        case 0:
            return json_pack("{s:{s:[]}}", which, "faults");
        case 1:
            return NULL;
        default:
            return json_pack("{s:o}", which, behaviour(g, which));
        }
    }
    if (g->fault_ready && chance(g, 20)) {
        /* At the restart a receiver recovers, or starts failing: the drain meets it. */
        if (chance(g, 50))
            return json_pack("{s:{s:[]}}", which, "faults");
        return json_pack("{s:o}", which, behaviour(g, which));
    }
    return NULL;
}

/* A crash step: kill -9 now, or inside a burst after its Nth answer or at a moment drawn here
 * (its seed is written in the step, so the file replays the same moment), sometimes with a delay
 * in which deliveries and retries go on; the receivers down or failing around it. Put at a drawn
 * place among the steps, which are cut so that the case keeps at most K. */
static void gen_crash(struct gen *g)
{
    if (!g->cfg->crash_percent || !g->cmd || !chance(g, g->cfg->crash_percent))
        return;
    static const unsigned moment_w[] = {20, 30, 50};
    size_t moment = weighted(g, moment_w, 3);
    json_t *crash = json_object();
    if (moment > 0) {
        /* Mostly many commands in flight: the kill then often finds one between its writes. */
        static const unsigned conc_w[] = {5, 10, 25, 30, 30};
        static const int conc[] = {1, 4, 8, 16, 32};
        json_t *ids = burst_packages(g);
        size_t n = json_array_size(ids);
        int c = conc[weighted(g, conc_w, 5)];
        if ((size_t)c > n)
            c = (int)n;
        json_object_set_new(
            crash, "burst",
            json_pack("{s:o, s:o, s:i}", "packages", ids, "body", burst_body(g), "concurrent", c));
        if (moment == 1) {
            /* Mostly while the burst still has commands to send (c of them in flight). */
            int64_t last = chance(g, 70) && n > (size_t)c ? (int64_t)(n - (size_t)c) : (int64_t)n;
            json_object_set_new(crash, "after", json_integer(range(g, 1, last)));
        } else {
            json_object_set_new(crash, "at", json_string("random"));
            json_object_set_new(
                crash, "seed",
                json_integer((json_int_t)(explore_rng_next(&g->rng) & ((UINT64_C(1) << 53) - 1))));
        }
        if (chance(g, 10))
            json_object_set_new(crash, "delay_ms", json_integer(range(g, 20, 120)));
    }
    json_t *before = NULL;
    json_t *after = crash_receivers(g, moment > 0, &before);
    if (after)
        json_object_set_new(crash, "receivers", after);
    json_t *step = json_pack("{s:o}", "crash", crash);

    size_t k = g->cfg->max_steps ? g->cfg->max_steps : 1;
    size_t need = before && k >= 2 ? 2 : 1;
    if (before && need == 1) {
        json_decref(before); /* one step only: the crash alone */
        before = NULL;
    }
    while (json_array_size(g->when) + need > k)
        json_array_remove(g->when, json_array_size(g->when) - 1);
    size_t at = below(g, json_array_size(g->when) + 1);
    json_array_insert_new(g->when, at, step);
    if (before)
        json_array_insert_new(g->when, at, before);
}

json_t *explore_gen_case(const struct explore_gen_config *cfg, uint64_t seed, uint64_t index)
{
    struct gen g = {
        .cfg = cfg,
        .p = cfg->profile,
        .cmd = explore_command_transition(cfg->profile),
        .given = json_object(),
        .when = json_array(),
        .packages = json_array(),
        .next_package = FIRST_PACKAGE,
        .next_item = FIRST_ITEM,
    };
    explore_rng_init(&g.rng, seed, index);
    gen_given(&g);
    gen_when(&g);
    gen_crash(&g);
    explore_gen_repair(g.given, cfg->profile);
    char name[96];
    snprintf(name, sizeof(name), "explore case %llu of seed %llu", (unsigned long long)index,
             (unsigned long long)seed);
    json_t *rules = json_array();
    for (size_t i = 0; EXPLORE_RULES[i]; i++)
        json_array_append_new(rules, json_string(EXPLORE_RULES[i]));
    json_t *doc = json_pack("{s:s, s:o, s:o, s:o}", "name", name, "rules", rules, "given", g.given,
                            "when", g.when);
    json_decref(g.packages);
    return doc;
}

/* Whether the case has package id: given, or planned by a step. */
static int has_package(const json_t *probe, json_int_t id)
{
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(json_object_get(probe, "given"), "packages"), i, e)
    {
        if (json_integer_value(json_object_get(e, "id")) == id)
            return 1;
    }
    json_array_foreach(json_object_get(probe, "when"), i, e)
    {
        const json_t *plan = json_object_get(json_object_get(e, "lifecycle"), "plan");
        if (plan && json_integer_value(json_object_get(plan, "id")) == id)
            return 1;
    }
    return 0;
}

/* Crash bursts listing packages keep those the case has; a burst left with none kills at once,
 * and "after" stays within the burst (the scenario's own rule). */
static void repair_bursts(json_t *probe)
{
    if (json_object_get(json_object_get(probe, "given"), "generate"))
        return; /* packages made by the target: not listed in given */
    size_t i;
    json_t *step;
    json_array_foreach(json_object_get(probe, "when"), i, step)
    {
        json_t *crash = json_object_get(step, "crash");
        json_t *list = json_object_get(json_object_get(crash, "burst"), "packages");
        if (!json_is_array(list))
            continue;
        for (size_t k = json_array_size(list); k-- > 0;)
            if (!has_package(probe, json_integer_value(json_array_get(list, k))))
                json_array_remove(list, k);
        size_t n = json_array_size(list);
        if (n == 0) {
            static const char *const keys[] = {"burst", "after", "at", "seed", "delay_ms"};
            for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
                json_object_del(crash, keys[k]);
            continue;
        }
        json_t *after = json_object_get(crash, "after");
        if (after && json_integer_value(after) > (json_int_t)n)
            json_object_set_new(crash, "after", json_integer((json_int_t)n));
        json_t *burst = json_object_get(crash, "burst");
        json_t *conc = json_object_get(burst, "concurrent");
        if (conc && json_integer_value(conc) > (json_int_t)n)
            json_object_set_new(burst, "concurrent", json_integer((json_int_t)n));
    }
}

void explore_gen_repair(json_t *given_or_probe, const struct oms_profile *p)
{
    json_t *given = json_object_get(given_or_probe, "given");
    if (given)
        repair_bursts(given_or_probe);
    else
        given = given_or_probe;
    size_t i;
    json_t *loc;
    json_array_foreach(json_object_get(given, "locations"), i, loc)
    {
        if (json_is_true(json_object_get(loc, "quota_drift")))
            continue;
        json_int_t id = json_integer_value(json_object_get(loc, "id"));
        json_int_t counting = 0;
        size_t k;
        json_t *pkg;
        json_array_foreach(json_object_get(given, "packages"), k, pkg)
        {
            int64_t status;
            if (json_integer_value(json_object_get(pkg, "location")) == id &&
                oms_profile_status_resolve(p, json_object_get(pkg, "status"), &status) == 0 &&
                oms_profile_counts(p, status))
                counting++;
        }
        json_object_set_new(loc, "quota", json_integer(counting));
    }
}
