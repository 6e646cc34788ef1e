/* profile.c: reads an installation profile into tables the transition engine walks (SPEC P-1). */
#include "alt_profile.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oms_alloc.h"
#include "oms_json.h"

#define DAY_MS (24LL * 3600 * 1000)

static int bad(struct oms_err *err, const char *path, const char *what)
{
    return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, path, "%s", what);
}

static char *make_key(const char *name)
{
    char *k = oms_xstrdup(name);
    for (char *c = k; *c; c++)
        *c = *c == ' ' ? '_' : (char)tolower((unsigned char)*c);
    return k;
}

int alt_profile_status(const struct alt_profile *p, const json_t *ref, int64_t *value)
{
    int64_t v;
    if (json_is_integer(ref)) {
        v = json_integer_value(ref);
        for (size_t i = 0; i < p->status_count; i++) {
            if (p->statuses[i].value == v) {
                *value = v;
                return 0;
            }
        }
        return OMS_E_NOENT;
    }
    if (!json_is_string(ref))
        return OMS_E_NOENT;
    const char *s = json_string_value(ref);
    char *end = NULL;
    long long n = strtoll(s, &end, 10);
    int numeric = *s != '\0' && *end == '\0';
    for (size_t i = 0; i < p->status_count; i++) {
        const struct alt_status *st = &p->statuses[i];
        if ((numeric && st->value == n) || strcasecmp(st->name, s) == 0 ||
            strcmp(st->key, s) == 0) {
            *value = st->value;
            return 0;
        }
    }
    return OMS_E_NOENT;
}

int alt_status_in(const int64_t *list, size_t n, int64_t status)
{
    for (size_t i = 0; i < n; i++) {
        if (list[i] == status)
            return 1;
    }
    return 0;
}

int alt_profile_counts(const struct alt_profile *p, int64_t status)
{
    if (p->has_count_below && status < p->count_below)
        return 1;
    return alt_status_in(p->count_also, p->count_also_count, status);
}

const struct alt_transition *alt_profile_transition_id(const struct alt_profile *p, int64_t id)
{
    for (size_t i = 0; i < p->transition_count; i++) {
        if (p->transitions[i].id == id)
            return &p->transitions[i];
    }
    return NULL;
}

const struct alt_transition *alt_profile_transition_slug(const struct alt_profile *p,
                                                         const char *slug)
{
    for (size_t i = 0; i < p->transition_count; i++) {
        if (strcmp(p->transitions[i].slug, slug) == 0)
            return &p->transitions[i];
    }
    return NULL;
}

const char *alt_profile_remote(const struct alt_profile *p, int64_t status)
{
    for (size_t i = 0; i < p->remote_count; i++) {
        if (p->remote[i].status == status)
            return p->remote[i].remote;
    }
    return NULL;
}

int alt_profile_token_ok(const struct alt_profile *p, const char *token)
{
    for (size_t i = 0; i < p->token_count; i++) {
        if (strcmp(p->tokens[i], token) == 0)
            return 1;
    }
    return 0;
}

/* ---- retry countdowns ---- */

static const char *const choice_names[] = {"fixed", "linear", "exponential", "random"};

