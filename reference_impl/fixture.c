/* fixture: validation and installation of an initial state. */
#include "fixture.h"

#include "command.h"
#include "oms_http_client.h"

#include "oms_alloc.h"
#include "oms_json.h"
#include "oms_log.h"
#include "oms_quota.h"
#include "outbox.h"
#include "subscription.h"
#include "valerr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct load {
    struct reference *r;
    struct oms_profile *profile; /* the profile the fixture will run under */
    struct oms_err *err;
};

static int bad(struct load *l, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(struct load *l, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    oms_err_vset(l->err, OMS_E_INVAL, NULL, 0, 0, path, fmt, ap);
    va_end(ap);
    return OMS_E_INVAL;
}

static int check_keys(struct load *l, const json_t *obj, const char *path,
                      const char *const *allowed)
{
    return oms_json_check_keys(obj, path, allowed, NULL, l->err);
}

/* An integer field: required or with a default; must be >= min. */
static int int_field(struct load *l, const json_t *obj, const char *path, const char *key,
                     int required, int64_t def, int64_t min, int64_t *out)
{
    char p[OMS_ERR_PATH_MAX];
    json_t *v = json_object_get(obj, key);
    oms_jpath_key(p, sizeof(p), path, key);
    if (!v) {
        if (required)
            return bad(l, p, "missing required integer \"%s\"", key);
        *out = def;
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < min)
        return bad(l, p, "expected an integer of at least %lld, found %s", (long long)min,
                   json_is_integer(v) ? "a smaller one" : oms_json_type_name(v));
    *out = json_integer_value(v);
    return 0;
}

static int str_field(struct load *l, const json_t *obj, const char *path, const char *key,
                     const char *def, char *out, size_t size)
{
    char p[OMS_ERR_PATH_MAX];
    json_t *v = json_object_get(obj, key);
    if (!v) {
        snprintf(out, size, "%s", def);
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) >= size)
        return bad(l, oms_jpath_key(p, sizeof(p), path, key),
                   "expected a string of at most %zu characters, found %s", size - 1,
                   oms_json_type_name(v));
    snprintf(out, size, "%s", json_string_value(v));
    return 0;
}

static int status_field(struct load *l, const json_t *obj, const char *path, int64_t def,
                        int64_t *out)
{
    char p[OMS_ERR_PATH_MAX];
    json_t *v = json_object_get(obj, "status");
    oms_jpath_key(p, sizeof(p), path, "status");
    if (!v) {
        if (def < 0)
            return bad(l, p, "missing required status (a name such as \"Waiting\" or a number)");
        *out = def;
        return 0;
    }
    if (oms_profile_status_resolve(l->profile, v, out) != 0) {
        char *text = oms_json_dumps(v);
        bad(l, p, "%s is not a status of the profile's catalogue", text);
        free(text);
        return OMS_E_INVAL;
    }
    return 0;
}

static int array_field(struct load *l, const json_t *obj, const char *path, const char *key,
                       json_t **out)
{
    char p[OMS_ERR_PATH_MAX];
    json_t *v = json_object_get(obj, key);
    *out = v;
    if (v && !json_is_array(v))
        return bad(l, oms_jpath_key(p, sizeof(p), path, key), "expected a list, found %s",
                   oms_json_type_name(v));
    return 0;
}

