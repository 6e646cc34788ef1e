/* oms_profile: parsing, validation and lookups of installation data. */
#include "oms_profile.h"

#include "oms_crypto.h"

#include "oms_alloc.h"
#include "oms_json.h"
#include "oms_retry.h"

#include <ctype.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct status_map_entry {
    int64_t status;
    char *remote;
};

struct oms_profile {
    atomic_int refs;
    json_t *doc;
    char *name;
    struct oms_profile_status *statuses;
    size_t status_count;
    struct oms_profile_transition *transitions;
    size_t transition_count;
    struct status_map_entry *status_map;
    size_t status_map_count;
    char *omnitron_method;
    char *omnitron_path;
    int sync_default;
    char **tokens;
    unsigned char (*token_digests)[OMS_SHA256_LEN]; /* SHA-256 of each, for oms_profile_token_ok */
    size_t token_count;
    size_t max_body;
    char *signature_header;
    char *signature_prefix;
    char *plan_status; /* name of the status planning creates packages in */
    int64_t delivery_timeout_ms;
    json_t *omnitron_retry; /* borrowed from doc, may be NULL */
    json_t *webhook_retry;
    json_t *lifecycle; /* action -> array of transition slugs (borrowed from doc) */
    /* Indexes, so loading and lookups take time linear in the profile's size: each maps a key
     * to the position of its status or transition. */
    json_t *status_by_value; /* "100" */
    json_t *status_by_name;  /* lower-case name */
    json_t *status_by_key;   /* lower-case key */
    json_t *transition_by_id;
    json_t *transition_by_slug;
};

/* ---- parse helpers ------------------------------------------------------------------------ */

struct ctx {
    const char *source;
    struct oms_err *err;
};

static int fail(struct ctx *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct ctx *c, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    oms_err_vset(c->err, OMS_E_INVAL, c->source, 0, 0, path, fmt, ap);
    va_end(ap);
    return OMS_E_INVAL;
}

/* Refuses keys outside allowed (a NULL-terminated list). */
static int only_keys(struct ctx *c, const json_t *obj, const char *path, const char *const *allowed)
{
    return oms_json_check_keys(obj, path, allowed, c->source, c->err);
}

static int get_string(struct ctx *c, const json_t *obj, const char *path, const char *key,
                      int required, char **out)
{
    char p[OMS_ERR_PATH_MAX];
    json_t *v = json_object_get(obj, key);
    oms_jpath_key(p, sizeof(p), path, key);
    if (!v) {
        if (required)
            return fail(c, p, "missing required string \"%s\"", key);
        return 0;
    }
    if (!json_is_string(v) || json_string_length(v) == 0)
        return fail(c, p, "expected a non-empty string, found %s", oms_json_type_name(v));
    free(*out);
    *out = oms_xstrdup(json_string_value(v));
    return 0;
}

static int get_bool(struct ctx *c, const json_t *obj, const char *path, const char *key, int *out)
{
    char p[OMS_ERR_PATH_MAX];
    json_t *v = json_object_get(obj, key);
    if (!v)
        return 0;
    if (!json_is_boolean(v))
        return fail(c, oms_jpath_key(p, sizeof(p), path, key), "expected true or false, found %s",
                    oms_json_type_name(v));
    *out = json_is_true(v);
    return 0;
}

static void make_key(const char *name, char *out, size_t size)
{
    size_t n = 0;
    for (const char *s = name; *s && n + 1 < size; s++)
        out[n++] = isalnum((unsigned char)*s) ? (char)tolower((unsigned char)*s) : '_';
    out[n] = '\0';
}

/* ---- indexes ------------------------------------------------------------------------------ */

/* The index key of a name: a new lower-case copy, as strcasecmp compares (ASCII). */
static char *fold(const char *s)
{
    char *out = oms_xstrdup(s);
    for (char *q = out; *q; q++)
        *q = (char)tolower((unsigned char)*q);
    return out;
}

/* Position i of the entry under key, or -1. */
static long long index_get(const json_t *index, const char *key)
{
    json_t *v = json_object_get(index, key);
    return v ? (long long)json_integer_value(v) : -1;
}

static long long index_get_number(const json_t *index, int64_t n)
{
    char key[32];
    snprintf(key, sizeof(key), "%lld", (long long)n);
    return index_get(index, key);
}