int alt_retry_parse(const json_t *v, const char *path, struct alt_retry *out, struct oms_err *err)
{
    char sub[OMS_ERR_PATH_MAX];
    if (!json_is_object(v))
        return bad(err, path, "must be an object");
    static const char *const keys[] = {"choice", "countdown", "max_retries", NULL};
    if (oms_json_check_keys(v, path, keys, NULL, err) != 0)
        return OMS_E_INVAL;
    const json_t *c = json_object_get(v, "choice");
    out->choice = ALT_RETRY_EXPONENTIAL;
    if (c) {
        size_t i;
        for (i = 0; i < OMS_ARRAY_LEN(choice_names); i++) {
            if (json_is_string(c) && strcmp(json_string_value(c), choice_names[i]) == 0)
                break;
        }
        if (i == OMS_ARRAY_LEN(choice_names))
            return bad(err, oms_jpath_key(sub, sizeof(sub), path, "choice"),
                       "one of fixed, linear, exponential, random");
        out->choice = (enum alt_retry_choice)i;
    }
    const json_t *cd = json_object_get(v, "countdown");
    out->countdown_s = 1;
    if (cd) {
        if (!json_is_number(cd) || json_number_value(cd) < 0 || json_number_value(cd) > 86400)
            return bad(err, oms_jpath_key(sub, sizeof(sub), path, "countdown"),
                       "a number of seconds in [0, 86400]");
        out->countdown_s = json_number_value(cd);
    }
    const json_t *mr = json_object_get(v, "max_retries");
    out->max_retries = 5;
    if (mr) {
        if (!json_is_integer(mr) || json_integer_value(mr) < 0 || json_integer_value(mr) > 100)
            return bad(err, oms_jpath_key(sub, sizeof(sub), path, "max_retries"),
                       "an integer in [0, 100]");
        out->max_retries = (int)json_integer_value(mr);
    }
    return 0;
}

json_t *alt_retry_json(const struct alt_retry *r)
{
    json_t *cd = r->countdown_s == floor(r->countdown_s) ? json_integer((json_int_t)r->countdown_s)
                                                         : json_real(r->countdown_s);
    return json_pack("{s:s, s:o, s:i}", "choice", choice_names[r->choice], "countdown", cd,
                     "max_retries", r->max_retries);
}

int alt_retry_attempts(const struct alt_retry *r)
{
    return 1 + r->max_retries;
}

/* xorshift64*: enough for jitter, which needs no secrecy. */
static uint64_t next_random(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

int64_t alt_retry_delay_ms(const struct alt_retry *r, int n, uint64_t *rng)
{
    double c = r->countdown_s * 1000.0, ms;
    double doubling = n > 40 ? ldexp(1.0, 40) : ldexp(1.0, n - 1);
    switch (r->choice) {
    case ALT_RETRY_FIXED:
        ms = c;
        break;
    case ALT_RETRY_LINEAR:
        ms = c * n;
        break;
    case ALT_RETRY_EXPONENTIAL:
        ms = c * doubling;
        break;
    default: {
        double top = c * doubling;
        if (top > (double)DAY_MS)
            top = (double)DAY_MS;
        uint64_t span = (uint64_t)llround(top) + 1;
        return (int64_t)(next_random(rng) % span);
    }
    }
    if (ms > (double)DAY_MS)
        return DAY_MS;
    return (int64_t)llround(ms);
}

/* ---- parsing ---- */

static int status_list(const struct alt_profile *p, const json_t *v, const char *path,
                       int64_t **out, size_t *n, struct oms_err *err)
{
    char sub[OMS_ERR_PATH_MAX];
    *out = NULL;
    *n = 0;
    if (!v)
        return 0;
    if (!json_is_array(v))
        return bad(err, path, "must be an array of statuses");
    *out = oms_xcalloc(json_array_size(v) + 1, sizeof(int64_t));
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        if (alt_profile_status(p, e, &(*out)[i]) != 0)
            return bad(err, oms_jpath_index(sub, sizeof(sub), path, i), "not in statuses");
        (*n)++;
    }
    return 0;
}