static int load_locations(struct load *l, const json_t *arr)
{
    static const char *const keys[] = {"id",          "max_quota",      "quota",
                                       "quota_drift", "scenario_rules", NULL};
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        char path[OMS_ERR_PATH_MAX];
        oms_jpath_index(path, sizeof(path), "$.locations", i);
        if (!json_is_object(v))
            return bad(l, path, "expected a location object, found %s", oms_json_type_name(v));
        struct store_location loc = {0};
        json_t *drift = json_object_get(v, "quota_drift");
        if (check_keys(l, v, path, keys) || int_field(l, v, path, "id", 1, 0, 1, &loc.id) ||
            int_field(l, v, path, "max_quota", 1, 0, 0, &loc.max_quota) ||
            int_field(l, v, path, "quota", 0, 0, 0, &loc.quota))
            return OMS_E_INVAL;
        if (drift && !json_is_boolean(drift)) {
            char p[OMS_ERR_PATH_MAX];
            return bad(l, oms_jpath_key(p, sizeof(p), path, "quota_drift"),
                       "expected true or false");
        }
        loc.quota_drift = json_is_true(drift);
        json_t *rules = json_object_get(v, "scenario_rules");
        if (rules) {
            char p[OMS_ERR_PATH_MAX];
            size_t k;
            json_t *rule;
            int ok = json_is_array(rules);
            json_array_foreach(rules, k, rule)
            {
                ok &= json_is_string(rule);
            }
            char *text = ok ? oms_json_dumps(rules) : NULL;
            if (!ok || strlen(text) >= sizeof(loc.scenario_rules)) {
                free(text);
                return bad(l, oms_jpath_key(p, sizeof(p), path, "scenario_rules"),
                           "expected a short list of rule names such as [\"SELECT_BY_QUOTA\"]");
            }
            snprintf(loc.scenario_rules, sizeof(loc.scenario_rules), "%s", text);
            free(text);
        }
        if (store_exists(l->r->store, "locations", loc.id))
            return bad(l, path, "location %lld is given twice", (long long)loc.id);
        if (store_insert_location(l->r->store, &loc))
            return bad(l, path, "cannot store location: %s", store_errmsg(l->r->store));
    }
    return 0;
}

static int load_items(struct load *l, int64_t package_id, int64_t package_status, const json_t *arr,
                      const char *ppath)
{
    static const char *const keys[] = {"id", "order_item", "sku", "quantity", "status", NULL};
    size_t i;
    json_t *v;
    json_array_foreach((json_t *)arr, i, v)
    {
        char base[OMS_ERR_PATH_MAX], path[OMS_ERR_PATH_MAX];
        oms_jpath_index(path, sizeof(path), oms_jpath_key(base, sizeof(base), ppath, "items"), i);
        if (!json_is_object(v))
            return bad(l, path, "expected an item object, found %s", oms_json_type_name(v));
        struct store_item it = {0};
        if (check_keys(l, v, path, keys) || int_field(l, v, path, "id", 1, 0, 1, &it.id) ||
            int_field(l, v, path, "order_item", 0, it.id, 1, &it.order_item) ||
            int_field(l, v, path, "quantity", 0, 1, 1, &it.quantity) ||
            str_field(l, v, path, "sku", "", it.sku, sizeof(it.sku)) ||
            status_field(l, v, path, package_status, &it.status))
            return OMS_E_INVAL;
        if (json_object_get(v, "order_item") == NULL)
            it.order_item = it.id;
        if (store_exists(l->r->store, "package_items", it.id))
            return bad(l, path, "item id %lld is used twice", (long long)it.id);
        if (store_insert_item(l->r->store, package_id, &it))
            return bad(l, path, "cannot store item: %s", store_errmsg(l->r->store));
    }
    return 0;
}

static int load_reservations(struct load *l, int64_t package_id, const json_t *arr,
                             const char *ppath)
{
    static const char *const keys[] = {"id", "sku", "quantity", NULL};
    size_t i;
    json_t *v;
    json_array_foreach((json_t *)arr, i, v)
    {
        char base[OMS_ERR_PATH_MAX], path[OMS_ERR_PATH_MAX];
        oms_jpath_index(path, sizeof(path),
                        oms_jpath_key(base, sizeof(base), ppath, "reservations"), i);
        if (!json_is_object(v))
            return bad(l, path, "expected a reservation object, found %s", oms_json_type_name(v));
        int64_t id = 0, quantity = 1;
        char sku[128];
        if (check_keys(l, v, path, keys) || int_field(l, v, path, "id", 0, 0, 1, &id) ||
            int_field(l, v, path, "quantity", 0, 1, 1, &quantity) ||
            str_field(l, v, path, "sku", "", sku, sizeof(sku)))
            return OMS_E_INVAL;
        if (id > 0 && store_exists(l->r->store, "reservations", id))
            return bad(l, path, "reservation id %lld is used twice", (long long)id);
        if (store_insert_reservation(l->r->store, id, package_id, sku, quantity))
            return bad(l, path, "cannot store reservation: %s", store_errmsg(l->r->store));
    }
    return 0;
}