/* Position of the first status named s (its name or its key, case-insensitively), or -1. */
static long long index_get_name(const struct oms_profile *p, const char *s)
{
    char *folded = fold(s);
    long long by_name = index_get(p->status_by_name, folded);
    long long by_key = index_get(p->status_by_key, folded);
    free(folded);
    if (by_name < 0)
        return by_key;
    return by_key < 0 || by_name < by_key ? by_name : by_key;
}

static void index_set(json_t *index, const char *key, size_t i)
{
    json_object_set_new(index, key, json_integer((json_int_t)i));
}

/* ---- lookups used while parsing and after ------------------------------------------------- */

const struct oms_profile_status *oms_profile_status_by_value(const struct oms_profile *p,
                                                             int64_t value)
{
    long long i = index_get_number(p->status_by_value, value);
    return i >= 0 ? &p->statuses[i] : NULL;
}

/* What oms_profile_status_resolve reads as a status number: digits only, no leading zero. */
static int is_status_number(const char *s)
{
    size_t digits = strspn(s, "0123456789");
    return digits > 0 && digits < 19 && s[digits] == '\0' && (s[0] != '0' || digits == 1);
}

int oms_profile_status_resolve(const struct oms_profile *p, const json_t *ref, int64_t *value)
{
    if (json_is_integer(ref)) {
        int64_t v = json_integer_value(ref);
        if (!oms_profile_status_by_value(p, v))
            return OMS_E_NOENT;
        *value = v;
        return 0;
    }
    if (!json_is_string(ref))
        return OMS_E_NOENT;
    const char *s = json_string_value(ref);
    /* A numeric string is digits only: " 1100", "+1100" and "01100" are not status numbers. */
    if (is_status_number(s)) {
        long long n = strtoll(s, NULL, 10);
        if (!oms_profile_status_by_value(p, n))
            return OMS_E_NOENT;
        *value = n;
        return 0;
    }
    long long i = index_get_name(p, s);
    if (i < 0)
        return OMS_E_NOENT;
    *value = p->statuses[i].value;
    return 0;
}

static int resolve_at(struct ctx *c, const struct oms_profile *p, const json_t *ref,
                      const char *path, int64_t *out)
{
    if (oms_profile_status_resolve(p, ref, out) == 0)
        return 0;
    char *text = oms_json_dumps(ref);
    fail(c, path,
         "%s does not name a status of the catalogue (give a name such as \"Waiting\" "
         "or a number such as 100)",
         text);
    free(text);
    return OMS_E_INVAL;
}

static int status_list(struct ctx *c, const struct oms_profile *p, const json_t *obj,
                       const char *path, const char *key, int required, int64_t **out,
                       size_t *count)
{
    char p1[OMS_ERR_PATH_MAX], p2[OMS_ERR_PATH_MAX];
    json_t *arr = json_object_get(obj, key);
    oms_jpath_key(p1, sizeof(p1), path, key);
    *out = NULL;
    *count = 0;
    if (!arr)
        return required ? fail(c, p1, "missing required list of statuses \"%s\"", key) : 0;
    if (!json_is_array(arr))
        return fail(c, p1, "expected a list of statuses, found %s", oms_json_type_name(arr));
    *out = oms_xcalloc(json_array_size(arr) + 1, sizeof(**out));
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (resolve_at(c, p, v, oms_jpath_index(p2, sizeof(p2), p1, i), &(*out)[i]) != 0)
            return OMS_E_INVAL;
        (*count)++;
    }
    return 0;
}

/* ---- sections ----------------------------------------------------------------------------- */

/* A status's number, name and key must each find it and nothing else: no number, name or key
 * of an earlier status is reused, a name or key is never another status's name or key, and
 * none reads as a number (those name statuses by value). */
static int check_status_names(struct ctx *c, const struct oms_profile *p,
                              const struct oms_profile_status *st, const char *path)
{
    long long other = index_get_number(p->status_by_value, st->value);
    if (other >= 0)
        return fail(c, path, "status number %lld is used twice (\"%s\" and \"%s\")",
                    (long long)st->value, p->statuses[other].name, st->name);
    if (is_status_number(st->name) || is_status_number(st->key))
        return fail(c, path,
                    "status name \"%s\" or key \"%s\" reads as a status number; numbers name "
                    "statuses by value",
                    st->name, st->key);
    other = index_get_name(p, st->name);
    if (other >= 0)
        return fail(c, path, "status name \"%s\" is used twice (as the name or key of \"%s\")",
                    st->name, p->statuses[other].name);
    other = index_get_name(p, st->key);
    if (other >= 0)
        return fail(c, path, "status key \"%s\" is used twice (\"%s\" and \"%s\")", st->key,
                    p->statuses[other].name, st->name);
    return 0;
}