static int parse_statuses(struct alt_profile *p, const json_t *v, const char *path,
                          struct oms_err *err)
{
    char sub[OMS_ERR_PATH_MAX], leaf[OMS_ERR_PATH_MAX];
    if (!json_is_array(v) || json_array_size(v) == 0)
        return bad(err, path, "must be a non-empty array");
    p->statuses = oms_xcalloc(json_array_size(v), sizeof(*p->statuses));
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        oms_jpath_index(sub, sizeof(sub), path, i);
        const json_t *name = json_object_get(e, "name");
        const json_t *value = json_object_get(e, "value");
        if (!json_is_string(name) || json_string_length(name) == 0)
            return bad(err, oms_jpath_key(leaf, sizeof(leaf), sub, "name"), "a non-empty string");
        if (!json_is_integer(value))
            return bad(err, oms_jpath_key(leaf, sizeof(leaf), sub, "value"), "an integer");
        for (size_t k = 0; k < p->status_count; k++) {
            if (strcasecmp(p->statuses[k].name, json_string_value(name)) == 0)
                return bad(err, oms_jpath_key(leaf, sizeof(leaf), sub, "name"), "duplicate");
            if (p->statuses[k].value == json_integer_value(value))
                return bad(err, oms_jpath_key(leaf, sizeof(leaf), sub, "value"), "duplicate");
        }
        struct alt_status *st = &p->statuses[p->status_count++];
        st->name = oms_xstrdup(json_string_value(name));
        st->key = make_key(st->name);
        st->value = json_integer_value(value);
    }
    return 0;
}

static void transition_cleanup(struct alt_transition *t)
{
    free(t->slug);
    free(t->sources);
    free(t->delete_reservations_from);
    free(t->delete_discrepancies_from);
    free(t->event_type);
}

static int parse_transition(struct alt_profile *p, const json_t *e, const char *path,
                            struct alt_transition *t, struct oms_err *err)
{
    char leaf[OMS_ERR_PATH_MAX];
    if (!json_is_object(e))
        return bad(err, path, "must be an object");
    const json_t *id = json_object_get(e, "id");
    const json_t *slug = json_object_get(e, "slug");
    t->sync_remote = 1;
    if (!json_is_integer(id) || json_integer_value(id) <= 0)
        return bad(err, oms_jpath_key(leaf, sizeof(leaf), path, "id"), "a positive integer");
    t->id = json_integer_value(id);
    if (!json_is_string(slug) || json_string_length(slug) == 0)
        return bad(err, oms_jpath_key(leaf, sizeof(leaf), path, "slug"), "a non-empty string");
    t->slug = oms_xstrdup(json_string_value(slug));
    if (alt_profile_transition_id(p, t->id))
        return bad(err, oms_jpath_key(leaf, sizeof(leaf), path, "id"), "duplicate");
    if (alt_profile_transition_slug(p, t->slug))
        return bad(err, oms_jpath_key(leaf, sizeof(leaf), path, "slug"), "duplicate");
    if (status_list(p, json_object_get(e, "sources"),
                    oms_jpath_key(leaf, sizeof(leaf), path, "sources"), &t->sources,
                    &t->source_count, err) != 0)
        return OMS_E_INVAL;
    if (t->source_count == 0)
        return bad(err, leaf, "at least one source status");
    if (alt_profile_status(p, json_object_get(e, "target"), &t->target) != 0)
        return bad(err, oms_jpath_key(leaf, sizeof(leaf), path, "target"), "not in statuses");
    if (status_list(p, json_object_get(e, "delete_reservations_from"),
                    oms_jpath_key(leaf, sizeof(leaf), path, "delete_reservations_from"),
                    &t->delete_reservations_from, &t->delete_reservations_count, err) != 0)
        return OMS_E_INVAL;
    if (status_list(p, json_object_get(e, "delete_discrepancies_from"),
                    oms_jpath_key(leaf, sizeof(leaf), path, "delete_discrepancies_from"),
                    &t->delete_discrepancies_from, &t->delete_discrepancies_count, err) != 0)
        return OMS_E_INVAL;
    const json_t *sync = json_object_get(e, "sync_remote");
    if (sync && !json_is_boolean(sync))
        return bad(err, oms_jpath_key(leaf, sizeof(leaf), path, "sync_remote"), "a boolean");
    if (sync)
        t->sync_remote = json_is_true(sync);
    const json_t *ev = json_object_get(e, "event_type");
    if (ev && !json_is_null(ev) && !json_is_string(ev))
        return bad(err, oms_jpath_key(leaf, sizeof(leaf), path, "event_type"), "a string");
    if (json_is_string(ev))
        t->event_type = oms_xstrdup(json_string_value(ev));
    return 0;
}