static int load_discrepancies(struct load *l, int64_t package_id, const json_t *arr,
                              const char *ppath)
{
    static const char *const keys[] = {"id", "item", "kind", "quantity", NULL};
    size_t i;
    json_t *v;
    json_array_foreach((json_t *)arr, i, v)
    {
        char base[OMS_ERR_PATH_MAX], path[OMS_ERR_PATH_MAX];
        oms_jpath_index(path, sizeof(path),
                        oms_jpath_key(base, sizeof(base), ppath, "discrepancies"), i);
        if (!json_is_object(v))
            return bad(l, path, "expected a discrepancy object, found %s", oms_json_type_name(v));
        int64_t id = 0, item = 0, quantity = 1;
        char kind[64];
        if (check_keys(l, v, path, keys) || int_field(l, v, path, "id", 0, 0, 1, &id) ||
            int_field(l, v, path, "item", 0, 0, 1, &item) ||
            int_field(l, v, path, "quantity", 0, 1, 1, &quantity) ||
            str_field(l, v, path, "kind", "missing", kind, sizeof(kind)))
            return OMS_E_INVAL;
        if (id > 0 && store_exists(l->r->store, "discrepancies", id))
            return bad(l, path, "discrepancy id %lld is used twice", (long long)id);
        if (store_insert_discrepancy(l->r->store, id, package_id, item, kind, quantity))
            return bad(l, path, "cannot store discrepancy: %s", store_errmsg(l->r->store));
    }
    return 0;
}

/* One package with its items, reservations and discrepancies; path names it in errors. */
static int load_package(struct load *l, const json_t *v, const char *path, int64_t *id_out,
                        int64_t *location_out, int64_t *status_out)
{
    static const char *const keys[] = {"id",    "location",     "status",        "order_number",
                                       "items", "reservations", "discrepancies", NULL};
    if (!json_is_object(v))
        return bad(l, path, "expected a package object, found %s", oms_json_type_name(v));
    struct store_package pkg = {0};
    json_t *items, *reservations, *discrepancies;
    char def_order[64];
    if (check_keys(l, v, path, keys) || int_field(l, v, path, "id", 1, 0, 1, &pkg.id) ||
        int_field(l, v, path, "location", 1, 0, 1, &pkg.location) ||
        status_field(l, v, path, -1, &pkg.status) || array_field(l, v, path, "items", &items) ||
        array_field(l, v, path, "reservations", &reservations) ||
        array_field(l, v, path, "discrepancies", &discrepancies))
        return OMS_E_INVAL;
    snprintf(def_order, sizeof(def_order), "ORDER-%lld", (long long)pkg.id);
    if (str_field(l, v, path, "order_number", def_order, pkg.order_number,
                  sizeof(pkg.order_number)))
        return OMS_E_INVAL;
    if (!store_exists(l->r->store, "locations", pkg.location)) {
        char p[OMS_ERR_PATH_MAX];
        return bad(l, oms_jpath_key(p, sizeof(p), path, "location"), "location %lld does not exist",
                   (long long)pkg.location);
    }
    if (store_exists(l->r->store, "packages", pkg.id))
        return bad(l, path, "package %lld already exists", (long long)pkg.id);
    if (store_insert_package(l->r->store, &pkg))
        return bad(l, path, "cannot store package: %s", store_errmsg(l->r->store));
    if (load_items(l, pkg.id, pkg.status, items, path) ||
        load_reservations(l, pkg.id, reservations, path) ||
        load_discrepancies(l, pkg.id, discrepancies, path))
        return OMS_E_INVAL;
    *id_out = pkg.id;
    *location_out = pkg.location;
    *status_out = pkg.status;
    return 0;
}

static int load_packages(struct load *l, const json_t *arr)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        char path[OMS_ERR_PATH_MAX];
        int64_t id, location, status;
        if (load_package(l, v, oms_jpath_index(path, sizeof(path), "$.packages", i), &id, &location,
                         &status))
            return OMS_E_INVAL;
    }
    return 0;
}

