/* store.c: the in-memory state, loaded from a fixture (docs/fixture-protocol.md), shown back as
 * JSON, and grown by planning (SPEC P-2, Q-3). */
#include "alt_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oms_alloc.h"
#include "oms_json.h"

#define MAX_GENERATED 10000000LL

static int bad(struct oms_err *err, const char *path, const char *what)
{
    return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, path, "%s", what);
}

json_t *alt_error_json(int status, const char *key, const char *message)
{
    return json_pack("{s:{s:[s]}, s:i}", "error", key, message, "status_code", status);
}

struct alt_store *alt_store_create(void)
{
    struct alt_store *s = OMS_NEW(struct alt_store);
    s->next_reservation_id = 1;
    s->next_discrepancy_id = 1;
    return s;
}

static void package_cleanup(struct alt_package *pkg)
{
    free(pkg->order_number);
    for (size_t i = 0; i < pkg->item_count; i++)
        free(pkg->items[i].sku);
    free(pkg->items);
    for (size_t i = 0; i < pkg->reservation_count; i++)
        free(pkg->reservations[i].sku);
    free(pkg->reservations);
    for (size_t i = 0; i < pkg->discrepancy_count; i++)
        free(pkg->discrepancies[i].kind);
    free(pkg->discrepancies);
}

void alt_store_destroy(struct alt_store *s)
{
    if (!s)
        return;
    free(s->locations);
    for (size_t i = 0; i < s->package_count; i++)
        package_cleanup(&s->packages[i]);
    free(s->packages);
    for (size_t i = 0; i < s->log_count; i++)
        free(s->log[i].slug);
    free(s->log);
    for (size_t i = 0; i < s->subscription_count; i++) {
        struct alt_subscription *sub = &s->subscriptions[i];
        free(sub->event_type);
        free(sub->target_url);
        json_decref(sub->headers);
        free(sub->secret_key);
    }
    free(s->subscriptions);
    free(s);
}

void alt_fixture_extras_cleanup(struct alt_fixture_extras *x)
{
    free(x->omnitron_url);
    free(x->omnitron_token);
    memset(x, 0, sizeof(*x));
}

static int cmp_location(const void *a, const void *b)
{
    int64_t x = ((const struct alt_location *)a)->id, y = ((const struct alt_location *)b)->id;
    return (x > y) - (x < y);
}

static int cmp_package(const void *a, const void *b)
{
    int64_t x = ((const struct alt_package *)a)->id, y = ((const struct alt_package *)b)->id;
    return (x > y) - (x < y);
}

struct alt_package *alt_store_package(struct alt_store *s, int64_t id)
{
    struct alt_package key = {.id = id};
    if (s->package_count == 0)
        return NULL;
    return bsearch(&key, s->packages, s->package_count, sizeof(key), cmp_package);
}

struct alt_location *alt_store_location(struct alt_store *s, int64_t id)
{
    struct alt_location key = {.id = id};
    if (s->location_count == 0)
        return NULL;
    return bsearch(&key, s->locations, s->location_count, sizeof(key), cmp_location);
}

/* ---- typed members ---- */

/* An integer member in [min, max]; absent: dflt when optional. */
static int member_int(const json_t *obj, const char *key, const char *path, int required,
                      int64_t min, int64_t max, int64_t dflt, int64_t *out, struct oms_err *err)
{
    char sub[OMS_ERR_PATH_MAX];
    const json_t *v = json_object_get(obj, key);
    oms_jpath_key(sub, sizeof(sub), path, key);
    if (!v) {
        if (required)
            return bad(err, sub, "required");
        *out = dflt;
        return 0;
    }
    if (!json_is_integer(v))
        return bad(err, sub, "must be an integer");
    if (json_integer_value(v) < min || json_integer_value(v) > max) {
        char what[96];
        snprintf(what, sizeof(what), "out of [%" PRId64 ", %" PRId64 "]", min, max);
        return bad(err, sub, what);
    }
    *out = json_integer_value(v);
    return 0;
}

/* An optional string member, copied (NULL when absent or null). */
static int member_str(const json_t *obj, const char *key, const char *path, char **out,
                      struct oms_err *err)
{
    char sub[OMS_ERR_PATH_MAX];
    const json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return bad(err, oms_jpath_key(sub, sizeof(sub), path, key), "must be a string");
    *out = oms_xstrdup(json_string_value(v));
    return 0;
}