static int parse_transitions(struct alt_profile *p, const json_t *v, const char *path,
                             struct oms_err *err)
{
    char sub[OMS_ERR_PATH_MAX];
    if (!json_is_array(v))
        return bad(err, path, "must be an array");
    p->transitions = oms_xcalloc(json_array_size(v) + 1, sizeof(*p->transitions));
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        struct alt_transition t = {0};
        if (parse_transition(p, e, oms_jpath_index(sub, sizeof(sub), path, i), &t, err) != 0) {
            transition_cleanup(&t);
            return OMS_E_INVAL;
        }
        p->transitions[p->transition_count++] = t;
    }
    return 0;
}

static int parse_counting(struct alt_profile *p, const json_t *quota, const char *path,
                          struct oms_err *err)
{
    char q[OMS_ERR_PATH_MAX], sub[OMS_ERR_PATH_MAX], leaf[OMS_ERR_PATH_MAX];
    oms_jpath_key(q, sizeof(q), path, "quota");
    if (!json_is_object(quota))
        return bad(err, q, "must be an object with counting");
    const json_t *c = json_object_get(quota, "counting");
    oms_jpath_key(sub, sizeof(sub), q, "counting");
    if (!json_is_object(c))
        return bad(err, sub, "must be an object");
    const json_t *below = json_object_get(c, "below");
    if (below && !json_is_integer(below))
        return bad(err, oms_jpath_key(leaf, sizeof(leaf), sub, "below"), "an integer");
    p->has_count_below = below != NULL;
    p->count_below = below ? json_integer_value(below) : 0;
    return status_list(p, json_object_get(c, "also"),
                       oms_jpath_key(leaf, sizeof(leaf), sub, "also"), &p->count_also,
                       &p->count_also_count, err);
}

static const char *opt_string(const json_t *obj, const char *key, const char *dflt, int *ok)
{
    const json_t *v = json_object_get(obj, key);
    if (!v)
        return dflt;
    if (!json_is_string(v)) {
        *ok = 0;
        return dflt;
    }
    return json_string_value(v);
}

static int parse_omnitron(struct alt_profile *p, const json_t *o, const char *path,
                          struct oms_err *err)
{
    char sub[OMS_ERR_PATH_MAX], leaf[OMS_ERR_PATH_MAX], map_path[OMS_ERR_PATH_MAX];
    oms_jpath_key(sub, sizeof(sub), path, "omnitron");
    if (o && !json_is_object(o))
        return bad(err, sub, "must be an object");
    int ok = 1;
    p->omnitron_method = oms_xstrdup(opt_string(o, "method", "PATCH", &ok));
    if (!ok)
        return bad(err, oms_jpath_key(leaf, sizeof(leaf), sub, "method"), "a string");
    p->omnitron_path =
        oms_xstrdup(opt_string(o, "path", "/api/i1/order_items/bulk_status_update/", &ok));
    if (!ok)
        return bad(err, oms_jpath_key(leaf, sizeof(leaf), sub, "path"), "a string");
    const json_t *map = json_object_get(o, "status_map");
    oms_jpath_key(map_path, sizeof(map_path), sub, "status_map");
    if (map && !json_is_object(map))
        return bad(err, map_path, "must be an object");
    p->remote = oms_xcalloc(json_object_size(map) + 1, sizeof(*p->remote));
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)map, k, v)
    {
        json_t *name = json_string(k);
        int64_t st;
        int rc = alt_profile_status(p, name, &st);
        json_decref(name);
        if (rc != 0)
            return bad(err, oms_jpath_key(leaf, sizeof(leaf), map_path, k), "key not in statuses");
        if (!json_is_string(v))
            return bad(err, oms_jpath_key(leaf, sizeof(leaf), map_path, k), "a string");
        p->remote[p->remote_count].status = st;
        p->remote[p->remote_count++].remote = oms_xstrdup(json_string_value(v));
    }
    return 0;
}

