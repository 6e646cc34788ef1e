/* fixture: the fixture protocol of bad-oms (docs/fixture-protocol.md) - handshake, profile, a
 * validated whole-state load, the state read back, and the drain. */
#include "bad_oms.h"

#include "oms_alloc.h"
#include "oms_json.h"
#include "oms_retry.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DRAIN_DEFAULT_MS 5000
#define DRAIN_MAX_MS     600000

/* A fixture being validated into new arrays; nothing is installed until all of it is valid. */
struct load {
    struct oms_err err;
    struct oms_profile *profile;
    json_t *locations, *packages, *subscriptions;
    json_t *ids; /* "items", "reservations", "discrepancies": {"<id>": true} */
};

static int fail(struct load *l, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct load *l, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    oms_err_vset(&l->err, OMS_E_INVAL, NULL, 0, 0, path, fmt, ap);
    va_end(ap);
    return -1;
}

/* Unknown keys are errors: a typo in a fixture must not pass silently. */
static int only_keys(struct load *l, const json_t *obj, const char *path, const char *const *keys)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        size_t i = 0;
        while (keys[i] && strcmp(keys[i], key) != 0)
            i++;
        if (!keys[i]) {
            char p[OMS_ERR_PATH_MAX];
            return fail(l, oms_jpath_key(p, sizeof(p), path, key), "unknown key \"%s\"", key);
        }
    }
    return 0;
}

/* An integer member >= min; def when absent (required: an error instead). */
static int get_int(struct load *l, const json_t *obj, const char *path, const char *key,
                   int required, json_int_t def, json_int_t min, json_int_t *out)
{
    char p[OMS_ERR_PATH_MAX];
    json_t *v = json_object_get(obj, key);
    oms_jpath_key(p, sizeof(p), path, key);
    if (!v && required)
        return fail(l, p, "\"%s\" is required", key);
    if (v && (!json_is_integer(v) || json_integer_value(v) < min))
        return fail(l, p, "expected an integer of at least %lld, found %s", (long long)min,
                    json_is_integer(v) ? "a smaller one" : oms_json_type_name(v));
    *out = v ? json_integer_value(v) : def;
    return 0;
}

static int get_str(struct load *l, const json_t *obj, const char *path, const char *key,
                   const char *def, const char **out)
{
    char p[OMS_ERR_PATH_MAX];
    json_t *v = json_object_get(obj, key);
    if (v && !json_is_string(v))
        return fail(l, oms_jpath_key(p, sizeof(p), path, key), "expected a string, found %s",
                    oms_json_type_name(v));
    *out = v ? json_string_value(v) : def;
    return 0;
}

/* The list member key of obj (NULL when absent). */
static int get_list(struct load *l, const json_t *obj, const char *path, const char *key,
                    const json_t **out)
{
    char p[OMS_ERR_PATH_MAX];
    json_t *v = json_object_get(obj, key);
    if (v && !json_is_array(v))
        return fail(l, oms_jpath_key(p, sizeof(p), path, key), "expected a list, found %s",
                    oms_json_type_name(v));
    *out = v; /* NULL iterates as an empty list */
    return 0;
}

static int get_status(struct load *l, const json_t *obj, const char *path, int64_t def,
                      int64_t *out)
{
    char p[OMS_ERR_PATH_MAX];
    json_t *v = json_object_get(obj, "status");
    oms_jpath_key(p, sizeof(p), path, "status");
    if (!v && def < 0)
        return fail(l, p, "\"status\" is required (a name such as \"Waiting\" or a number)");
    if (!v) {
        *out = def;
        return 0;
    }
    if (oms_profile_status_resolve(l->profile, v, out) != 0) {
        char *text = oms_json_dumps(v);
        fail(l, p, "%s is not a status of the profile's catalogue", text);
        free(text);
        return -1;
    }
    return 0;
}

static json_t *find_id(const json_t *list, json_int_t id)
{
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)list, i, e)
    {
        if (json_integer_value(json_object_get(e, "id")) == id)
            return e;
    }
    return NULL;
}