static int load_subscriptions(struct load *l, const json_t *arr)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        char path[OMS_ERR_PATH_MAX], p[OMS_ERR_PATH_MAX];
        oms_jpath_index(path, sizeof(path), "$.subscriptions", i);
        struct valerr errors;
        struct subscription_input in;
        valerr_init(&errors);
        if (subscription_validate(v, 1, &in, &errors) != 0) {
            /* Report the first field's first message at that field's path. */
            const char *field = NULL;
            json_t *msgs = NULL;
            void *it = json_object_iter(errors.fields);
            if (it) {
                field = json_object_iter_key(it);
                msgs = json_object_iter_value(it);
            }
            if (field && strcmp(field, "non_field_errors") != 0)
                oms_jpath_key(p, sizeof(p), path, field);
            else
                snprintf(p, sizeof(p), "%s", path);
            bad(l, p, "%s", json_string_value(json_array_get(msgs, 0)));
            valerr_cleanup(&errors);
            return OMS_E_INVAL;
        }
        valerr_cleanup(&errors);
        int rc = store_subscription_insert(l->r->store, &in.sub, NULL);
        subscription_input_cleanup(&in);
        if (rc)
            return bad(l, path, "cannot store subscription: %s", store_errmsg(l->r->store));
    }
    return 0;
}

/* SPEC Q-4: a fixture's quota must equal its counting packages unless it declares drift. */
static int check_quota(struct load *l, const json_t *locations)
{
    size_t n = oms_profile_status_count(l->profile), k = 0;
    int64_t *counting = oms_xcalloc(n + 1, sizeof(*counting));
    char names[1024] = "";
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        const struct oms_profile_status *s = oms_profile_status_at(l->profile, i);
        if (!s->counts)
            continue;
        counting[k++] = s->value;
        if (len < sizeof(names))
            len += (size_t)snprintf(names + len, sizeof(names) - len, "%s%s (%lld)",
                                    k > 1 ? ", " : "", s->name, (long long)s->value);
    }
    int rc = 0;
    size_t i;
    json_t *v;
    json_array_foreach((json_t *)locations, i, v)
    {
        struct store_location loc;
        int64_t count = 0;
        if (store_location_get(l->r->store, json_integer_value(json_object_get(v, "id")), &loc) ||
            store_location_count_packages(l->r->store, loc.id, counting, k, &count)) {
            rc = bad(l, "$.locations", "cannot count the packages of the locations: %s",
                     store_errmsg(l->r->store));
            break;
        }
        if (oms_quota_check(loc.quota, count, loc.quota_drift) != 0) {
            char path[OMS_ERR_PATH_MAX], p[OMS_ERR_PATH_MAX];
            oms_jpath_index(path, sizeof(path), "$.locations", i);
            rc = bad(l, oms_jpath_key(p, sizeof(p), path, "quota"),
                     "quota %lld of location %lld disagrees with its %lld counting package(s) "
                     "(statuses that count: %s); fix the quota, or declare \"quota_drift\": true "
                     "to reproduce a drifted counter on purpose",
                     (long long)loc.quota, (long long)loc.id, (long long)count, names);
            break;
        }
    }
    free(counting);
    return rc;
}

static int build_profile(struct load *l, const json_t *patch)
{
    if (!patch) {
        l->profile = oms_profile_ref(l->r->base_profile);
        return 0;
    }
    struct oms_err perr = {0};
    if (oms_profile_with_overrides(l->r->base_profile, patch, &l->profile, &perr) == 0)
        return 0;
    /* The profile's paths are relative to the profile document; place them under $.profile. */
    char path[OMS_ERR_PATH_MAX + 16];
    snprintf(path, sizeof(path), "$.profile%.500s", perr.path[0] == '$' ? perr.path + 1 : "");
    return bad(l, path, "%s", perr.message);
}

/* Packages made in bulk, for large states (load tests): each block makes `packages` packages with
 * consecutive ids from first_id, items_per_package items each (ids from first_item_id, order_item
 * = item id, sku "SKU-<item id>") and reservations_per_package reservations. Ids that collide with
 * other packages or items are refused at the block. */