static int member_status(const struct alt_profile *p, const json_t *obj, const char *key,
                         const char *path, int64_t *out, struct oms_err *err)
{
    char sub[OMS_ERR_PATH_MAX];
    if (alt_profile_status(p, json_object_get(obj, key), out) != 0)
        return bad(err, oms_jpath_key(sub, sizeof(sub), path, key), "not a status of the profile");
    return 0;
}

static int object_with(const json_t *v, const char *path, const char *const *keys,
                       struct oms_err *err)
{
    if (!json_is_object(v))
        return bad(err, path, "must be an object");
    return oms_json_check_keys(v, path, keys, NULL, err) != 0 ? OMS_E_INVAL : 0;
}

static const json_t *member_array(const json_t *obj, const char *key, const char *path, int *rc,
                                  struct oms_err *err)
{
    char sub[OMS_ERR_PATH_MAX];
    const json_t *v = json_object_get(obj, key);
    *rc = 0;
    if (v && !json_is_array(v))
        *rc = bad(err, oms_jpath_key(sub, sizeof(sub), path, key), "must be an array");
    return v;
}

/* ---- packages ---- */

static struct alt_package *new_package(struct alt_store *s)
{
    if (s->package_count == s->package_cap) {
        s->package_cap = s->package_cap ? 2 * s->package_cap : 64;
        s->packages = oms_xrealloc(s->packages, s->package_cap * sizeof(*s->packages));
    }
    struct alt_package *pkg = &s->packages[s->package_count++];
    memset(pkg, 0, sizeof(*pkg));
    return pkg;
}

static char *default_order_number(int64_t id)
{
    char buf[40];
    snprintf(buf, sizeof(buf), "ORDER-%" PRId64, id);
    return oms_xstrdup(buf);
}

static int parse_items(const json_t *list, const char *path, const struct alt_profile *p,
                       struct alt_package *pkg, struct oms_err *err)
{
    static const char *const keys[] = {"id", "order_item", "sku", "quantity", "status", NULL};
    char sub[OMS_ERR_PATH_MAX];
    pkg->items = oms_xcalloc(json_array_size(list) + 1, sizeof(*pkg->items));
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        oms_jpath_index(sub, sizeof(sub), path, i);
        struct alt_item *it = &pkg->items[pkg->item_count++];
        if (object_with(e, sub, keys, err) != 0 ||
            member_int(e, "id", sub, 1, 1, INT64_MAX, 0, &it->id, err) != 0 ||
            member_int(e, "order_item", sub, 0, 1, INT64_MAX, it->id, &it->order_item, err) != 0 ||
            member_str(e, "sku", sub, &it->sku, err) != 0 ||
            member_int(e, "quantity", sub, 0, 1, INT64_MAX, 1, &it->quantity, err) != 0)
            return OMS_E_INVAL;
        it->status = pkg->status;
        if (json_object_get(e, "status") && member_status(p, e, "status", sub, &it->status, err))
            return OMS_E_INVAL;
    }
    return 0;
}

static int parse_reservations(const json_t *list, const char *path, struct alt_package *pkg,
                              struct oms_err *err)
{
    static const char *const keys[] = {"id", "sku", "quantity", NULL};
    char sub[OMS_ERR_PATH_MAX];
    pkg->reservations = oms_xcalloc(json_array_size(list) + 1, sizeof(*pkg->reservations));
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        oms_jpath_index(sub, sizeof(sub), path, i);
        struct alt_reservation *r = &pkg->reservations[pkg->reservation_count++];
        /* id 0: numbered after every explicit id is known */
        if (object_with(e, sub, keys, err) != 0 ||
            member_int(e, "id", sub, 0, 1, INT64_MAX, 0, &r->id, err) != 0 ||
            member_str(e, "sku", sub, &r->sku, err) != 0 ||
            member_int(e, "quantity", sub, 0, 1, INT64_MAX, 1, &r->quantity, err) != 0)
            return OMS_E_INVAL;
    }
    return 0;
}