static int parse_delivery(struct alt_profile *p, const json_t *d, const char *path,
                          struct oms_err *err)
{
    char sub[OMS_ERR_PATH_MAX], leaf[OMS_ERR_PATH_MAX];
    oms_jpath_key(sub, sizeof(sub), path, "delivery");
    const struct alt_retry dflt = {ALT_RETRY_EXPONENTIAL, 1, 5};
    p->omnitron_retry = dflt;
    p->webhook_retry = dflt;
    p->timeout_ms = 5000;
    if (!d)
        return 0;
    if (!json_is_object(d))
        return bad(err, sub, "must be an object");
    const json_t *t = json_object_get(d, "timeout_ms");
    if (t && (!json_is_integer(t) || json_integer_value(t) <= 0 || json_integer_value(t) > 600000))
        return bad(err, oms_jpath_key(leaf, sizeof(leaf), sub, "timeout_ms"),
                   "an integer in [1, 600000]");
    if (t)
        p->timeout_ms = json_integer_value(t);
    const json_t *o = json_object_get(d, "omnitron_retry");
    if (o && alt_retry_parse(o, oms_jpath_key(leaf, sizeof(leaf), sub, "omnitron_retry"),
                             &p->omnitron_retry, err) != 0)
        return OMS_E_INVAL;
    const json_t *w = json_object_get(d, "webhook_retry");
    if (w && alt_retry_parse(w, oms_jpath_key(leaf, sizeof(leaf), sub, "webhook_retry"),
                             &p->webhook_retry, err) != 0)
        return OMS_E_INVAL;
    return 0;
}

static int parse_tokens(struct alt_profile *p, const json_t *v, const char *path,
                        struct oms_err *err)
{
    char sub[OMS_ERR_PATH_MAX], leaf[OMS_ERR_PATH_MAX];
    oms_jpath_key(sub, sizeof(sub), path, "tokens");
    if (!json_is_array(v) || json_array_size(v) == 0)
        return bad(err, sub, "a non-empty array of strings");
    p->tokens = oms_xcalloc(json_array_size(v), sizeof(char *));
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e)
    {
        if (!json_is_string(e) || json_string_length(e) == 0)
            return bad(err, oms_jpath_index(leaf, sizeof(leaf), sub, i), "a non-empty string");
        p->tokens[p->token_count++] = oms_xstrdup(json_string_value(e));
    }
    return 0;
}

static int parse_rest(struct alt_profile *p, const json_t *doc, const char *path,
                      struct oms_err *err)
{
    char sub[OMS_ERR_PATH_MAX], leaf[OMS_ERR_PATH_MAX];
    const json_t *sync = json_object_get(doc, "sync_remote_order_status_default");
    if (sync && !json_is_boolean(sync))
        return bad(err, oms_jpath_key(sub, sizeof(sub), path, "sync_remote_order_status_default"),
                   "a boolean");
    p->sync_default = sync ? json_is_true(sync) : 1;

    const json_t *limits = json_object_get(doc, "limits");
    const json_t *mb = json_object_get(limits, "max_body_bytes");
    p->max_body_bytes = 65536;
    oms_jpath_key(sub, sizeof(sub), path, "limits");
    if (limits && !json_is_object(limits))
        return bad(err, sub, "must be an object");
    if (mb && (!json_is_integer(mb) || json_integer_value(mb) <= 0 ||
               json_integer_value(mb) > 16 * 1024 * 1024))
        return bad(err, oms_jpath_key(leaf, sizeof(leaf), sub, "max_body_bytes"),
                   "an integer in [1, 16777216]");
    if (mb)
        p->max_body_bytes = (size_t)json_integer_value(mb);