/* Marks id as used among kind; fails when it already was. */
static int claim_id(struct load *l, const char *kind, json_int_t id, const char *path)
{
    char key[32];
    snprintf(key, sizeof(key), "%lld", (long long)id);
    json_t *set = json_object_get(l->ids, kind);
    if (!set) {
        set = json_object();
        json_object_set_new(l->ids, kind, set);
    }
    if (json_object_get(set, key))
        return fail(l, path, "%s id %lld is used twice", kind, (long long)id);
    json_object_set_new(set, key, json_true());
    return 0;
}

static int load_locations(struct load *l, const json_t *list)
{
    static const char *const keys[] = {"id",          "max_quota",      "quota",
                                       "quota_drift", "scenario_rules", NULL};
    size_t i;
    json_t *v;
    json_array_foreach((json_t *)list, i, v)
    {
        char path[OMS_ERR_PATH_MAX], p[OMS_ERR_PATH_MAX];
        oms_jpath_index(path, sizeof(path), "$.locations", i);
        json_int_t id, max, quota;
        if (!json_is_object(v))
            return fail(l, path, "expected a location object, found %s", oms_json_type_name(v));
        if (only_keys(l, v, path, keys) || get_int(l, v, path, "id", 1, 0, 1, &id) ||
            get_int(l, v, path, "max_quota", 1, 0, 0, &max) ||
            get_int(l, v, path, "quota", 0, 0, 0, &quota))
            return -1;
        json_t *drift = json_object_get(v, "quota_drift");
        if (drift && !json_is_boolean(drift))
            return fail(l, oms_jpath_key(p, sizeof(p), path, "quota_drift"),
                        "expected true or false");
        json_t *rules = json_object_get(v, "scenario_rules");
        if (rules && !json_is_array(rules))
            return fail(l, oms_jpath_key(p, sizeof(p), path, "scenario_rules"),
                        "expected a list of rule names");
        if (find_id(l->locations, id))
            return fail(l, path, "location %lld is given twice", (long long)id);
        json_array_append_new(l->locations,
                              json_pack("{s:I, s:I, s:I, s:I, s:b}", "id", id, "max_quota", max,
                                        "quota", quota, "available_quota", max - quota,
                                        "quota_drift", json_is_true(drift)));
    }
    return 0;
}

static int load_items(struct load *l, const json_t *list, const char *ppath, int64_t status,
                      json_t *out)
{
    static const char *const keys[] = {"id", "order_item", "sku", "quantity", "status", NULL};
    size_t i;
    json_t *v;
    json_array_foreach((json_t *)list, i, v)
    {
        char base[OMS_ERR_PATH_MAX], path[OMS_ERR_PATH_MAX];
        oms_jpath_index(path, sizeof(path), oms_jpath_key(base, sizeof(base), ppath, "items"), i);
        json_int_t id, order_item, quantity;
        int64_t st;
        const char *sku = NULL;
        if (!json_is_object(v))
            return fail(l, path, "expected an item object, found %s", oms_json_type_name(v));
        if (only_keys(l, v, path, keys) || get_int(l, v, path, "id", 1, 0, 1, &id) ||
            get_int(l, v, path, "order_item", 0, id, 1, &order_item) ||
            get_int(l, v, path, "quantity", 0, 1, 0, &quantity) ||
            get_str(l, v, path, "sku", "", &sku) || get_status(l, v, path, status, &st) ||
            claim_id(l, "item", id, path))
            return -1;
        json_array_append_new(out, json_pack("{s:I, s:I, s:s, s:I, s:I}", "id", id, "order_item",
                                             order_item, "sku", sku, "quantity", quantity, "status",
                                             (json_int_t)st));
    }
    return 0;
}