static int parse_discrepancies(const json_t *list, const char *path, struct alt_package *pkg,
                               struct oms_err *err)
{
    static const char *const keys[] = {"id", "item", "kind", "quantity", NULL};
    char sub[OMS_ERR_PATH_MAX], leaf[OMS_ERR_PATH_MAX];
    pkg->discrepancies = oms_xcalloc(json_array_size(list) + 1, sizeof(*pkg->discrepancies));
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        oms_jpath_index(sub, sizeof(sub), path, i);
        struct alt_discrepancy *d = &pkg->discrepancies[pkg->discrepancy_count++];
        if (object_with(e, sub, keys, err) != 0 ||
            member_int(e, "id", sub, 0, 1, INT64_MAX, 0, &d->id, err) != 0 ||
            member_int(e, "item", sub, 0, 1, INT64_MAX, 0, &d->item, err) != 0 ||
            member_str(e, "kind", sub, &d->kind, err) != 0 ||
            member_int(e, "quantity", sub, 0, 1, INT64_MAX, 1, &d->quantity, err) != 0)
            return OMS_E_INVAL;
        if (d->item) {
            size_t k = 0;
            while (k < pkg->item_count && pkg->items[k].id != d->item)
                k++;
            if (k == pkg->item_count)
                return bad(err, oms_jpath_key(leaf, sizeof(leaf), sub, "item"),
                           "not an item of this package");
        }
    }
    return 0;
}

/* Reads one package into pkg (zeroed). has_default: a missing status takes dflt (planning). */
static int parse_package(const json_t *e, const char *path, const struct alt_profile *p,
                         struct alt_store *s, int has_default, int64_t dflt,
                         struct alt_package *pkg, struct oms_err *err)
{
    static const char *const keys[] = {"id",    "location",     "status",        "order_number",
                                       "items", "reservations", "discrepancies", NULL};
    char sub[OMS_ERR_PATH_MAX];
    int rc;
    if (object_with(e, path, keys, err) != 0 ||
        member_int(e, "id", path, 1, 1, INT64_MAX, 0, &pkg->id, err) != 0 ||
        member_int(e, "location", path, 1, 1, INT64_MAX, 0, &pkg->location, err) != 0)
        return OMS_E_INVAL;
    if (!alt_store_location(s, pkg->location))
        return bad(err, oms_jpath_key(sub, sizeof(sub), path, "location"), "not a listed location");
    if (!json_object_get(e, "status") && has_default)
        pkg->status = dflt;
    else if (member_status(p, e, "status", path, &pkg->status, err) != 0)
        return OMS_E_INVAL;
    if (member_str(e, "order_number", path, &pkg->order_number, err) != 0)
        return OMS_E_INVAL;
    if (!pkg->order_number)
        pkg->order_number = default_order_number(pkg->id);
    const json_t *items = member_array(e, "items", path, &rc, err);
    if (rc != 0 ||
        parse_items(items, oms_jpath_key(sub, sizeof(sub), path, "items"), p, pkg, err) != 0)
        return OMS_E_INVAL;
    const json_t *res = member_array(e, "reservations", path, &rc, err);
    if (rc != 0 ||
        parse_reservations(res, oms_jpath_key(sub, sizeof(sub), path, "reservations"), pkg, err))
        return OMS_E_INVAL;
    const json_t *disc = member_array(e, "discrepancies", path, &rc, err);
    if (rc != 0 ||
        parse_discrepancies(disc, oms_jpath_key(sub, sizeof(sub), path, "discrepancies"), pkg, err))
        return OMS_E_INVAL;
    return 0;
}

/* ---- fixture parts ---- */

static int parse_locations(const json_t *list, struct alt_store *s, struct oms_err *err)
{
    static const char *const keys[] = {"id",          "max_quota",      "quota",
                                       "quota_drift", "scenario_rules", NULL};
    char sub[OMS_ERR_PATH_MAX], leaf[OMS_ERR_PATH_MAX];
    s->locations = oms_xcalloc(json_array_size(list) + 1, sizeof(*s->locations));
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        oms_jpath_index(sub, sizeof(sub), "$.locations", i);
        struct alt_location *l = &s->locations[s->location_count];
        if (object_with(e, sub, keys, err) != 0 ||
            member_int(e, "id", sub, 1, 1, INT64_MAX, 0, &l->id, err) != 0 ||
            member_int(e, "max_quota", sub, 1, 0, INT64_MAX, 0, &l->max_quota, err) != 0 ||
            member_int(e, "quota", sub, 0, 0, INT64_MAX, 0, &l->quota, err) != 0)
            return OMS_E_INVAL;
        if (alt_store_location(s, l->id))
            return bad(err, oms_jpath_key(leaf, sizeof(leaf), sub, "id"), "duplicate id");
        const json_t *drift = json_object_get(e, "quota_drift");
        if (drift && !json_is_boolean(drift))
            return bad(err, oms_jpath_key(leaf, sizeof(leaf), sub, "quota_drift"),
                       "must be a boolean");
        l->drift = json_is_true(drift);
        l->index = i;
        const json_t *rules = json_object_get(e, "scenario_rules");
        oms_jpath_key(leaf, sizeof(leaf), sub, "scenario_rules");
        if (rules && !json_is_array(rules))
            return bad(err, leaf, "must be an array of strings");
        size_t k;
        json_t *r;
        json_array_foreach(rules, k, r)
        {
            if (!json_is_string(r))
                return bad(err, leaf, "must be an array of strings");
            if (strcmp(json_string_value(r), "SELECT_BY_QUOTA") == 0)
                l->select_by_quota = 1;
        }
        s->location_count++;
        qsort(s->locations, s->location_count, sizeof(*s->locations), cmp_location);
    }
    return 0;
}