static int load_generated(struct load *l, const json_t *arr)
{
    static const char *const keys[] = {"packages",
                                       "first_id",
                                       "location",
                                       "status",
                                       "items_per_package",
                                       "first_item_id",
                                       "reservations_per_package",
                                       NULL};
    size_t i;
    json_t *v;
    int64_t rows = 0;
    json_array_foreach((json_t *)arr, i, v)
    {
        char path[OMS_ERR_PATH_MAX];
        oms_jpath_index(path, sizeof(path), "$.generate", i);
        if (!json_is_object(v))
            return bad(l, path, "expected a generator object, found %s", oms_json_type_name(v));
        int64_t count = 0, first = 0, location = 0, per = 1, first_item = 0, reservations = 0,
                status = 0;
        if (check_keys(l, v, path, keys) || int_field(l, v, path, "packages", 1, 0, 1, &count) ||
            int_field(l, v, path, "first_id", 1, 0, 1, &first) ||
            int_field(l, v, path, "location", 1, 0, 1, &location) ||
            int_field(l, v, path, "items_per_package", 0, 1, 0, &per) ||
            int_field(l, v, path, "first_item_id", 0, first, 1, &first_item) ||
            int_field(l, v, path, "reservations_per_package", 0, 0, 0, &reservations) ||
            status_field(l, v, path, -1, &status))
            return OMS_E_INVAL;
        if (count > 10000000 || per > 100 || reservations > 100)
            return bad(l, path, "at most 10000000 packages of 100 items and 100 reservations");
        /* Checked before a row is made: a 200-byte fixture must not build millions. */
        rows += count * (1 + per + reservations);
        if (rows > l->r->max_state_rows)
            return bad(l, path,
                       "the generate blocks would make %lld rows (packages, items, reservations), "
                       "more than the server's limit of %lld (--max-state-rows)",
                       (long long)rows, (long long)l->r->max_state_rows);
        if (!store_exists(l->r->store, "locations", location))
            return bad(l, path, "location %lld does not exist", (long long)location);
        struct store *s = l->r->store;
        for (int64_t k = 0; k < count; k++) {
            struct store_package pkg = {.id = first + k, .location = location, .status = status};
            snprintf(pkg.order_number, sizeof(pkg.order_number), "ORDER-%lld", (long long)pkg.id);
            if (store_insert_package(s, &pkg))
                return bad(l, path, "package %lld: %s", (long long)pkg.id, store_errmsg(s));
            for (int64_t j = 0; j < per; j++) {
                struct store_item it = {
                    .id = first_item + k * per + j, .quantity = 1, .status = status};
                it.order_item = it.id;
                snprintf(it.sku, sizeof(it.sku), "SKU-%lld", (long long)it.id);
                if (store_insert_item(s, pkg.id, &it))
                    return bad(l, path, "item %lld: %s", (long long)it.id, store_errmsg(s));
            }
            for (int64_t j = 0; j < reservations; j++)
                if (store_insert_reservation(s, 0, pkg.id, "SKU", 1))
                    return bad(l, path, "reservation: %s", store_errmsg(s));
        }
    }
    return 0;
}

static int load_all(struct load *l, const json_t *doc)
{
    json_t *locations, *packages, *subscriptions, *generate;
    if (array_field(l, doc, "$", "locations", &locations) ||
        array_field(l, doc, "$", "packages", &packages) ||
        array_field(l, doc, "$", "subscriptions", &subscriptions) ||
        array_field(l, doc, "$", "generate", &generate))
        return OMS_E_INVAL;
    if (store_reset(l->r->store))
        return bad(l, "$", "cannot clear the store: %s", store_errmsg(l->r->store));
    if (load_locations(l, locations) || load_packages(l, packages) || load_generated(l, generate) ||
        load_subscriptions(l, subscriptions) || check_quota(l, locations))
        return OMS_E_INVAL;
    int64_t rows = 0;
    if (store_count_rows(l->r->store, &rows) == 0 && rows > l->r->max_state_rows)
        return bad(l, "$",
                   "the fixture makes %lld rows (packages, items, reservations, discrepancies), "
                   "more than the server's limit of %lld (--max-state-rows)",
                   (long long)rows, (long long)l->r->max_state_rows);
    return 0;
}