/* Reservations and discrepancies: records without behaviour; ids are given or numbered later. */
static int load_records(struct load *l, const json_t *list, const char *ppath, const char *key,
                        json_t *out)
{
    static const char *const res_keys[] = {"id", "sku", "quantity", NULL};
    static const char *const dis_keys[] = {"id", "item", "kind", "quantity", NULL};
    int res = strcmp(key, "reservations") == 0;
    size_t i;
    json_t *v;
    json_array_foreach((json_t *)list, i, v)
    {
        char base[OMS_ERR_PATH_MAX], path[OMS_ERR_PATH_MAX];
        oms_jpath_index(path, sizeof(path), oms_jpath_key(base, sizeof(base), ppath, key), i);
        json_int_t id, quantity, item = 0;
        const char *text = NULL;
        if (!json_is_object(v))
            return fail(l, path, "expected an object, found %s", oms_json_type_name(v));
        if (only_keys(l, v, path, res ? res_keys : dis_keys) ||
            get_int(l, v, path, "id", 0, 0, 1, &id) ||
            get_int(l, v, path, "quantity", 0, 1, 0, &quantity) ||
            get_str(l, v, path, res ? "sku" : "kind", "", &text) ||
            (!res && get_int(l, v, path, "item", 0, 0, 1, &item)) ||
            (id && claim_id(l, key, id, path)))
            return -1;
        json_t *rec = json_pack("{s:I, s:s, s:I}", "id", id, res ? "sku" : "kind", text, "quantity",
                                quantity);
        if (!res)
            json_object_set_new(rec, "item", item ? json_integer(item) : json_null());
        json_array_append_new(out, rec);
    }
    return 0;
}

static int load_packages(struct load *l, const json_t *list)
{
    static const char *const keys[] = {"id",    "location",     "status",        "order_number",
                                       "items", "reservations", "discrepancies", NULL};
    size_t i;
    json_t *v;
    json_array_foreach((json_t *)list, i, v)
    {
        char path[OMS_ERR_PATH_MAX], p[OMS_ERR_PATH_MAX], number[48];
        oms_jpath_index(path, sizeof(path), "$.packages", i);
        json_int_t id, location;
        int64_t status;
        const char *order_number = NULL;
        const json_t *items = NULL, *res = NULL, *dis = NULL;
        if (!json_is_object(v))
            return fail(l, path, "expected a package object, found %s", oms_json_type_name(v));
        if (only_keys(l, v, path, keys) || get_int(l, v, path, "id", 1, 0, 1, &id) ||
            get_int(l, v, path, "location", 1, 0, 1, &location) ||
            get_status(l, v, path, -1, &status) || get_list(l, v, path, "items", &items) ||
            get_list(l, v, path, "reservations", &res) ||
            get_list(l, v, path, "discrepancies", &dis))
            return -1;
        snprintf(number, sizeof(number), "ORDER-%lld", (long long)id);
        if (get_str(l, v, path, "order_number", number, &order_number))
            return -1;
        if (!find_id(l->locations, location))
            return fail(l, oms_jpath_key(p, sizeof(p), path, "location"),
                        "location %lld is not among the fixture's locations", (long long)location);
        if (find_id(l->packages, id))
            return fail(l, path, "package %lld is given twice", (long long)id);
        json_t *pkg = json_pack("{s:I, s:I, s:I, s:s, s:[], s:[], s:[]}", "id", id, "location",
                                location, "status", (json_int_t)status, "order_number",
                                order_number, "items", "reservations", "discrepancies");
        json_array_append_new(l->packages, pkg);
        if (load_items(l, items, path, status, json_object_get(pkg, "items")) ||
            load_records(l, res, path, "reservations", json_object_get(pkg, "reservations")) ||
            load_records(l, dis, path, "discrepancies", json_object_get(pkg, "discrepancies")))
            return -1;
    }
    return 0;
}

/* Records given without an id get the next free one of their kind. */
static void number_records(struct load *l, const char *key)
{
    json_int_t next = 1;
    size_t i, k;
    json_t *pkg, *rec;
    json_array_foreach(l->packages, i, pkg)
    {
        json_array_foreach(json_object_get(pkg, key), k, rec)
        {
            json_int_t id = json_integer_value(json_object_get(rec, "id"));
            if (id >= next)
                next = id + 1;
        }
    }
    json_array_foreach(l->packages, i, pkg)
    {
        json_array_foreach(json_object_get(pkg, key), k, rec)
        {
            if (json_integer_value(json_object_get(rec, "id")) == 0)
                json_object_set_new(rec, "id", json_integer(next++));
        }
    }
}