static int parse_generate(const json_t *list, const struct alt_profile *p, struct alt_store *s,
                          struct oms_err *err)
{
    static const char *const keys[] = {"packages",
                                       "first_id",
                                       "location",
                                       "status",
                                       "items_per_package",
                                       "first_item_id",
                                       "reservations_per_package",
                                       NULL};
    char sub[OMS_ERR_PATH_MAX], leaf[OMS_ERR_PATH_MAX];
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        int64_t n, first, loc, items, first_item, res, status;
        oms_jpath_index(sub, sizeof(sub), "$.generate", i);
        if (object_with(e, sub, keys, err) != 0 ||
            member_int(e, "packages", sub, 1, 1, MAX_GENERATED, 0, &n, err) != 0 ||
            member_int(e, "first_id", sub, 1, 1, INT64_MAX - MAX_GENERATED, 0, &first, err) ||
            member_int(e, "location", sub, 1, 1, INT64_MAX, 0, &loc, err) != 0 ||
            member_status(p, e, "status", sub, &status, err) != 0 ||
            member_int(e, "items_per_package", sub, 0, 0, 100, 1, &items, err) != 0 ||
            member_int(e, "first_item_id", sub, 0, 1, INT64_MAX / 2, first, &first_item, err) ||
            member_int(e, "reservations_per_package", sub, 0, 0, 100, 0, &res, err) != 0)
            return OMS_E_INVAL;
        if (!alt_store_location(s, loc))
            return bad(err, oms_jpath_key(leaf, sizeof(leaf), sub, "location"),
                       "not a listed location");
        if (first_item > INT64_MAX / 2 - n * items)
            return bad(err, oms_jpath_key(leaf, sizeof(leaf), sub, "first_item_id"), "too large");
        int64_t item_id = first_item;
        for (int64_t k = 0; k < n; k++) {
            struct alt_package *pkg = new_package(s);
            pkg->id = first + k;
            pkg->location = loc;
            pkg->status = status;
            pkg->order_number = default_order_number(pkg->id);
            pkg->items = oms_xcalloc((size_t)items + 1, sizeof(*pkg->items));
            for (int64_t j = 0; j < items; j++) {
                struct alt_item *it = &pkg->items[pkg->item_count++];
                char sku[40];
                snprintf(sku, sizeof(sku), "SKU-%" PRId64, item_id);
                it->id = item_id++;
                it->order_item = it->id;
                it->sku = oms_xstrdup(sku);
                it->quantity = 1;
                it->status = status;
            }
            pkg->reservations = oms_xcalloc((size_t)res + 1, sizeof(*pkg->reservations));
            for (int64_t j = 0; j < res; j++) {
                struct alt_reservation *r = &pkg->reservations[pkg->reservation_count++];
                r->sku = pkg->item_count ? oms_xstrdup(pkg->items[j % items].sku) : NULL;
                r->quantity = 1;
            }
        }
    }
    return 0;
}