static int parse_statuses(struct ctx *c, struct oms_profile *p, const json_t *arr)
{
    static const char *const keys[] = {"name", "value", "key", "published", NULL};
    char path[OMS_ERR_PATH_MAX];
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return fail(c, "$.statuses", "expected a non-empty list of statuses");
    p->status_count = json_array_size(arr);
    p->statuses = oms_xcalloc(p->status_count, sizeof(*p->statuses));
    size_t i;
    json_t *s;
    json_array_foreach(arr, i, s)
    {
        struct oms_profile_status *st = &p->statuses[i];
        oms_jpath_index(path, sizeof(path), "$.statuses", i);
        if (!json_is_object(s))
            return fail(c, path, "expected a status object, found %s", oms_json_type_name(s));
        if (only_keys(c, s, path, keys) || get_string(c, s, path, "name", 1, &st->name) ||
            get_string(c, s, path, "key", 0, &st->key) ||
            get_bool(c, s, path, "published", &st->published))
            return OMS_E_INVAL;
        char p2[OMS_ERR_PATH_MAX];
        json_t *v = json_object_get(s, "value");
        if (!json_is_integer(v) || json_integer_value(v) <= 0)
            return fail(c, oms_jpath_key(p2, sizeof(p2), path, "value"),
                        "expected a positive integer status number, found %s",
                        oms_json_type_name(v));
        st->value = json_integer_value(v);
        if (!st->key) {
            char key[128];
            make_key(st->name, key, sizeof(key));
            st->key = oms_xstrdup(key);
        }
        if (check_status_names(c, p, st, path) != 0)
            return OMS_E_INVAL;
        char *folded = fold(st->name);
        index_set(p->status_by_name, folded, i);
        free(folded);
        folded = fold(st->key);
        index_set(p->status_by_key, folded, i);
        free(folded);
        char number[32];
        snprintf(number, sizeof(number), "%lld", (long long)st->value);
        index_set(p->status_by_value, number, i);
    }
    return 0;
}

static int valid_slug(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
            return 0;
    return 1;
}

static int parse_transitions(struct ctx *c, struct oms_profile *p, const json_t *arr)
{
    static const char *const keys[] = {"id",
                                       "slug",
                                       "name",
                                       "sources",
                                       "target",
                                       "delete_reservations_from",
                                       "delete_discrepancies_from",
                                       "sync_remote",
                                       "event_type",
                                       NULL};
    char path[OMS_ERR_PATH_MAX], p2[OMS_ERR_PATH_MAX];
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return fail(c, "$.transitions", "expected a non-empty list of transitions");
    p->transition_count = json_array_size(arr);
    p->transitions = oms_xcalloc(p->transition_count, sizeof(*p->transitions));
    size_t i;
    json_t *t;
    json_array_foreach(arr, i, t)
    {
        struct oms_profile_transition *tr = &p->transitions[i];
        oms_jpath_index(path, sizeof(path), "$.transitions", i);
        if (!json_is_object(t))
            return fail(c, path, "expected a transition object, found %s", oms_json_type_name(t));
        if (only_keys(c, t, path, keys))
            return OMS_E_INVAL;
        json_t *id = json_object_get(t, "id");
        if (!json_is_integer(id) || json_integer_value(id) <= 0)
            return fail(c, oms_jpath_key(p2, sizeof(p2), path, "id"),
                        "expected a positive integer transition id, found %s",
                        oms_json_type_name(id));
        tr->id = json_integer_value(id);
        if (get_string(c, t, path, "slug", 1, &tr->slug) ||
            get_string(c, t, path, "name", 0, &tr->name) ||
            get_string(c, t, path, "event_type", 0, &tr->event_type) ||
            get_bool(c, t, path, "sync_remote", &tr->sync_remote))
            return OMS_E_INVAL;
        if (!valid_slug(tr->slug))
            return fail(c, oms_jpath_key(p2, sizeof(p2), path, "slug"),
                        "slug \"%s\" may hold only letters, digits, '-' and '_'", tr->slug);
        if (!tr->name)
            tr->name = oms_xstrdup(tr->slug);
        if (status_list(c, p, t, path, "sources", 1, &tr->sources, &tr->source_count) ||
            status_list(c, p, t, path, "delete_reservations_from", 0, &tr->delete_reservations_from,
                        &tr->delete_reservations_count) ||
            status_list(c, p, t, path, "delete_discrepancies_from", 0,
                        &tr->delete_discrepancies_from, &tr->delete_discrepancies_count))
            return OMS_E_INVAL;
        json_t *target = json_object_get(t, "target");
        if (!target)
            return fail(c, oms_jpath_key(p2, sizeof(p2), path, "target"),
                        "missing required target status");
        if (resolve_at(c, p, target, oms_jpath_key(p2, sizeof(p2), path, "target"), &tr->target))
            return OMS_E_INVAL;
        if (index_get_number(p->transition_by_id, tr->id) >= 0)
            return fail(c, path, "transition id %lld is used twice", (long long)tr->id);
        if (index_get(p->transition_by_slug, tr->slug) >= 0)
            return fail(c, path, "transition slug \"%s\" is used twice", tr->slug);
        char number[32];
        snprintf(number, sizeof(number), "%lld", (long long)tr->id);
        index_set(p->transition_by_id, number, i);
        index_set(p->transition_by_slug, tr->slug, i);
    }
    return 0;
}