static int load_subscriptions(struct load *l, const json_t *list)
{
    static const char *const keys[] = {
        "event_type", "target_url", "additional_headers", "secret_key", "retry_countdown_config",
        NULL};
    size_t i;
    json_t *v;
    json_array_foreach((json_t *)list, i, v)
    {
        char path[OMS_ERR_PATH_MAX], p[OMS_ERR_PATH_MAX];
        oms_jpath_index(path, sizeof(path), "$.subscriptions", i);
        const char *event_type = NULL, *url = NULL;
        if (!json_is_object(v))
            return fail(l, path, "expected a subscription object, found %s", oms_json_type_name(v));
        if (only_keys(l, v, path, keys) || get_str(l, v, path, "event_type", "", &event_type) ||
            get_str(l, v, path, "target_url", "", &url))
            return -1;
        if (!*event_type)
            return fail(l, oms_jpath_key(p, sizeof(p), path, "event_type"),
                        "a non-empty event type is required");
        if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
            return fail(l, oms_jpath_key(p, sizeof(p), path, "target_url"),
                        "an http:// or https:// URL is required");
        json_t *headers = json_object_get(v, "additional_headers");
        const char *name;
        json_t *hv;
        if (headers && !json_is_object(headers))
            return fail(l, oms_jpath_key(p, sizeof(p), path, "additional_headers"),
                        "expected an object of header names and values");
        json_object_foreach(headers, name, hv)
        {
            if (!json_is_string(hv))
                return fail(l, oms_jpath_key(p, sizeof(p), path, "additional_headers"),
                            "the value of header \"%s\" is not a string", name);
        }
        json_t *secret = json_object_get(v, "secret_key");
        if (secret && !json_is_string(secret) && !json_is_null(secret))
            return fail(l, oms_jpath_key(p, sizeof(p), path, "secret_key"),
                        "expected a string or null");
        json_t *retry = json_object_get(v, "retry_countdown_config");
        if (oms_retry_validate(retry, oms_jpath_key(p, sizeof(p), path, "retry_countdown_config"),
                               &l->err) != 0)
            return -1;
        json_array_append_new(l->subscriptions,
                              json_pack("{s:I, s:s, s:s, s:o, s:O?, s:O?}", "id",
                                        (json_int_t)(i + 1), "event_type", event_type, "target_url",
                                        url, "additional_headers",
                                        headers ? json_deep_copy(headers) : json_object(),
                                        "secret_key", secret, "retry_countdown_config", retry));
    }
    return 0;
}

/* SPEC Q-4: a quota that disagrees with the counting packages is refused unless declared. */
static int check_quota(struct load *l)
{
    size_t i, k;
    json_t *loc, *pkg;
    json_array_foreach(l->locations, i, loc)
    {
        json_int_t id = json_integer_value(json_object_get(loc, "id"));
        json_int_t quota = json_integer_value(json_object_get(loc, "quota")), counting = 0;
        json_array_foreach(l->packages, k, pkg)
        {
            if (json_integer_value(json_object_get(pkg, "location")) == id &&
                oms_profile_counts(l->profile, json_integer_value(json_object_get(pkg, "status"))))
                counting++;
        }
        if (quota != counting && !json_is_true(json_object_get(loc, "quota_drift"))) {
            char base[OMS_ERR_PATH_MAX], p[OMS_ERR_PATH_MAX];
            oms_jpath_index(base, sizeof(base), "$.locations", i);
            return fail(l, oms_jpath_key(p, sizeof(p), base, "quota"),
                        "quota %lld disagrees with the %lld counting package(s) at location %lld "
                        "(declare \"quota_drift\": true to load it anyway)",
                        (long long)quota, (long long)counting, (long long)id);
        }
    }
    return 0;
}