static int parse_subscriptions(const json_t *list, struct alt_store *s, struct oms_err *err)
{
    static const char *const keys[] = {
        "event_type", "target_url", "additional_headers", "secret_key", "retry_countdown_config",
        NULL};
    char sub[OMS_ERR_PATH_MAX], leaf[OMS_ERR_PATH_MAX];
    s->subscriptions = oms_xcalloc(json_array_size(list) + 1, sizeof(*s->subscriptions));
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        oms_jpath_index(sub, sizeof(sub), "$.subscriptions", i);
        struct alt_subscription *x = &s->subscriptions[s->subscription_count++];
        x->id = (int64_t)s->subscription_count;
        if (object_with(e, sub, keys, err) != 0 ||
            member_str(e, "event_type", sub, &x->event_type, err) != 0 ||
            member_str(e, "target_url", sub, &x->target_url, err) != 0 ||
            member_str(e, "secret_key", sub, &x->secret_key, err) != 0)
            return OMS_E_INVAL;
        if (!x->event_type)
            return bad(err, oms_jpath_key(leaf, sizeof(leaf), sub, "event_type"), "required");
        if (!x->target_url || (strncmp(x->target_url, "http://", 7) != 0 &&
                               strncmp(x->target_url, "https://", 8) != 0))
            return bad(err, oms_jpath_key(leaf, sizeof(leaf), sub, "target_url"),
                       "required: an http(s) URL");
        const json_t *h = json_object_get(e, "additional_headers");
        oms_jpath_key(leaf, sizeof(leaf), sub, "additional_headers");
        if (h && !json_is_null(h) && !json_is_object(h))
            return bad(err, leaf, "must be an object of strings");
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)h, k, v)
        {
            if (!json_is_string(v) || strpbrk(json_string_value(v), "\r\n") ||
                strpbrk(k, " :\r\n") || *k == '\0')
                return bad(err, leaf, "must be an object of header names to strings");
        }
        x->headers = json_is_object(h) ? json_deep_copy(h) : json_object();
        const json_t *r = json_object_get(e, "retry_countdown_config");
        if (r && !json_is_null(r)) {
            if (alt_retry_parse(r, oms_jpath_key(leaf, sizeof(leaf), sub, "retry_countdown_config"),
                                &x->retry, err) != 0)
                return OMS_E_INVAL;
            x->has_retry = 1;
        }
    }
    return 0;
}

static int parse_extras(const json_t *fx, struct alt_fixture_extras *x, struct oms_err *err)
{
    static const char *const omni_keys[] = {"url", "token", NULL};
    static const char *const clock_keys[] = {"mode", NULL};
    const json_t *o = json_object_get(fx, "omnitron");
    if (o) {
        if (object_with(o, "$.omnitron", omni_keys, err) != 0 ||
            member_str(o, "url", "$.omnitron", &x->omnitron_url, err) != 0 ||
            member_str(o, "token", "$.omnitron", &x->omnitron_token, err) != 0)
            return OMS_E_INVAL;
        x->has_omnitron_url = json_object_get(o, "url") != NULL;
        x->has_omnitron_token = json_object_get(o, "token") != NULL;
    }
    const json_t *c = json_object_get(fx, "clock");
    if (c) {
        if (object_with(c, "$.clock", clock_keys, err) != 0)
            return OMS_E_INVAL;
        const char *mode = json_string_value(json_object_get(c, "mode"));
        if (!mode || (strcmp(mode, "virtual") != 0 && strcmp(mode, "real") != 0))
            return bad(err, "$.clock.mode", "must be \"virtual\" or \"real\"");
        x->virtual_clock = strcmp(mode, "virtual") == 0;
    }
    return 0;
}

/* ---- whole-store checks ---- */

struct id_ref {
    int64_t id;
    size_t package; /* index into the store's packages, before sorting */
};

static int cmp_ref(const void *a, const void *b)
{
    const struct id_ref *x = a, *y = b;
    if (x->id != y->id)
        return (x->id > y->id) - (x->id < y->id);
    return (x->package > y->package) - (x->package < y->package);
}

/* The path of package index i: explicit packages come first, then generated ones. */
static void package_path(char *out, size_t size, size_t i, size_t explicit_count)
{
    if (i < explicit_count)
        oms_jpath_index(out, size, "$.packages", i);
    else
        snprintf(out, size, "$.generate");
}

/* Which id a check is about: 0 packages, 1 items, 2 reservations, 3 discrepancies. */
static int check_unique(struct alt_store *s, int kind, size_t explicit_count, struct oms_err *err)
{
    static const char *const names[] = {"package", "item", "reservation", "discrepancy"};
    size_t n = 0, cap = 0;
    struct id_ref *refs = NULL;
    for (size_t i = 0; i < s->package_count; i++) {
        const struct alt_package *pkg = &s->packages[i];
        size_t count = kind == 0   ? 1
                       : kind == 1 ? pkg->item_count
                       : kind == 2 ? pkg->reservation_count
                                   : pkg->discrepancy_count;
        for (size_t j = 0; j < count; j++) {
            int64_t id = kind == 0   ? pkg->id
                         : kind == 1 ? pkg->items[j].id
                         : kind == 2 ? pkg->reservations[j].id
                                     : pkg->discrepancies[j].id;
            if (id == 0)
                continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 256;
                refs = oms_xrealloc(refs, cap * sizeof(*refs));
            }
            refs[n].id = id;
            refs[n++].package = i;
        }
    }
    if (n > 1)
        qsort(refs, n, sizeof(*refs), cmp_ref);
    int rc = 0;
    for (size_t i = 1; i < n && rc == 0; i++) {
        if (refs[i].id == refs[i - 1].id) {
            char path[OMS_ERR_PATH_MAX];
            package_path(path, sizeof(path), refs[i].package, explicit_count);
            rc = oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, path, "duplicate %s id %" PRId64,
                             names[kind], refs[i].id);
        }
    }
    if (kind == 2 || kind == 3) {
        int64_t max = n ? refs[n - 1].id : 0;
        if (kind == 2)
            s->next_reservation_id = max + 1;
        else
            s->next_discrepancy_id = max + 1;
    }
    free(refs);
    return rc;
}