static int parse_quota(struct ctx *c, struct oms_profile *p, const json_t *q)
{
    static const char *const qkeys[] = {"counting", NULL};
    static const char *const ckeys[] = {"below", "also", "statuses", NULL};
    if (!json_is_object(q))
        return fail(c, "$.quota", "expected an object with \"counting\"");
    if (only_keys(c, q, "$.quota", qkeys))
        return OMS_E_INVAL;
    json_t *counting = json_object_get(q, "counting");
    if (!json_is_object(counting))
        return fail(c, "$.quota.counting",
                    "expected {\"below\": N, \"also\": [statuses]} or {\"statuses\": [...]}");
    if (only_keys(c, counting, "$.quota.counting", ckeys))
        return OMS_E_INVAL;
    json_t *below = json_object_get(counting, "below");
    if (below && !json_is_integer(below))
        return fail(c, "$.quota.counting.below", "expected an integer status number");
    for (size_t i = 0; i < p->status_count; i++)
        p->statuses[i].counts = below && p->statuses[i].value < json_integer_value(below);
    int64_t *list = NULL;
    size_t n = 0;
    const char *names[] = {"also", "statuses"};
    for (size_t k = 0; k < 2; k++) {
        if (status_list(c, p, counting, "$.quota.counting", names[k], 0, &list, &n)) {
            free(list);
            return OMS_E_INVAL;
        }
        for (size_t i = 0; i < n; i++)
            p->statuses[index_get_number(p->status_by_value, list[i])].counts = 1;
        free(list);
        list = NULL;
    }
    return 0;
}

static int parse_omnitron(struct ctx *c, struct oms_profile *p, const json_t *o)
{
    static const char *const keys[] = {"method", "path", "status_map", NULL};
    if (!json_is_object(o))
        return fail(c, "$.omnitron", "expected an object with method, path and status_map");
    if (only_keys(c, o, "$.omnitron", keys) ||
        get_string(c, o, "$.omnitron", "method", 1, &p->omnitron_method) ||
        get_string(c, o, "$.omnitron", "path", 1, &p->omnitron_path))
        return OMS_E_INVAL;
    if (p->omnitron_path[0] != '/')
        return fail(c, "$.omnitron.path", "expected a path starting with '/'");
    json_t *map = json_object_get(o, "status_map");
    if (!json_is_object(map))
        return fail(c, "$.omnitron.status_map",
                    "expected an object mapping OMS statuses to Omnitron statuses");
    p->status_map = oms_xcalloc(json_object_size(map) + 1, sizeof(*p->status_map));
    const char *key;
    json_t *v;
    json_object_foreach(map, key, v)
    {
        char path[OMS_ERR_PATH_MAX];
        oms_jpath_key(path, sizeof(path), "$.omnitron.status_map", key);
        json_t *ref = json_string(key);
        int64_t status = 0;
        int rc = resolve_at(c, p, ref, path, &status);
        json_decref(ref);
        if (rc)
            return OMS_E_INVAL;
        if (!json_is_string(v) || json_string_length(v) == 0)
            return fail(c, path, "expected the Omnitron status as a non-empty string");
        p->status_map[p->status_map_count].status = status;
        p->status_map[p->status_map_count].remote = oms_xstrdup(json_string_value(v));
        p->status_map_count++;
    }
    return 0;
}