int fixture_load(struct reference *r, const json_t *doc, struct oms_err *err)
{
    static const char *const keys[] = {"profile",       "omnitron", "locations", "packages",
                                       "subscriptions", "clock",    "generate",  NULL};
    static const char *const clock_keys[] = {"mode", NULL};
    static const char *const omnitron_keys[] = {"url", "token", NULL};
    struct load l = {.r = r, .err = err};
    if (!json_is_object(doc))
        return bad(&l, "$", "expected a fixture object, found %s", oms_json_type_name(doc));
    json_t *omnitron = json_object_get(doc, "omnitron");
    json_t *patch = json_object_get(doc, "profile");
    if (check_keys(&l, doc, "$", keys))
        return OMS_E_INVAL;
    if (omnitron &&
        (!json_is_object(omnitron) || check_keys(&l, omnitron, "$.omnitron", omnitron_keys) ||
         (json_object_get(omnitron, "url") && !json_is_string(json_object_get(omnitron, "url"))) ||
         (json_object_get(omnitron, "token") &&
          !json_is_string(json_object_get(omnitron, "token")))))
        return oms_err_isset(err)
                   ? OMS_E_INVAL
                   : bad(&l, "$.omnitron", "expected {\"url\": string, \"token\": string}");
    /* SSRF: deliveries go to http(s) only; "" leaves Omnitron unset. */
    const char *omni_url = json_string_value(json_object_get(omnitron, "url"));
    if (omni_url && omni_url[0] && !oms_http_url_allowed(omni_url))
        return bad(&l, "$.omnitron.url",
                   "must be an http:// or https:// URL (other schemes are refused)");
    if (patch && !json_is_object(patch))
        return bad(&l, "$.profile", "expected an object of profile overrides, found %s",
                   oms_json_type_name(patch));
    json_t *clock = json_object_get(doc, "clock");
    const char *mode = json_string_value(json_object_get(clock, "mode"));
    if (clock && (!json_is_object(clock) || check_keys(&l, clock, "$.clock", clock_keys) || !mode ||
                  (strcmp(mode, "virtual") != 0 && strcmp(mode, "real") != 0)))
        return oms_err_isset(err) ? OMS_E_INVAL
                                  : bad(&l, "$.clock",
                                        "expected {\"mode\": \"virtual\"} or "
                                        "{\"mode\": \"real\"}");
    if (build_profile(&l, patch))
        return OMS_E_INVAL;

    const char *url = json_string_value(json_object_get(omnitron, "url"));
    const char *token = json_string_value(json_object_get(omnitron, "token"));
    char *patch_text = patch ? oms_json_dumps(patch) : oms_xstrdup("{}");
    command_settle(r);
    outbox_pause(r->outbox);
    store_lock(r->store);
    int rc = store_begin(r->store);
    if (rc == 0)
        rc = load_all(&l, doc);
    if (rc == 0)
        rc = store_setting_set(r->store, "profile_overrides", patch_text);
    if (rc == 0 && url)
        rc = store_setting_set(r->store, "omnitron_url", url);
    if (rc == 0 && token)
        rc = store_setting_set(r->store, "omnitron_token", token);
    /* Kept with the data: a target restarted on it (a crash scenario) runs on the same clock. */
    if (rc == 0)
        rc = store_setting_set(r->store, "clock_mode",
                               mode && strcmp(mode, "virtual") == 0 ? "virtual" : "real");
    if (rc == 0)
        rc = store_commit(r->store);
    if (rc != 0) {
        store_rollback(r->store);
        if (!oms_err_isset(err))
            bad(&l, "$", "cannot store the fixture: %s", store_errmsg(r->store));
    }
    store_unlock(r->store);
    if (rc == 0) {
        reference_install(r, l.profile, url, token);
        reference_set_clock(r, mode && strcmp(mode, "virtual") == 0);
    } else {
        oms_profile_unref(l.profile);
    }
    outbox_resume(r->outbox);
    free(patch_text);
    return rc ? OMS_E_INVAL : 0;
}

int fixture_restore_settings(struct reference *r, struct oms_err *err)
{
    char *patch_text = NULL, *url = NULL, *token = NULL, *clock = NULL;
    store_lock(r->store);
    int rc = store_setting_get(r->store, "profile_overrides", &patch_text);
    if (rc == 0)
        rc = store_setting_get(r->store, "omnitron_url", &url);
    if (rc == 0)
        rc = store_setting_get(r->store, "omnitron_token", &token);
    if (rc == 0)
        rc = store_setting_get(r->store, "clock_mode", &clock);
    if (rc != 0)
        oms_err_set(err, rc, NULL, 0, 0, NULL, "cannot read the stored settings: %s",
                    store_errmsg(r->store));
    store_unlock(r->store);
    if (rc != 0) {
        free(patch_text);
        free(url);
        free(token);
        free(clock);
        return rc;
    }
    /* A virtual clock starts again at the wall clock: a drain still jumps to the next retry. */
    reference_set_clock(r, clock && strcmp(clock, "virtual") == 0);
    free(clock);
    struct oms_profile *p = NULL;
    json_t *patch = patch_text ? json_loads(patch_text, 0, NULL) : NULL;
    if (patch && json_object_size(patch) > 0)
        rc = oms_profile_with_overrides(r->base_profile, patch, &p, err);
    if (rc == 0)
        reference_install(r, p ? p : oms_profile_ref(r->base_profile), url, token);
    json_decref(patch);
    free(patch_text);
    free(url);
    free(token);
    return rc;
}