/* Numbers reservations and discrepancies given without an id. */
static void number_records(struct alt_store *s)
{
    for (size_t i = 0; i < s->package_count; i++) {
        struct alt_package *pkg = &s->packages[i];
        for (size_t j = 0; j < pkg->reservation_count; j++) {
            if (pkg->reservations[j].id == 0)
                pkg->reservations[j].id = s->next_reservation_id++;
        }
        for (size_t j = 0; j < pkg->discrepancy_count; j++) {
            if (pkg->discrepancies[j].id == 0)
                pkg->discrepancies[j].id = s->next_discrepancy_id++;
        }
    }
}

/* SPEC Q-4: each location's quota equals its counting packages, unless drift is declared. */
static int check_quota(struct alt_store *s, const struct alt_profile *p, struct oms_err *err)
{
    int64_t *counts = oms_xcalloc(s->location_count + 1, sizeof(int64_t));
    for (size_t i = 0; i < s->package_count; i++) {
        if (alt_profile_counts(p, s->packages[i].status))
            counts[alt_store_location(s, s->packages[i].location) - s->locations]++;
    }
    int rc = 0;
    for (size_t i = 0; i < s->location_count && rc == 0; i++) {
        const struct alt_location *l = &s->locations[i];
        if (!l->drift && l->quota != counts[i]) {
            char path[OMS_ERR_PATH_MAX];
            snprintf(path, sizeof(path), "$.locations[%zu].quota", l->index);
            rc = oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, path,
                             "quota %" PRId64 " != %" PRId64
                             " counting packages (declare quota_drift to keep it)",
                             l->quota, counts[i]);
        }
    }
    free(counts);
    return rc;
}

int alt_store_load(const json_t *fx, const struct alt_profile *p, struct alt_store **out,
                   struct alt_fixture_extras *extras, struct oms_err *err)
{
    static const char *const keys[] = {"profile",       "omnitron", "locations", "packages",
                                       "subscriptions", "clock",    "generate",  NULL};
    char sub[OMS_ERR_PATH_MAX];
    *out = NULL;
    memset(extras, 0, sizeof(*extras));
    if (object_with(fx, "$", keys, err) != 0)
        return OMS_E_INVAL;
    struct alt_store *s = alt_store_create();
    int rc = parse_extras(fx, extras, err);
    const json_t *locations = rc ? NULL : member_array(fx, "locations", "$", &rc, err);
    if (rc == 0)
        rc = parse_locations(locations, s, err);
    const json_t *packages = rc ? NULL : member_array(fx, "packages", "$", &rc, err);
    size_t i;
    json_t *e;
    json_array_foreach(packages, i, e)
    {
        if (rc != 0)
            break;
        rc = parse_package(e, oms_jpath_index(sub, sizeof(sub), "$.packages", i), p, s, 0, 0,
                           new_package(s), err);
    }
    size_t explicit_count = s->package_count;
    const json_t *gen = rc ? NULL : member_array(fx, "generate", "$", &rc, err);
    if (rc == 0)
        rc = parse_generate(gen, p, s, err);
    const json_t *subs = rc ? NULL : member_array(fx, "subscriptions", "$", &rc, err);
    if (rc == 0)
        rc = parse_subscriptions(subs, s, err);
    for (int kind = 0; kind < 4 && rc == 0; kind++)
        rc = check_unique(s, kind, explicit_count, err);
    if (rc == 0) {
        number_records(s);
        if (s->package_count > 1)
            qsort(s->packages, s->package_count, sizeof(*s->packages), cmp_package);
        rc = check_quota(s, p, err);
    }
    if (rc != 0) {
        alt_store_destroy(s);
        alt_fixture_extras_cleanup(extras);
        return OMS_E_INVAL;
    }
    *out = s;
    return 0;
}

/* ---- planning ---- */