static int parse_tokens(struct ctx *c, struct oms_profile *p, const json_t *arr)
{
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return fail(c, "$.tokens", "expected a non-empty list of API tokens");
    p->tokens = oms_xcalloc(json_array_size(arr), sizeof(char *));
    p->token_digests = oms_xcalloc(json_array_size(arr), sizeof(*p->token_digests));
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        char path[OMS_ERR_PATH_MAX];
        if (!json_is_string(v) || json_string_length(v) == 0)
            return fail(c, oms_jpath_index(path, sizeof(path), "$.tokens", i),
                        "expected a non-empty token string");
        oms_sha256(json_string_value(v), strlen(json_string_value(v)),
                   p->token_digests[p->token_count]);
        p->tokens[p->token_count++] = oms_xstrdup(json_string_value(v));
    }
    return 0;
}

static int parse_limits(struct ctx *c, struct oms_profile *p, const json_t *l)
{
    static const char *const keys[] = {"max_body_bytes", NULL};
    p->max_body = 65536;
    if (!l)
        return 0;
    if (!json_is_object(l) || only_keys(c, l, "$.limits", keys))
        return oms_err_isset(c->err) ? OMS_E_INVAL
                                     : fail(c, "$.limits", "expected {\"max_body_bytes\": N}");
    json_t *m = json_object_get(l, "max_body_bytes");
    if (m) {
        if (!json_is_integer(m) || json_integer_value(m) < 16 ||
            json_integer_value(m) > 1024 * 1024)
            return fail(c, "$.limits.max_body_bytes",
                        "expected an integer between 16 and 1048576 bytes");
        p->max_body = (size_t)json_integer_value(m);
    }
    return 0;
}

static int parse_webhook(struct ctx *c, struct oms_profile *p, const json_t *w)
{
    static const char *const keys[] = {"signature_header", "signature_prefix", NULL};
    p->signature_header = oms_xstrdup("X-Akinon-Signature");
    p->signature_prefix = oms_xstrdup("sha256=");
    if (!w)
        return 0;
    if (!json_is_object(w))
        return fail(c, "$.webhook", "expected an object");
    if (only_keys(c, w, "$.webhook", keys) ||
        get_string(c, w, "$.webhook", "signature_header", 0, &p->signature_header))
        return OMS_E_INVAL;
    json_t *prefix = json_object_get(w, "signature_prefix");
    if (prefix) {
        if (!json_is_string(prefix))
            return fail(c, "$.webhook.signature_prefix", "expected a string");
        free(p->signature_prefix);
        p->signature_prefix = oms_xstrdup(json_string_value(prefix));
    }
    return 0;
}

/* SPEC O-2: delivery timeout and retry policies. */
static int parse_delivery(struct ctx *c, struct oms_profile *p, json_t *d)
{
    static const char *const keys[] = {"timeout_ms", "omnitron_retry", "webhook_retry", NULL};
    p->delivery_timeout_ms = 5000;
    if (!d)
        return 0;
    if (!json_is_object(d))
        return fail(c, "$.delivery", "expected an object");
    if (only_keys(c, d, "$.delivery", keys))
        return OMS_E_INVAL;
    json_t *t = json_object_get(d, "timeout_ms");
    if (t) {
        if (!json_is_integer(t) || json_integer_value(t) < 10 || json_integer_value(t) > 600000)
            return fail(c, "$.delivery.timeout_ms", "expected milliseconds between 10 and 600000");
        p->delivery_timeout_ms = json_integer_value(t);
    }
    p->omnitron_retry = json_object_get(d, "omnitron_retry");
    p->webhook_retry = json_object_get(d, "webhook_retry");
    if (oms_retry_validate(p->omnitron_retry, "$.delivery.omnitron_retry", c->err) ||
        oms_retry_validate(p->webhook_retry, "$.delivery.webhook_retry", c->err)) {
        oms_err_set_source(c->err, c->source);
        return OMS_E_INVAL;
    }
    return 0;
}