    const json_t *wh = json_object_get(doc, "webhook");
    oms_jpath_key(sub, sizeof(sub), path, "webhook");
    if (wh && !json_is_object(wh))
        return bad(err, sub, "must be an object");
    int ok = 1;
    p->signature_header =
        oms_xstrdup(opt_string(wh, "signature_header", "X-Akinon-Signature", &ok));
    if (!ok)
        return bad(err, oms_jpath_key(leaf, sizeof(leaf), sub, "signature_header"), "a string");
    p->signature_prefix = oms_xstrdup(opt_string(wh, "signature_prefix", "sha256=", &ok));
    if (!ok)
        return bad(err, oms_jpath_key(leaf, sizeof(leaf), sub, "signature_prefix"), "a string");

    const json_t *life = json_object_get(doc, "lifecycle");
    const json_t *plan = json_object_get(life, "plan_status");
    if (plan) {
        oms_jpath_key(sub, sizeof(sub), path, "lifecycle");
        if (alt_profile_status(p, plan, &p->plan_status) != 0)
            return bad(err, oms_jpath_key(leaf, sizeof(leaf), sub, "plan_status"),
                       "not in statuses");
        p->has_plan_status = 1;
    }
    return 0;
}

int alt_profile_parse(const json_t *doc, const char *path, struct alt_profile **out,
                      struct oms_err *err)
{
    char sub[OMS_ERR_PATH_MAX];
    *out = NULL;
    if (!json_is_object(doc))
        return bad(err, path, "a profile must be an object");
    struct alt_profile *p = OMS_NEW(struct alt_profile);
    p->doc = json_deep_copy(doc);
    int rc = parse_statuses(p, json_object_get(doc, "statuses"),
                            oms_jpath_key(sub, sizeof(sub), path, "statuses"), err);
    if (rc == 0)
        rc = parse_transitions(p, json_object_get(doc, "transitions"),
                               oms_jpath_key(sub, sizeof(sub), path, "transitions"), err);
    if (rc == 0)
        rc = parse_counting(p, json_object_get(doc, "quota"), path, err);
    if (rc == 0)
        rc = parse_omnitron(p, json_object_get(doc, "omnitron"), path, err);
    if (rc == 0)
        rc = parse_tokens(p, json_object_get(doc, "tokens"), path, err);
    if (rc == 0)
        rc = parse_delivery(p, json_object_get(doc, "delivery"), path, err);
    if (rc == 0)
        rc = parse_rest(p, doc, path, err);
    if (rc != 0) {
        alt_profile_destroy(p);
        return OMS_E_INVAL;
    }
    *out = p;
    return 0;
}

int alt_profile_load_file(const char *file, struct alt_profile **out, struct oms_err *err)
{
    *out = NULL;
    json_t *doc = oms_json_load_file(file, err);
    if (!doc)
        return OMS_E_INVAL;
    int rc = alt_profile_parse(doc, "$", out, err);
    json_decref(doc);
    if (rc != 0)
        oms_err_set_source(err, file);
    return rc;
}

void alt_profile_destroy(struct alt_profile *p)
{
    if (!p)
        return;
    json_decref(p->doc);
    for (size_t i = 0; i < p->status_count; i++) {
        free(p->statuses[i].name);
        free(p->statuses[i].key);
    }
    free(p->statuses);
    for (size_t i = 0; i < p->transition_count; i++)
        transition_cleanup(&p->transitions[i]);
    free(p->transitions);
    free(p->count_also);
    free(p->omnitron_method);
    free(p->omnitron_path);
    for (size_t i = 0; i < p->remote_count; i++)
        free(p->remote[i].remote);
    free(p->remote);
    for (size_t i = 0; i < p->token_count; i++)
        free(p->tokens[i]);
    free(p->tokens);
    free(p->signature_header);
    free(p->signature_prefix);
    free(p);
}