static int item_taken(const struct alt_store *s, int64_t id)
{
    for (size_t i = 0; i < s->package_count; i++) {
        for (size_t j = 0; j < s->packages[i].item_count; j++) {
            if (s->packages[i].items[j].id == id)
                return 1;
        }
    }
    return 0;
}

static int record_taken(const struct alt_store *s, int reservations, int64_t id)
{
    for (size_t i = 0; i < s->package_count; i++) {
        const struct alt_package *pkg = &s->packages[i];
        size_t n = reservations ? pkg->reservation_count : pkg->discrepancy_count;
        for (size_t j = 0; j < n; j++) {
            if ((reservations ? pkg->reservations[j].id : pkg->discrepancies[j].id) == id)
                return 1;
        }
    }
    return 0;
}

/* Refuses ids the new package shares with the store or within itself. */
static int plan_ids_free(const struct alt_store *s, const struct alt_package *pkg,
                         struct oms_err *err)
{
    char path[OMS_ERR_PATH_MAX];
    for (size_t j = 0; j < pkg->item_count; j++) {
        int dup = item_taken(s, pkg->items[j].id);
        for (size_t k = 0; k < j; k++)
            dup |= pkg->items[k].id == pkg->items[j].id;
        if (dup) {
            snprintf(path, sizeof(path), "$.package.items[%zu].id", j);
            return bad(err, path, "duplicate item id");
        }
    }
    for (size_t j = 0; j < pkg->reservation_count; j++) {
        int64_t id = pkg->reservations[j].id;
        int dup = id && record_taken(s, 1, id);
        for (size_t k = 0; k < j; k++)
            dup |= id && pkg->reservations[k].id == id;
        if (dup) {
            snprintf(path, sizeof(path), "$.package.reservations[%zu].id", j);
            return bad(err, path, "duplicate reservation id");
        }
    }
    for (size_t j = 0; j < pkg->discrepancy_count; j++) {
        int64_t id = pkg->discrepancies[j].id;
        int dup = id && record_taken(s, 0, id);
        for (size_t k = 0; k < j; k++)
            dup |= id && pkg->discrepancies[k].id == id;
        if (dup) {
            snprintf(path, sizeof(path), "$.package.discrepancies[%zu].id", j);
            return bad(err, path, "duplicate discrepancy id");
        }
    }
    return 0;
}

int alt_store_plan(struct alt_store *s, const struct alt_profile *p, const json_t *body,
                   json_t **answer)
{
    static const char *const keys[] = {"package", NULL};
    struct oms_err err;
    struct alt_package pkg = {0};
    oms_err_clear(&err);
    int rc = object_with(body, "$", keys, &err);
    if (rc == 0 && !json_object_get(body, "package"))
        rc = bad(&err, "$.package", "required");
    if (rc == 0 && !p->has_plan_status &&
        !json_object_get(json_object_get(body, "package"), "status"))
        rc = bad(&err, "$.package.status", "required: the profile names no lifecycle.plan_status");
    if (rc == 0)
        rc = parse_package(json_object_get(body, "package"), "$.package", p, s, 1, p->plan_status,
                           &pkg, &err);
    if (rc == 0 && alt_store_package(s, pkg.id))
        rc = bad(&err, "$.package.id", "duplicate package id");
    if (rc == 0)
        rc = plan_ids_free(s, &pkg, &err);
    if (rc != 0) {
        package_cleanup(&pkg);
        *answer = alt_error_json(400, err.path, err.message);
        return 400;
    }
    struct alt_location *loc = alt_store_location(s, pkg.location);
    /* SPEC Q-3: only planning looks at the quota, and only under SELECT_BY_QUOTA. */
    if (loc->select_by_quota && loc->max_quota - loc->quota <= 0) {
        char msg[128];
        snprintf(msg, sizeof(msg), "location %" PRId64 ": available_quota %" PRId64 " <= 0",
                 loc->id, loc->max_quota - loc->quota);
        package_cleanup(&pkg);
        *answer = alt_error_json(409, "non_field_errors", msg);
        return 409;
    }
    for (size_t j = 0; j < pkg.reservation_count; j++) {
        if (pkg.reservations[j].id == 0)
            pkg.reservations[j].id = s->next_reservation_id;
        if (pkg.reservations[j].id >= s->next_reservation_id)
            s->next_reservation_id = pkg.reservations[j].id + 1;
    }
    for (size_t j = 0; j < pkg.discrepancy_count; j++) {
        if (pkg.discrepancies[j].id == 0)
            pkg.discrepancies[j].id = s->next_discrepancy_id;
        if (pkg.discrepancies[j].id >= s->next_discrepancy_id)
            s->next_discrepancy_id = pkg.discrepancies[j].id + 1;
    }
    /* SPEC Q-2: creation moves the quota by whether the new status counts. */
    if (alt_profile_counts(p, pkg.status))
        loc->quota++;
    int64_t id = pkg.id;
    *new_package(s) = pkg;
    qsort(s->packages, s->package_count, sizeof(*s->packages), cmp_package);
    *answer = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "package", (json_int_t)id, "location",
                        (json_int_t)loc->id, "status", (json_int_t)pkg.status, "quota",
                        (json_int_t)loc->quota, "max_quota", (json_int_t)loc->max_quota,
                        "available_quota", (json_int_t)(loc->max_quota - loc->quota));
    return 201;
}