/* The annotations: version, description, and the readings of the documentation the profile takes
 * (docs/spec.md, A-n), which the reports list. Read by nothing else, but checked as the schema
 * (spec/profile.schema.json) describes them, so the two never disagree. */
static int parse_annotations(struct ctx *c, const json_t *doc)
{
    static const char *const keys[] = {"id", "text", NULL};
    json_t *v = json_object_get(doc, "version");
    if (v && (!json_is_integer(v) || json_integer_value(v) < 1))
        return fail(c, "$.version", "expected an integer of at least 1, found %s",
                    oms_json_type_name(v));
    v = json_object_get(doc, "description");
    if (v && !json_is_string(v))
        return fail(c, "$.description", "expected a string, found %s", oms_json_type_name(v));
    json_t *list = json_object_get(doc, "assumptions");
    if (!list)
        return 0;
    if (!json_is_array(list))
        return fail(c, "$.assumptions", "expected a list of {\"id\": \"A-n\", \"text\": ...}");
    size_t i;
    json_t *a;
    json_array_foreach(list, i, a)
    {
        char path[OMS_ERR_PATH_MAX], p2[OMS_ERR_PATH_MAX];
        oms_jpath_index(path, sizeof(path), "$.assumptions", i);
        if (!json_is_object(a))
            return fail(c, path, "expected {\"id\": \"A-n\", \"text\": ...}, found %s",
                        oms_json_type_name(a));
        if (only_keys(c, a, path, keys))
            return OMS_E_INVAL;
        const char *id = json_string_value(json_object_get(a, "id"));
        if (!id || strncmp(id, "A-", 2) != 0 || !id[2] ||
            strspn(id + 2, "0123456789") != strlen(id + 2))
            return fail(c, oms_jpath_key(p2, sizeof(p2), path, "id"),
                        "expected an assumption id such as \"A-3\"");
        json_t *text = json_object_get(a, "text");
        if (!json_is_string(text) || json_string_length(text) == 0)
            return fail(c, oms_jpath_key(p2, sizeof(p2), path, "text"),
                        "expected the reading in words, a non-empty string");
    }
    return 0;
}

/* SPEC P-2: lifecycle actions as sequences of transition slugs. */
static int parse_lifecycle(struct ctx *c, struct oms_profile *p, const json_t *lc)
{
    p->plan_status = oms_xstrdup("Waiting");
    if (!lc)
        return 0;
    if (!json_is_object(lc))
        return fail(c, "$.lifecycle", "expected an object of actions");
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)lc, key, v)
    {
        char path[OMS_ERR_PATH_MAX], ip[OMS_ERR_PATH_MAX];
        oms_jpath_key(path, sizeof(path), "$.lifecycle", key);
        if (strcmp(key, "plan_status") == 0) {
            int64_t value;
            if (resolve_at(c, p, v, path, &value))
                return OMS_E_INVAL;
            free(p->plan_status);
            p->plan_status = oms_xstrdup(oms_profile_status_by_value(p, value)->name);
            continue;
        }
        if (!json_is_array(v) || json_array_size(v) == 0)
            return fail(c, path, "expected a non-empty list of transition slugs");
        size_t i;
        json_t *slug;
        json_array_foreach(v, i, slug)
        {
            oms_jpath_index(ip, sizeof(ip), path, i);
            if (!json_is_string(slug) ||
                !oms_profile_transition_by_slug(p, json_string_value(slug)))
                return fail(c, ip, "expected the slug of a transition of this profile");
        }
    }
    p->lifecycle = (json_t *)lc;
    return 0;
}

static void profile_free(struct oms_profile *p)
{
    json_decref(p->status_by_value);
    json_decref(p->status_by_name);
    json_decref(p->status_by_key);
    json_decref(p->transition_by_id);
    json_decref(p->transition_by_slug);
    json_decref(p->doc);
    free(p->name);
    for (size_t i = 0; i < p->status_count; i++) {
        free(p->statuses[i].name);
        free(p->statuses[i].key);
    }
    free(p->statuses);
    for (size_t i = 0; i < p->transition_count; i++) {
        struct oms_profile_transition *t = &p->transitions[i];
        free(t->slug);
        free(t->name);
        free(t->sources);
        free(t->delete_reservations_from);
        free(t->delete_discrepancies_from);
        free(t->event_type);
    }
    free(p->transitions);
    for (size_t i = 0; i < p->status_map_count; i++)
        free(p->status_map[i].remote);
    free(p->status_map);
    free(p->omnitron_method);
    free(p->omnitron_path);
    for (size_t i = 0; i < p->token_count; i++)
        free(p->tokens[i]);
    free(p->tokens);
    free(p->token_digests);
    free(p->signature_header);
    free(p->signature_prefix);
    free(p->plan_status);
    free(p);
}