/* Validates the whole fixture into l. Returns 0 or -1 with l->err set. */
static int load_all(struct bad_oms *b, const json_t *fx, struct load *l)
{
    static const char *const keys[] = {"profile",       "omnitron", "locations", "packages",
                                       "subscriptions", "clock",    NULL};
    if (!json_is_object(fx))
        return fail(l, "$", "the fixture must be an object, found %s", oms_json_type_name(fx));
    if (only_keys(l, fx, "$", keys))
        return -1;
    const json_t *patch = json_object_get(fx, "profile");
    if (patch && oms_profile_with_overrides(b->base, patch, &l->profile, &l->err) != 0) {
        char p[OMS_ERR_PATH_MAX];
        snprintf(p, sizeof(p), "$.profile%s", l->err.path[0] == '$' ? l->err.path + 1 : "");
        snprintf(l->err.path, sizeof(l->err.path), "%s", p);
        return -1;
    }
    if (!patch)
        l->profile = oms_profile_ref(b->base);
    const json_t *clock = json_object_get(fx, "clock");
    const char *mode = json_string_value(json_object_get(clock, "mode"));
    if (clock && (!mode || strcmp(mode, "real") != 0))
        return fail(l, "$.clock.mode",
                    "only {\"mode\": \"real\"} is supported (no \"clock\" capability)");
    const json_t *om = json_object_get(fx, "omnitron");
    static const char *const om_keys[] = {"url", "token", NULL};
    const char *url, *token;
    if (om && (!json_is_object(om) || only_keys(l, om, "$.omnitron", om_keys) ||
               get_str(l, om, "$.omnitron", "url", "", &url) ||
               get_str(l, om, "$.omnitron", "token", NULL, &token)))
        return oms_err_isset(&l->err) ? -1 : fail(l, "$.omnitron", "expected an object");
    const json_t *locations, *packages, *subscriptions;
    if (get_list(l, fx, "$", "locations", &locations) ||
        get_list(l, fx, "$", "packages", &packages) ||
        get_list(l, fx, "$", "subscriptions", &subscriptions) || load_locations(l, locations) ||
        load_packages(l, packages) || load_subscriptions(l, subscriptions) || check_quota(l))
        return -1;
    number_records(l, "reservations");
    number_records(l, "discrepancies");
    return 0;
}

static void replace(json_t **slot, json_t *value)
{
    json_decref(*slot);
    *slot = value;
}

/* PUT /_fixture/state: all or nothing. */
static void put_state(struct bad_oms *b, const struct oms_http_request *req,
                      struct oms_http_response *resp)
{
    struct load l = {
        .locations = json_array(),
        .packages = json_array(),
        .subscriptions = json_array(),
        .ids = json_object(),
    };
    json_t *fx = oms_json_load_buf(req->body, req->body_len, "the fixture", &l.err);
    if (!fx || load_all(b, fx, &l) != 0) {
        bad_oms_reply_error(resp, 400, l.err.path[0] ? l.err.path : "non_field_errors", "%s",
                            l.err.message);
    } else {
        pthread_mutex_lock(&b->lock);
        /* A delivery in flight ends before the state goes, so nothing of it arrives later. */
        bad_delivery_pause(b);
        replace(&b->locations, json_incref(l.locations));
        replace(&b->packages, json_incref(l.packages));
        replace(&b->subscriptions, json_incref(l.subscriptions));
        replace(&b->transition_log, json_array());
        replace(&b->outbox, json_array());
        b->next_log_id = 1;
        b->next_outbox_id = 1;
        oms_profile_unref(b->profile);
        b->profile = oms_profile_ref(l.profile);
        const json_t *om = json_object_get(fx, "omnitron");
        if (om) {
            free(b->omnitron_url);
            free(b->omnitron_token);
            b->omnitron_url = oms_xstrdup(json_string_value(json_object_get(om, "url")));
            b->omnitron_token = oms_xstrdup(json_string_value(json_object_get(om, "token")));
        }
        size_t n = json_array_size(l.subscriptions);
        if (n) {
            free(b->stale_hook_url);
            b->stale_hook_url = oms_xstrdup(json_string_value(
                json_object_get(json_array_get(l.subscriptions, n - 1), "target_url")));
        }
        bad_delivery_resume(b);
        pthread_mutex_unlock(&b->lock);
        resp->status = 204;
    }
    json_decref(fx);
    json_decref(l.locations);
    json_decref(l.packages);
    json_decref(l.subscriptions);
    json_decref(l.ids);
    oms_profile_unref(l.profile);
}