/* ---- the state as JSON ---- */

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *package_json(const struct alt_package *pkg)
{
    json_t *items = json_array(), *res = json_array(), *disc = json_array();
    for (size_t i = 0; i < pkg->item_count; i++) {
        const struct alt_item *it = &pkg->items[i];
        json_array_append_new(
            items, json_pack("{s:I, s:I, s:o, s:I, s:I}", "id", (json_int_t)it->id, "order_item",
                             (json_int_t)it->order_item, "sku", str_or_null(it->sku), "quantity",
                             (json_int_t)it->quantity, "status", (json_int_t)it->status));
    }
    for (size_t i = 0; i < pkg->reservation_count; i++) {
        const struct alt_reservation *r = &pkg->reservations[i];
        json_array_append_new(res,
                              json_pack("{s:I, s:o, s:I}", "id", (json_int_t)r->id, "sku",
                                        str_or_null(r->sku), "quantity", (json_int_t)r->quantity));
    }
    for (size_t i = 0; i < pkg->discrepancy_count; i++) {
        const struct alt_discrepancy *d = &pkg->discrepancies[i];
        json_array_append_new(disc,
                              json_pack("{s:I, s:o, s:o, s:I}", "id", (json_int_t)d->id, "item",
                                        d->item ? json_integer(d->item) : json_null(), "kind",
                                        str_or_null(d->kind), "quantity", (json_int_t)d->quantity));
    }
    return json_pack("{s:I, s:I, s:I, s:s, s:o, s:o, s:o}", "id", (json_int_t)pkg->id, "location",
                     (json_int_t)pkg->location, "status", (json_int_t)pkg->status, "order_number",
                     pkg->order_number, "items", items, "reservations", res, "discrepancies", disc);
}

json_t *alt_store_json(const struct alt_store *s)
{
    json_t *locations = json_array(), *packages = json_array(), *log = json_array(),
           *subs = json_array();
    for (size_t i = 0; i < s->location_count; i++) {
        const struct alt_location *l = &s->locations[i];
        json_array_append_new(
            locations,
            json_pack("{s:I, s:I, s:I, s:I, s:b}", "id", (json_int_t)l->id, "max_quota",
                      (json_int_t)l->max_quota, "quota", (json_int_t)l->quota, "available_quota",
                      (json_int_t)(l->max_quota - l->quota), "quota_drift", l->drift));
    }
    for (size_t i = 0; i < s->package_count; i++)
        json_array_append_new(packages, package_json(&s->packages[i]));
    for (size_t i = 0; i < s->log_count; i++) {
        const struct alt_log_entry *e = &s->log[i];
        json_array_append_new(log,
                              json_pack("{s:I, s:I, s:I, s:s, s:I, s:I, s:I}", "id",
                                        (json_int_t)e->id, "package", (json_int_t)e->package,
                                        "transition", (json_int_t)e->transition, "slug", e->slug,
                                        "old_status", (json_int_t)e->old_status, "new_status",
                                        (json_int_t)e->new_status, "at_ms", (json_int_t)e->at_ms));
    }
    for (size_t i = 0; i < s->subscription_count; i++) {
        const struct alt_subscription *x = &s->subscriptions[i];
        json_array_append_new(subs,
                              json_pack("{s:I, s:s, s:s, s:O, s:o, s:o}", "id", (json_int_t)x->id,
                                        "event_type", x->event_type, "target_url", x->target_url,
                                        "additional_headers", x->headers, "secret_key",
                                        str_or_null(x->secret_key), "retry_countdown_config",
                                        x->has_retry ? alt_retry_json(&x->retry) : json_null()));
    }
    return json_pack("{s:o, s:o, s:o, s:o, s:[]}", "locations", locations, "packages", packages,
                     "transition_log", log, "subscriptions", subs, "outbox");
}