int oms_profile_from_json(const json_t *doc, const char *source, struct oms_profile **out,
                          struct oms_err *err)
{
    static const char *const keys[] = {
        "name",        "version",  "description",
        "assumptions", "statuses", "transitions",
        "quota",       "omnitron", "sync_remote_order_status_default",
        "tokens",      "limits",   "webhook",
        "lifecycle",   "delivery", NULL};
    struct ctx c = {source, err};
    if (!json_is_object(doc))
        return fail(&c, "$", "expected a profile object, found %s", oms_json_type_name(doc));
    struct oms_profile *p = OMS_NEW(struct oms_profile);
    atomic_init(&p->refs, 1);
    p->doc = json_deep_copy(doc);
    p->sync_default = 1;
    p->status_by_value = json_object();
    p->status_by_name = json_object();
    p->status_by_key = json_object();
    p->transition_by_id = json_object();
    p->transition_by_slug = json_object();
    int rc = only_keys(&c, doc, "$", keys);
    if (!rc)
        rc = get_string(&c, doc, "$", "name", 0, &p->name);
    if (!rc)
        rc = parse_annotations(&c, doc);
    if (!rc)
        rc = parse_statuses(&c, p, json_object_get(doc, "statuses"));
    if (!rc)
        rc = parse_transitions(&c, p, json_object_get(doc, "transitions"));
    if (!rc)
        rc = parse_quota(&c, p, json_object_get(doc, "quota"));
    if (!rc)
        rc = parse_omnitron(&c, p, json_object_get(doc, "omnitron"));
    if (!rc)
        rc = get_bool(&c, doc, "$", "sync_remote_order_status_default", &p->sync_default);
    if (!rc)
        rc = parse_tokens(&c, p, json_object_get(doc, "tokens"));
    if (!rc)
        rc = parse_limits(&c, p, json_object_get(doc, "limits"));
    if (!rc)
        rc = parse_webhook(&c, p, json_object_get(doc, "webhook"));
    if (!rc)
        rc = parse_lifecycle(&c, p, json_object_get(p->doc, "lifecycle"));
    if (!rc)
        rc = parse_delivery(&c, p, json_object_get(p->doc, "delivery"));
    if (!rc && !p->name)
        p->name = oms_xstrdup("unnamed profile");
    if (rc) {
        profile_free(p);
        return OMS_E_INVAL;
    }
    *out = p;
    return 0;
}

int oms_profile_load_file(const char *path, struct oms_profile **out, struct oms_err *err)
{
    json_t *doc = oms_json_load_file(path, err);
    if (!doc)
        return err && err->code ? err->code : OMS_E_IO;
    int rc = oms_profile_from_json(doc, path, out, err);
    json_decref(doc);
    return rc;
}

int oms_profile_with_overrides(const struct oms_profile *base, const json_t *patch,
                               struct oms_profile **out, struct oms_err *err)
{
    if (!json_is_object(patch)) {
        oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, "$",
                    "profile overrides must be an object, found %s", oms_json_type_name(patch));
        return OMS_E_INVAL;
    }
    json_t *doc = json_deep_copy(base->doc);
    oms_json_merge(doc, patch);
    int rc = oms_profile_from_json(doc, "profile overrides", out, err);
    json_decref(doc);
    return rc;
}

struct oms_profile *oms_profile_ref(struct oms_profile *p)
{
    atomic_fetch_add(&p->refs, 1);
    return p;
}

void oms_profile_unref(struct oms_profile *p)
{
    if (p && atomic_fetch_sub(&p->refs, 1) == 1)
        profile_free(p);
}

const json_t *oms_profile_json(const struct oms_profile *p)
{
    return p->doc;
}

const char *oms_profile_name(const struct oms_profile *p)
{
    return p->name;
}

size_t oms_profile_status_count(const struct oms_profile *p)
{
    return p->status_count;
}

const struct oms_profile_status *oms_profile_status_at(const struct oms_profile *p, size_t i)
{
    return i < p->status_count ? &p->statuses[i] : NULL;
}