/* GET /_fixture/state: the documented shape; outbox rows without their private keys. */
static void get_state(struct bad_oms *b, struct oms_http_response *resp)
{
    pthread_mutex_lock(&b->lock);
    json_t *outbox = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(b->outbox, i, row)
    {
        json_t *copy = json_deep_copy(row);
        json_object_del(copy, "_retry");
        json_object_del(copy, "_next_ms");
        json_array_append_new(outbox, copy);
    }
    json_t *doc = json_pack("{s:o, s:o, s:o, s:o, s:o}", "locations", json_deep_copy(b->locations),
                            "packages", json_deep_copy(b->packages), "transition_log",
                            json_deep_copy(b->transition_log), "subscriptions",
                            json_deep_copy(b->subscriptions), "outbox", outbox);
    pthread_mutex_unlock(&b->lock);
    oms_http_response_json(resp, 200, doc);
    json_decref(doc);
}

static void drain(struct bad_oms *b, const struct oms_http_request *req,
                  struct oms_http_response *resp)
{
    const char *arg = oms_http_request_arg(req, "timeout_ms");
    long timeout = DRAIN_DEFAULT_MS;
    char *end = NULL;
    if (arg) {
        timeout = strtol(arg, &end, 10);
        if (end == arg || *end || timeout < 0 || timeout > DRAIN_MAX_MS) {
            bad_oms_reply_error(resp, 400, "timeout_ms", "expected 0..%d milliseconds",
                                DRAIN_MAX_MS);
            return;
        }
    }
    pthread_mutex_lock(&b->lock);
    json_t *doc = bad_delivery_drain(b, timeout);
    pthread_mutex_unlock(&b->lock);
    oms_http_response_json(resp, 200, doc);
    json_decref(doc);
}

void bad_fixture_handle(struct bad_oms *b, const struct oms_http_request *req,
                        struct oms_http_response *resp)
{
    const char *rest = req->path + strlen("/_fixture");
    const char *m = req->method;
    const char *allow = NULL;
    if (strcmp(rest, "/") == 0 || *rest == '\0') {
        if (strcmp(m, "GET") != 0) {
            allow = "GET";
        } else {
            /* No plan, clock, hooks or journal: scenarios that need them are skipped. Its outbox
             * rows carry the documented fields. */
            json_t *doc = json_pack("{s:s, s:i, s:[s, s, s, s, s]}", "protocol",
                                    "refund-harness-fixture", "version", 1, "capabilities", "state",
                                    "drain", "profile", "profile-overrides", "outbox");
            oms_http_response_json(resp, 200, doc);
            json_decref(doc);
        }
    } else if (strcmp(rest, "/profile") == 0) {
        if (strcmp(m, "GET") != 0)
            allow = "GET";
        else
            oms_http_response_json(resp, 200, oms_profile_json(b->base));
    } else if (strcmp(rest, "/state") == 0) {
        if (strcmp(m, "PUT") == 0)
            put_state(b, req, resp);
        else if (strcmp(m, "GET") == 0)
            get_state(b, resp);
        else
            allow = "GET, PUT";
    } else if (strcmp(rest, "/drain") == 0) {
        if (strcmp(m, "POST") != 0)
            allow = "POST";
        else
            drain(b, req, resp);
    } else {
        bad_oms_reply_error(resp, 404, "non_field_errors",
                            "bad-oms implements no fixture endpoint \"%.100s\"", req->path);
    }
    if (allow) {
        bad_oms_reply_error(resp, 405, "non_field_errors", "method \"%.20s\" is not allowed", m);
        oms_http_response_header(resp, "Allow", allow);
    }
}