/* SPEC Q-3: does the location's scenario plan by quota? (Its rules are kept as JSON text.) */
static int selects_by_quota(const struct store_location *loc)
{
    json_t *rules = json_loads(loc->scenario_rules, 0, NULL);
    int found = oms_quota_selects_by_quota(rules);
    json_decref(rules);
    return found;
}

int fixture_plan(struct reference *r, const json_t *doc, json_t **answer, struct oms_err *err)
{
    static const char *const keys[] = {"package", NULL};
    struct load l = {.r = r, .err = err};
    *answer = NULL;
    if (!json_is_object(doc))
        return bad(&l, "$", "expected {\"package\": {...}}, found %s", oms_json_type_name(doc));
    if (check_keys(&l, doc, "$", keys))
        return OMS_E_INVAL;
    const json_t *pkg = json_object_get(doc, "package");
    if (!pkg)
        return bad(&l, "$", "missing required \"package\"");
    l.profile = reference_profile(r);
    /* The planned package starts in the profile's planning status unless it names one. */
    json_t *copy = json_deep_copy(pkg);
    if (json_is_object(copy) && !json_object_get(copy, "status"))
        json_object_set_new(copy, "status", json_string(oms_profile_plan_status(l.profile)));

    store_lock(r->store);
    int rc = store_begin(r->store);
    int64_t id = 0, location = 0, pstatus = 0;
    struct store_location loc = {0};
    json_t *loc_id = json_object_get(copy, "location");
    if (rc == 0 && json_is_integer(loc_id) &&
        store_location_get(r->store, json_integer_value(loc_id), &loc) == 0 &&
        !oms_quota_may_plan(selects_by_quota(&loc), loc.max_quota, loc.quota)) {
        /* SPEC Q-3: no new package where available_quota <= 0 under SELECT_BY_QUOTA. */
        oms_err_set(err, OMS_E_CONFLICT, NULL, 0, 0, "$.package.location",
                    "location %lld has no available quota (max_quota %lld, quota %lld) and its "
                    "scenario rules include " OMS_QUOTA_SELECT_BY_QUOTA
                    ": no package can be planned there",
                    (long long)loc.id, (long long)loc.max_quota, (long long)loc.quota);
        rc = OMS_E_CONFLICT;
    }
    if (rc == 0)
        rc = load_package(&l, copy, "$.package", &id, &location, &pstatus);
    if (rc == 0) {
        /* SPEC Q-2: creation moves the quota like a transition from "no package". */
        int delta = oms_quota_delta(l.profile, OMS_QUOTA_NO_PACKAGE, pstatus);
        if (delta)
            rc = command_move_quota(r, location, delta);
        if (rc == 0)
            rc = store_location_get(r->store, location, &loc);
        if (rc == 0)
            rc = store_commit(r->store);
        if (rc != 0)
            oms_err_set(err, OMS_E_DB, NULL, 0, 0, "$", "cannot store the package: %s",
                        store_errmsg(r->store));
    }
    if (rc != 0)
        store_rollback(r->store);
    store_unlock(r->store);
    json_decref(copy);
    oms_profile_unref(l.profile);
    if (rc != 0)
        return err && err->code ? err->code : rc;
    *answer =
        json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "package", (json_int_t)id, "location",
                  (json_int_t)location, "status", (json_int_t)pstatus, "quota",
                  (json_int_t)loc.quota, "max_quota", (json_int_t)loc.max_quota, "available_quota",
                  (json_int_t)oms_quota_available(loc.max_quota, loc.quota));
    return 0;
}