char *oms_profile_status_label(const struct oms_profile *p, int64_t value, char *out, size_t size)
{
    const struct oms_profile_status *s = oms_profile_status_by_value(p, value);
    if (s)
        snprintf(out, size, "%s (%lld)", s->name, (long long)value);
    else
        snprintf(out, size, "unknown status (%lld)", (long long)value);
    return out;
}

const struct oms_profile_transition *oms_profile_transition_by_id(const struct oms_profile *p,
                                                                  int64_t id)
{
    long long i = index_get_number(p->transition_by_id, id);
    return i >= 0 ? &p->transitions[i] : NULL;
}

const struct oms_profile_transition *oms_profile_transition_by_slug(const struct oms_profile *p,
                                                                    const char *slug)
{
    long long i = index_get(p->transition_by_slug, slug);
    return i >= 0 ? &p->transitions[i] : NULL;
}

size_t oms_profile_transition_count(const struct oms_profile *p)
{
    return p->transition_count;
}

const struct oms_profile_transition *oms_profile_transition_at(const struct oms_profile *p,
                                                               size_t i)
{
    return i < p->transition_count ? &p->transitions[i] : NULL;
}

static int in_list(const int64_t *list, size_t n, int64_t v)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == v)
            return 1;
    return 0;
}

int oms_profile_transition_allows(const struct oms_profile_transition *t, int64_t source)
{
    return in_list(t->sources, t->source_count, source);
}

int oms_profile_transition_deletes_reservations(const struct oms_profile_transition *t,
                                                int64_t source)
{
    return in_list(t->delete_reservations_from, t->delete_reservations_count, source);
}

int oms_profile_transition_deletes_discrepancies(const struct oms_profile_transition *t,
                                                 int64_t source)
{
    return in_list(t->delete_discrepancies_from, t->delete_discrepancies_count, source);
}

int oms_profile_counts(const struct oms_profile *p, int64_t status)
{
    const struct oms_profile_status *s = oms_profile_status_by_value(p, status);
    return s && s->counts;
}

int oms_profile_quota_delta(const struct oms_profile *p, int64_t from, int64_t to)
{
    return oms_profile_counts(p, to) - oms_profile_counts(p, from);
}

const char *oms_profile_omnitron_status(const struct oms_profile *p, int64_t status)
{
    for (size_t i = 0; i < p->status_map_count; i++)
        if (p->status_map[i].status == status)
            return p->status_map[i].remote;
    return NULL;
}

const char *oms_profile_omnitron_method(const struct oms_profile *p)
{
    return p->omnitron_method;
}

const char *oms_profile_omnitron_path(const struct oms_profile *p)
{
    return p->omnitron_path;
}

int oms_profile_sync_default(const struct oms_profile *p)
{
    return p->sync_default;
}

int oms_profile_token_ok(const struct oms_profile *p, const char *token)
{
    if (!token)
        return 0;
    /* Every token is compared, in constant time, whatever matches first: digests, so neither
     * where they differ nor their lengths show (oms_secret_equal's way, the profile's side
     * hashed once at load). */
    unsigned char digest[OMS_SHA256_LEN];
    oms_sha256(token, strlen(token), digest);
    int ok = 0;
    for (size_t i = 0; i < p->token_count; i++)
        ok |= oms_digest_equal(p->token_digests[i], digest);
    return ok;
}

const char *oms_profile_default_token(const struct oms_profile *p)
{
    return p->tokens[0];
}

size_t oms_profile_max_body(const struct oms_profile *p)
{
    return p->max_body;
}

const char *oms_profile_signature_header(const struct oms_profile *p)
{
    return p->signature_header;
}

const char *oms_profile_signature_prefix(const struct oms_profile *p)
{
    return p->signature_prefix;
}

const char *oms_profile_plan_status(const struct oms_profile *p)
{
    return p->plan_status;
}

const json_t *oms_profile_lifecycle(const struct oms_profile *p, const char *action)
{
    return json_object_get(p->lifecycle, action);
}

int64_t oms_profile_delivery_timeout_ms(const struct oms_profile *p)
{
    return p->delivery_timeout_ms;
}

const json_t *oms_profile_omnitron_retry(const struct oms_profile *p)
{
    return p->omnitron_retry;
}

const json_t *oms_profile_webhook_retry(const struct oms_profile *p)
{
    return p->webhook_retry;
}
