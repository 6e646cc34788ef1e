/* matcher: structural comparison with matchers, one table entry per operator. */
#include "matcher.h"

#include "assign.h"

#include "oms_alloc.h"
#include "oms_buf.h"
#include "oms_json.h"
#include "oms_str.h"

#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct mctx {
    const struct matcher_ctx *opt;
    json_t *captures; /* name -> value, for $capture and $same */
};

static size_t match(struct mctx *m, const json_t *e, const json_t *a, const char *path,
                    json_t *out);

int matcher_is_matcher(const json_t *value)
{
    if (!json_is_object(value) || json_object_size(value) != 1)
        return 0;
    const char *key = json_object_iter_key(json_object_iter((json_t *)value));
    return key && key[0] == '$';
}

static const char *op_of(const json_t *m, json_t **arg)
{
    void *it = json_object_iter((json_t *)m);
    *arg = json_object_iter_value(it);
    return json_object_iter_key(it);
}

void matcher_mismatch(json_t *mismatches, const char *path, const json_t *expected,
                      const json_t *actual, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *m = json_object();
    json_object_set_new(m, "path", json_string(path));
    json_object_set_new(m, "expected", expected ? json_deep_copy(expected) : json_null());
    json_object_set_new(m, "actual", actual ? json_deep_copy(actual) : json_string("(missing)"));
    json_object_set_new(m, "message", oms_json_string_lossy(msg, strlen(msg)));
    json_array_append_new(mismatches, m);
}

/* A short rendering of a value for messages; into out. */
static const char *brief(const json_t *v, char *out, size_t size)
{
    if (!v) {
        snprintf(out, size, "nothing");
        return out;
    }
    char *s = oms_json_dumps(v);
    if (strlen(s) > size - 1 && size > 4)
        snprintf(out, size, "%.*s...", (int)(size - 4), s);
    else
        snprintf(out, size, "%s", s);
    free(s);
    return out;
}

/* Gives every difference from index `from` on that has no rule yet the given one. */
static void stamp(json_t *out, size_t from, const char *rule)
{
    if (!rule)
        return;
    for (size_t i = from; i < json_array_size(out); i++) {
        json_t *d = json_array_get(out, i);
        if (!json_object_get(d, "rule"))
            json_object_set_new(d, "rule", json_string(rule));
    }
}

size_t matcher_hard_count(const struct matcher_ctx *ctx, const json_t *mismatches, size_t from)
{
    size_t n = 0;
    for (size_t i = from; i < json_array_size(mismatches); i++) {
        const char *rule =
            json_string_value(json_object_get(json_array_get(mismatches, i), "rule"));
        if (!rule)
            rule = ctx ? ctx->rule : NULL;
        n += !(ctx && ctx->soft && rule && ctx->soft(rule, ctx->soft_arg));
    }
    return n;
}

/* Runs one comparison into a scratch list and returns the number of hard differences, without
 * keeping them or any capture it made (for $not, $unordered, $contains and $len). */
static size_t probe(struct mctx *m, const json_t *e, const json_t *a)
{
    struct mctx trial = {m->opt, json_deep_copy(m->captures)};
    json_t *scratch = json_array();
    match(&trial, e, a, "$", scratch);
    size_t n = matcher_hard_count(m->opt, scratch, 0);
    json_decref(scratch);
    json_decref(trial.captures);
    return n;
}

/* Pairs each expected element with its own actual element, trying every pair once. */
static int assign(struct mctx *m, const json_t *exp, const json_t *act, size_t *pairing)
{
    size_t n = json_array_size(exp), k = json_array_size(act);
    unsigned char *compat = oms_xcalloc(n * k + 1, 1);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < k; j++)
            compat[i * k + j] = probe(m, json_array_get(exp, i), json_array_get(act, j)) == 0;
    int ok = assign_pairs(n, k, compat, pairing) == 0;
    free(compat);
    return ok;
}

/* ---- status names in texts (SPEC E-1) ---- */

static int word_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Length of name matched case-insensitively at s as a whole word, or 0. */
static size_t word_at(const char *s, const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || strncasecmp(s, name, n) != 0 || word_char(s[n]))
        return 0;
    return n;
}

static void add_found(int64_t *found, size_t max, size_t *count, int64_t v)
{
    for (size_t i = 0; i < *count && i < max; i++)
        if (found[i] == v)
            return;
    if (*count < max)
        found[*count] = v;
    (*count)++;
}

size_t matcher_statuses_named(const struct oms_profile *profile, const char *text, int64_t *found,
                              size_t max)
{
    size_t count = 0;
    size_t nstatus = profile ? oms_profile_status_count(profile) : 0;
    for (const char *s = text; *s;) {
        if (s != text && word_char(s[-1])) {
            s++;
            continue;
        }
        if (isdigit((unsigned char)*s)) {
            size_t digits = strspn(s, "0123456789");
            if (!word_char(s[digits]) && digits < 19) {
                int64_t v = strtoll(s, NULL, 10);
                if (!profile || oms_profile_status_by_value(profile, v))
                    add_found(found, max, &count, v);
            }
            s += digits;
            continue;
        }
        /* The longest name wins, so "Packed for Refund" is not read as "Packed". */
        size_t best = 0;
        int64_t value = 0;
        for (size_t i = 0; i < nstatus; i++) {
            const struct oms_profile_status *st = oms_profile_status_at(profile, i);
            size_t n = word_at(s, st->name);
            size_t k = word_at(s, st->key);
            if (k > n)
                n = k;
            if (n > best) {
                best = n;
                value = st->value;
            }
        }
        if (best) {
            add_found(found, max, &count, value);
            s += best;
        } else {
            s++;
        }
    }
    return count < max ? count : max;
}

/* Every message string under v (a string, or a list of strings), joined by newlines; the
 * caller frees it. */
static char *joined_text(const json_t *v)
{
    struct oms_buf b;
    oms_buf_init(&b, 0);
    if (json_is_string(v))
        oms_buf_puts(&b, json_string_value(v));
    size_t i;
    json_t *s;
    json_array_foreach((json_t *)v, i, s)
    {
        if (json_is_string(s))
            oms_buf_printf(&b, "%s\n", json_string_value(s));
    }
    return oms_buf_take(&b, NULL);
}

/* Differences for each status of wanted (names or numbers) that text does not name. */
static size_t names_check(struct mctx *m, const json_t *wanted, const json_t *a, const char *path,
                          json_t *out)
{
    char *text = joined_text(a);
    int64_t found[64];
    size_t n = matcher_statuses_named(m->opt->profile, text, found, 64);
    size_t missing = 0;
    size_t i;
    json_t *w;
    json_array_foreach((json_t *)wanted, i, w)
    {
        int64_t v;
        if (m->opt->profile ? oms_profile_status_resolve(m->opt->profile, w, &v) != 0
                            : oms_json_int(w, &v) != 0) {
            char what[96];
            matcher_mismatch(out, path, w, a, "%s is not a status of the profile",
                             brief(w, what, sizeof(what)));
            missing++;
            continue;
        }
        int seen = 0;
        for (size_t k = 0; k < n; k++)
            seen |= found[k] == v;
        if (seen)
            continue;
        char label[128], what[300];
        if (m->opt->profile)
            oms_profile_status_label(m->opt->profile, v, label, sizeof(label));
        else
            snprintf(label, sizeof(label), "%lld", (long long)v);
        matcher_mismatch(out, path, w, a,
                         "the message does not name %s (by name or number): found %s", label,
                         brief(a, what, sizeof(what)));
        missing++;
    }
    free(text);
    return missing;
}

/* ---- the operators ---- */

typedef int (*op_validate)(const json_t *arg, const char *path, struct oms_err *err);
typedef size_t (*op_match)(struct mctx *m, const json_t *e, const json_t *arg, const json_t *a,
                           const char *path, json_t *out);

struct op {
    const char *name;
    int sees_missing; /* runs when the value is missing (otherwise that is a difference) */
    int recurse;      /* matcher_validate descends into the argument */
    op_validate validate;
    op_match match;
};

static int v_true(const json_t *arg, const char *path, struct oms_err *err)
{
    return json_is_true(arg) ? 0 : oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, path, "expected true");
}

static int v_type(const json_t *arg, const char *path, struct oms_err *err)
{
    static const char *const types[] = {"string", "integer", "number", "boolean",
                                        "object", "array",   "null"};
    for (size_t k = 0; k < OMS_ARRAY_LEN(types); k++)
        if (json_is_string(arg) && strcmp(json_string_value(arg), types[k]) == 0)
            return 0;
    return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, path,
                       "expected one of string, integer, number, boolean, object, array, null");
}

static int v_regex(const json_t *arg, const char *path, struct oms_err *err)
{
    regex_t re;
    if (!json_is_string(arg))
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, path,
                           "expected a regular expression string");
    int rc = regcomp(&re, json_string_value(arg), REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char why[128];
        regerror(rc, &re, why, sizeof(why));
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, path, "invalid regular expression: %s",
                           why);
    }
    regfree(&re);
    return 0;
}

static int v_range(const json_t *arg, const char *path, struct oms_err *err)
{
    if (json_is_array(arg) && json_array_size(arg) == 2 && json_is_number(json_array_get(arg, 0)) &&
        json_is_number(json_array_get(arg, 1)))
        return 0;
    return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, path, "expected [min, max] numbers");
}

static int v_len(const json_t *arg, const char *path, struct oms_err *err)
{
    if (json_is_integer(arg) || matcher_is_matcher(arg))
        return 0;
    return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, path, "expected an integer or a matcher");
}

static int v_object(const json_t *arg, const char *path, struct oms_err *err)
{
    return json_is_object(arg)
               ? 0
               : oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, path, "expected an object");
}

static int v_array(const json_t *arg, const char *path, struct oms_err *err)
{
    return json_is_array(arg)
               ? 0
               : oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, path, "expected an array");
}

static int v_name(const json_t *arg, const char *path, struct oms_err *err)
{
    if (json_is_string(arg) && json_string_length(arg) > 0)
        return 0;
    return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, path, "expected a capture name");
}

static int v_status(const json_t *arg, const char *path, struct oms_err *err)
{
    if (json_is_string(arg) || json_is_integer(arg))
        return 0;
    return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, path, "expected a status name or number");
}

static int v_statuses(const json_t *arg, const char *path, struct oms_err *err)
{
    if (!json_is_array(arg) || json_array_size(arg) == 0)
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, path,
                           "expected a non-empty list of status names or numbers");
    size_t i;
    json_t *v;
    json_array_foreach((json_t *)arg, i, v)
    {
        char p[OMS_ERR_PATH_MAX];
        if (v_status(v, oms_jpath_index(p, sizeof(p), path, i), err) != 0)
            return OMS_E_INVAL;
    }
    return 0;
}

static int rule_id_ok(const char *id)
{
    return id && isupper((unsigned char)id[0]) && id[1] == '-' && id[2] >= '1' && id[2] <= '9' &&
           strspn(id + 2, "0123456789") == strlen(id + 2);
}

static int v_rule(const json_t *arg, const char *path, struct oms_err *err)
{
    char p[OMS_ERR_PATH_MAX];
    if (!json_is_array(arg) || json_array_size(arg) != 2)
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, path,
                           "expected [\"<rule id>\", <expected value>], e.g. [\"R-1\", "
                           "{\"$regex\": \"...\"}]");
    if (!rule_id_ok(json_string_value(json_array_get(arg, 0))))
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, oms_jpath_index(p, sizeof(p), path, 0),
                           "expected a rule id such as \"R-1\" or \"C-7\"");
    return matcher_validate(json_array_get(arg, 1), oms_jpath_index(p, sizeof(p), path, 1), err);
}

static int v_error(const json_t *arg, const char *path, struct oms_err *err)
{
    static const char *const keys[] = {"status", "field", "names", "messages", NULL};
    char p[OMS_ERR_PATH_MAX];
    if (!json_is_object(arg))
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, path,
                           "expected {\"status\", \"field\", \"names\", \"messages\"}");
    if (oms_json_check_keys(arg, path, keys, NULL, err) != 0)
        return OMS_E_INVAL;
    const json_t *status = json_object_get(arg, "status");
    if (status && !json_is_integer(status) && !matcher_is_matcher(status))
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0,
                           oms_jpath_key(p, sizeof(p), path, "status"),
                           "expected an HTTP status code");
    const json_t *field = json_object_get(arg, "field");
    int fields_ok = json_is_string(field) || !field;
    if (json_is_array(field)) {
        fields_ok = json_array_size(field) > 0;
        size_t i;
        json_t *f;
        json_array_foreach((json_t *)field, i, f)
        {
            fields_ok &= json_is_string(f);
        }
    }
    if (!fields_ok)
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, oms_jpath_key(p, sizeof(p), path, "field"),
                           "expected a field name or a list of field names (any one of them)");
    if (json_object_get(arg, "names") &&
        v_statuses(json_object_get(arg, "names"), oms_jpath_key(p, sizeof(p), path, "names"),
                   err) != 0)
        return OMS_E_INVAL;
    if (json_object_get(arg, "messages"))
        return matcher_validate(json_object_get(arg, "messages"),
                                oms_jpath_key(p, sizeof(p), path, "messages"), err);
    return 0;
}

static size_t m_literal(struct mctx *m, const json_t *e, const json_t *arg, const json_t *a,
                        const char *path, json_t *out)
{
    (void)m;
    (void)e;
    char what[256], have[256];
    if (a && json_equal((json_t *)arg, (json_t *)a))
        return 0;
    matcher_mismatch(out, path, arg, a, "expected %s, found %s", brief(arg, what, sizeof(what)),
                     brief(a, have, sizeof(have)));
    return 1;
}

static size_t m_absent(struct mctx *m, const json_t *e, const json_t *arg, const json_t *a,
                       const char *path, json_t *out)
{
    (void)m;
    (void)arg;
    char what[256];
    if (!a)
        return 0;
    matcher_mismatch(out, path, e, a, "expected no value here, found %s",
                     brief(a, what, sizeof(what)));
    return 1;
}

static size_t m_any(struct mctx *m, const json_t *e, const json_t *arg, const json_t *a,
                    const char *path, json_t *out)
{
    (void)m, (void)e, (void)arg, (void)a, (void)path, (void)out;
    return 0;
}

static size_t m_type(struct mctx *m, const json_t *e, const json_t *arg, const json_t *a,
                     const char *path, json_t *out)
{
    (void)m;
    const char *t = json_string_value(arg);
    const char *have = oms_json_type_name(a);
    if (strcmp(t, have) == 0 || (strcmp(t, "number") == 0 && json_is_number(a)))
        return 0;
    matcher_mismatch(out, path, e, a, "expected a value of type %s, found %s", t, have);
    return 1;
}

static size_t m_regex(struct mctx *m, const json_t *e, const json_t *arg, const json_t *a,
                      const char *path, json_t *out)
{
    (void)m;
    regex_t re;
    int ok = 0;
    char what[256];
    if (json_is_string(a) && regcomp(&re, json_string_value(arg), REG_EXTENDED | REG_NOSUB) == 0) {
        ok = regexec(&re, json_string_value(a), 0, NULL, 0) == 0;
        regfree(&re);
    }
    if (ok)
        return 0;
    matcher_mismatch(out, path, e, a, "expected a string matching /%s/, found %s",
                     json_string_value(arg), brief(a, what, sizeof(what)));
    return 1;
}

static size_t m_range(struct mctx *m, const json_t *e, const json_t *arg, const json_t *a,
                      const char *path, json_t *out)
{
    (void)m;
    char what[256];
    double lo = json_number_value(json_array_get(arg, 0));
    double hi = json_number_value(json_array_get(arg, 1));
    if (json_is_number(a) && json_number_value(a) >= lo && json_number_value(a) <= hi)
        return 0;
    matcher_mismatch(out, path, e, a, "expected a number from %g to %g, found %s", lo, hi,
                     brief(a, what, sizeof(what)));
    return 1;
}

static size_t m_len(struct mctx *m, const json_t *e, const json_t *arg, const json_t *a,
                    const char *path, json_t *out)
{
    char what[256], have[256];
    json_int_t len = json_is_array(a)    ? (json_int_t)json_array_size(a)
                     : json_is_object(a) ? (json_int_t)json_object_size(a)
                     : json_is_string(a) ? (json_int_t)json_string_length(a)
                                         : -1;
    json_t *lv = json_integer(len);
    size_t n = len < 0 ? 1 : probe(m, arg, lv);
    if (n)
        matcher_mismatch(out, path, e, a, "expected a length of %s, found %s",
                         brief(arg, what, sizeof(what)),
                         len < 0 ? oms_json_type_name(a) : brief(lv, have, sizeof(have)));
    json_decref(lv);
    return n ? 1 : 0;
}

static size_t m_partial(struct mctx *m, const json_t *e, const json_t *arg, const json_t *a,
                        const char *path, json_t *out)
{
    char child[OMS_ERR_PATH_MAX];
    if (!json_is_object(a)) {
        matcher_mismatch(out, path, e, a, "expected an object, found %s", oms_json_type_name(a));
        return 1;
    }
    size_t n = 0;
    const char *key;
    json_t *ev;
    json_object_foreach((json_t *)arg, key, ev)
    {
        n += match(m, ev, json_object_get(a, key), oms_jpath_key(child, sizeof(child), path, key),
                   out);
    }
    return n;
}

static size_t unordered(struct mctx *m, const json_t *e, const json_t *arg, const json_t *a,
                        const char *path, json_t *out, int contains)
{
    char child[OMS_ERR_PATH_MAX];
    if (!json_is_array(a)) {
        matcher_mismatch(out, path, e, a, "expected an array, found %s", oms_json_type_name(a));
        return 1;
    }
    if (!contains && json_array_size(a) != json_array_size(arg)) {
        matcher_mismatch(out, path, e, a, "expected %zu element(s) in any order, found %zu",
                         json_array_size(arg), json_array_size(a));
        return 1;
    }
    size_t *pairing = oms_xcalloc(json_array_size(arg) + 1, sizeof(size_t));
    size_t n = 0;
    if (assign(m, arg, a, pairing)) {
        /* Once more for real, so captures (and notes) made inside are kept. */
        for (size_t i = 0; i < json_array_size(arg); i++)
            n += match(m, json_array_get(arg, i), json_array_get(a, pairing[i]),
                       oms_jpath_index(child, sizeof(child), path, pairing[i]), out);
    } else {
        matcher_mismatch(out, path, e, a,
                         "no arrangement of the %zu actual element(s) matches the %zu "
                         "expected one(s)%s",
                         json_array_size(a), json_array_size(arg), contains ? " (subset)" : "");
        n = 1;
    }
    free(pairing);
    return n;
}

static size_t m_unordered(struct mctx *m, const json_t *e, const json_t *arg, const json_t *a,
                          const char *path, json_t *out)
{
    return unordered(m, e, arg, a, path, out, 0);
}

static size_t m_contains(struct mctx *m, const json_t *e, const json_t *arg, const json_t *a,
                         const char *path, json_t *out)
{
    return unordered(m, e, arg, a, path, out, 1);
}

/* A number, or a string of 1 to 18 digits (statuses travel as "1100" in webhook payloads). */
static int numeric(const json_t *a, int64_t *out)
{
    if (json_is_integer(a)) {
        *out = json_integer_value(a);
        return 1;
    }
    if (!json_is_string(a))
        return 0;
    const char *t = json_string_value(a);
    size_t digits = strspn(t, "0123456789");
    if (digits == 0 || digits >= 19 || t[digits] != '\0')
        return 0;
    *out = strtoll(t, NULL, 10);
    return 1;
}

static size_t m_status(struct mctx *m, const json_t *e, const json_t *arg, const json_t *a,
                       const char *path, json_t *out)
{
    char what[256], have_text[256];
    int64_t want = 0, have = 0;
    int resolved = m->opt->profile ? oms_profile_status_resolve(m->opt->profile, arg, &want) == 0
                                   : oms_json_int(arg, &want) == 0;
    if (resolved && numeric(a, &have) && want == have)
        return 0;
    if (!resolved)
        matcher_mismatch(out, path, e, a, "%s is not a status of the profile",
                         brief(arg, what, sizeof(what)));
    else
        matcher_mismatch(out, path, e, a, "expected status %lld, found %s", (long long)want,
                         brief(a, have_text, sizeof(have_text)));
    return 1;
}

static size_t m_names(struct mctx *m, const json_t *e, const json_t *arg, const json_t *a,
                      const char *path, json_t *out)
{
    int strings = json_is_string(a);
    if (json_is_array(a)) {
        strings = 1;
        size_t i;
        json_t *s;
        json_array_foreach((json_t *)a, i, s)
        {
            strings &= json_is_string(s);
        }
    }
    if (!strings) {
        matcher_mismatch(out, path, e, a,
                         "expected a message (a string or a list of strings), "
                         "found %s",
                         oms_json_type_name(a));
        return 1;
    }
    return names_check(m, arg, a, path, out);
}

static size_t same(struct mctx *m, const json_t *e, const json_t *arg, const json_t *a,
                   const char *path, json_t *out, int capture)
{
    char what[256], have[256];
    const char *name = json_string_value(arg);
    json_t *seen = json_object_get(m->captures, name);
    if (!seen && capture) {
        json_object_set(m->captures, name, (json_t *)a);
        return 0;
    }
    if (!seen) {
        matcher_mismatch(out, path, e, a, "nothing was captured as \"%s\" before this point", name);
        return 1;
    }
    if (json_equal(seen, (json_t *)a))
        return 0;
    matcher_mismatch(out, path, seen, a, "expected the value captured as \"%s\" (%s), found %s",
                     name, brief(seen, what, sizeof(what)), brief(a, have, sizeof(have)));
    return 1;
}

static size_t m_capture(struct mctx *m, const json_t *e, const json_t *arg, const json_t *a,
                        const char *path, json_t *out)
{
    return same(m, e, arg, a, path, out, 1);
}

static size_t m_same(struct mctx *m, const json_t *e, const json_t *arg, const json_t *a,
                     const char *path, json_t *out)
{
    return same(m, e, arg, a, path, out, 0);
}

static size_t m_not(struct mctx *m, const json_t *e, const json_t *arg, const json_t *a,
                    const char *path, json_t *out)
{
    char what[256], have[256];
    if (probe(m, arg, a) != 0)
        return 0;
    matcher_mismatch(out, path, e, a, "expected anything but %s, found %s",
                     brief(arg, what, sizeof(what)), brief(a, have, sizeof(have)));
    return 1;
}

static size_t m_all(struct mctx *m, const json_t *e, const json_t *arg, const json_t *a,
                    const char *path, json_t *out)
{
    (void)e;
    size_t n = 0;
    size_t i;
    json_t *each;
    json_array_foreach((json_t *)arg, i, each)
    {
        n += match(m, each, a, path, out);
    }
    return n;
}

static size_t m_rule(struct mctx *m, const json_t *e, const json_t *arg, const json_t *a,
                     const char *path, json_t *out)
{
    (void)e;
    size_t from = json_array_size(out);
    size_t n = match(m, json_array_get(arg, 1), a, path, out);
    stamp(out, from, json_string_value(json_array_get(arg, 0)));
    return n;
}

/* The messages of an envelope's error object under one of the wanted fields (the first that is
 * there), or NULL; *field gets its name. */
static const json_t *field_messages(const json_t *error, const json_t *wanted, const char **field)
{
    if (json_is_string(wanted)) {
        *field = json_string_value(wanted);
        return json_object_get(error, *field);
    }
    size_t i;
    json_t *f;
    json_array_foreach((json_t *)wanted, i, f)
    {
        const json_t *msgs = json_object_get(error, json_string_value(f));
        if (msgs) {
            *field = json_string_value(f);
            return msgs;
        }
    }
    return NULL;
}

/* The keys of an object, comma-separated, into out. */
static const char *key_list(const json_t *obj, char *out, size_t size)
{
    out[0] = '\0';
    size_t used = 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        int n = snprintf(out + used, size - used, "%s\"%s\"", used ? ", " : "", key);
        if (n < 0 || (size_t)n >= size - used)
            break;
        used += (size_t)n;
    }
    return out;
}

/* SPEC E-1/E-2: {"error": {"<field>": ["message", ...], ...}, "status_code": N}. What the
 * contract fixes is checked here: the envelope, the status, a non-empty list of messages under
 * each key, the field at fault (any one of "field"), and for "names" that the messages name those
 * statuses. Other keys beside the field are allowed (which faults a target reports besides the
 * first is its own choice); "messages" matches the wording (wrap it in a reference rule). */
static size_t m_error(struct mctx *m, const json_t *e, const json_t *arg, const json_t *a,
                      const char *path, json_t *out)
{
    char p[OMS_ERR_PATH_MAX], q[OMS_ERR_PATH_MAX], what[512];
    char errors_path[OMS_ERR_PATH_MAX];
    const json_t *error = json_object_get(a, "error");
    const json_t *code = json_object_get(a, "status_code");
    if (!json_is_object(a) || !json_is_object(error) || json_object_size(error) == 0 ||
        !json_is_integer(code)) {
        matcher_mismatch(out, path, e, a,
                         "expected the error envelope {\"error\": {\"<field>\": [\"message\", "
                         "...]}, \"status_code\": N}, found %s",
                         brief(a, what, sizeof(what)));
        return 1;
    }
    size_t n = 0;
    const json_t *status = json_object_get(arg, "status");
    if (status)
        n += match(m, status, code, oms_jpath_key(p, sizeof(p), path, "status_code"), out);
    oms_jpath_key(errors_path, sizeof(errors_path), path, "error");
    snprintf(p, sizeof(p), "%s", errors_path);
    const char *key;
    json_t *msgs;
    json_object_foreach((json_t *)error, key, msgs)
    {
        size_t i, strings = 0;
        json_t *s;
        json_array_foreach(msgs, i, s)
        {
            strings += json_is_string(s);
        }
        if (!json_is_array(msgs) || json_array_size(msgs) == 0 ||
            strings != json_array_size(msgs)) {
            matcher_mismatch(out, oms_jpath_key(q, sizeof(q), p, key), NULL, msgs,
                             "expected a non-empty list of messages, found %s",
                             brief(msgs, what, sizeof(what)));
            n++;
        }
    }
    const json_t *wanted = json_object_get(arg, "field");
    const char *field = NULL;
    const json_t *chosen = error;
    if (wanted) {
        chosen = field_messages(error, wanted, &field);
        if (!chosen) {
            char keys[256], want[256];
            matcher_mismatch(out, p, wanted, error,
                             "expected an error on %s%s (the field at fault), found errors on %s",
                             json_is_array(wanted) ? "one of " : "",
                             brief(wanted, want, sizeof(want)),
                             key_list(error, keys, sizeof(keys)));
            return n + 1;
        }
        oms_jpath_key(p, sizeof(p), errors_path, field);
    }
    const json_t *names = json_object_get(arg, "names");
    if (names) {
        json_t *all = json_array();
        if (field) {
            json_array_extend(all, (json_t *)chosen);
        } else {
            json_object_foreach((json_t *)error, key, msgs)
            {
                if (json_is_array(msgs))
                    json_array_extend(all, msgs);
            }
        }
        n += names_check(m, names, all, p, out);
        json_decref(all);
    }
    const json_t *messages = json_object_get(arg, "messages");
    if (messages)
        n += match(m, messages, field ? chosen : error, p, out);
    return n;
}

static const struct op OPS[] = {
    {"$any", 0, 0, v_true, m_any},
    {"$absent", 1, 0, v_true, m_absent},
    {"$type", 0, 0, v_type, m_type},
    {"$regex", 0, 0, v_regex, m_regex},
    {"$range", 0, 0, v_range, m_range},
    {"$len", 0, 1, v_len, m_len},
    {"$partial", 0, 1, v_object, m_partial},
    {"$unordered", 0, 1, v_array, m_unordered},
    {"$contains", 0, 1, v_array, m_contains},
    {"$status", 0, 0, v_status, m_status},
    {"$names", 0, 0, v_statuses, m_names},
    {"$error", 0, 0, v_error, m_error},
    {"$all", 1, 1, v_array, m_all},
    {"$rule", 1, 0, v_rule, m_rule},
    {"$not", 0, 1, NULL, m_not},
    {"$literal", 1, 0, NULL, m_literal},
    {"$capture", 0, 0, v_name, m_capture},
    {"$same", 0, 0, v_name, m_same},
};

static const struct op *op_find(const char *name)
{
    for (size_t i = 0; i < OMS_ARRAY_LEN(OPS); i++)
        if (strcmp(OPS[i].name, name) == 0)
            return &OPS[i];
    return NULL;
}

int matcher_validate(const json_t *e, const char *path, struct oms_err *err)
{
    char child[OMS_ERR_PATH_MAX];
    if (json_is_array(e)) {
        size_t i;
        json_t *v;
        json_array_foreach((json_t *)e, i, v)
        {
            if (matcher_validate(v, oms_jpath_index(child, sizeof(child), path, i), err))
                return OMS_E_INVAL;
        }
        return 0;
    }
    if (!json_is_object(e))
        return 0;
    if (!matcher_is_matcher(e)) {
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)e, key, v)
        {
            if (key[0] == '$' && json_object_size(e) > 1)
                return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, path,
                                   "matcher \"%s\" must be the only key of its object (use "
                                   "{\"$literal\": ...} for data with '$' keys)",
                                   key);
            if (matcher_validate(v, oms_jpath_key(child, sizeof(child), path, key), err))
                return OMS_E_INVAL;
        }
        return 0;
    }
    json_t *arg;
    const char *name = op_of(e, &arg);
    const struct op *op = op_find(name);
    if (!op) {
        char known[512] = "";
        size_t used = 0;
        for (size_t i = 0; i < OMS_ARRAY_LEN(OPS) && used < sizeof(known); i++)
            used += (size_t)snprintf(known + used, sizeof(known) - used, "%s%s", i ? ", " : "",
                                     OPS[i].name);
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, path,
                           "unknown matcher \"%s\" (expected one of %s)", name, known);
    }
    oms_jpath_key(child, sizeof(child), path, name);
    if (op->validate && op->validate(arg, child, err) != 0)
        return OMS_E_INVAL;
    return op->recurse ? matcher_validate(arg, child, err) : 0;
}

static size_t match(struct mctx *m, const json_t *e, const json_t *a, const char *path, json_t *out)
{
    char what[256], child[OMS_ERR_PATH_MAX];
    if (matcher_is_matcher(e)) {
        json_t *arg;
        const struct op *op = op_find(op_of(e, &arg));
        if (!op) {
            matcher_mismatch(out, path, e, a, "unknown matcher %s", op_of(e, &arg));
            return 1;
        }
        if (!a && !op->sees_missing) {
            matcher_mismatch(out, path, e, a, "missing (expected %s)",
                             brief(e, what, sizeof(what)));
            return 1;
        }
        return op->match(m, e, arg, a, path, out);
    }
    if (!a) {
        matcher_mismatch(out, path, e, a, "missing (expected %s)", brief(e, what, sizeof(what)));
        return 1;
    }
    if (json_is_object(e)) {
        if (!json_is_object(a)) {
            matcher_mismatch(out, path, e, a, "expected an object, found %s",
                             oms_json_type_name(a));
            return 1;
        }
        size_t n = 0;
        const char *key;
        json_t *v;
        json_object_foreach((json_t *)e, key, v)
        {
            n += match(m, v, json_object_get(a, key),
                       oms_jpath_key(child, sizeof(child), path, key), out);
        }
        json_object_foreach((json_t *)a, key, v)
        {
            if (!json_object_get(e, key)) {
                matcher_mismatch(
                    out, oms_jpath_key(child, sizeof(child), path, key), NULL, v,
                    "unexpected key \"%s\" (use {\"$partial\": ...} to check only some keys)", key);
                n++;
            }
        }
        return n;
    }
    if (json_is_array(e)) {
        if (!json_is_array(a)) {
            matcher_mismatch(out, path, e, a, "expected an array, found %s", oms_json_type_name(a));
            return 1;
        }
        if (json_array_size(e) != json_array_size(a)) {
            matcher_mismatch(out, path, e, a, "expected %zu element(s), found %zu",
                             json_array_size(e), json_array_size(a));
            return 1;
        }
        size_t n = 0;
        for (size_t i = 0; i < json_array_size(e); i++)
            n += match(m, json_array_get(e, i), json_array_get(a, i),
                       oms_jpath_index(child, sizeof(child), path, i), out);
        return n;
    }
    if (json_equal((json_t *)e, (json_t *)a))
        return 0;
    matcher_mismatch(out, path, e, a, "expected %s, found %s", brief(e, what, sizeof(what)),
                     brief(a, child, sizeof(child)));
    return 1;
}

size_t matcher_run(const struct matcher_ctx *ctx, const json_t *expected, const json_t *actual,
                   const char *path, json_t *mismatches)
{
    struct mctx m = {ctx, ctx->captures ? json_incref(ctx->captures) : json_object()};
    size_t from = json_array_size(mismatches);
    size_t n = match(&m, expected, actual, path, mismatches);
    stamp(mismatches, from, ctx->rule);
    json_decref(m.captures);
    return n;
}

size_t matcher_match_captures(const struct oms_profile *profile, json_t *captures,
                              const json_t *expected, const json_t *actual, const char *path,
                              json_t *mismatches)
{
    struct matcher_ctx ctx = {.profile = profile, .captures = captures};
    return matcher_run(&ctx, expected, actual, path, mismatches);
}

size_t matcher_match(const struct oms_profile *profile, const json_t *expected,
                     const json_t *actual, const char *path, json_t *mismatches)
{
    return matcher_match_captures(profile, NULL, expected, actual, path, mismatches);
}

int matcher_each_rule(const json_t *e, const char *path,
                      int (*fn)(const char *id, const char *path, void *arg), void *arg)
{
    char child[OMS_ERR_PATH_MAX];
    if (json_is_array(e)) {
        size_t i;
        json_t *v;
        json_array_foreach((json_t *)e, i, v)
        {
            int rc = matcher_each_rule(v, oms_jpath_index(child, sizeof(child), path, i), fn, arg);
            if (rc)
                return rc;
        }
        return 0;
    }
    if (!json_is_object(e))
        return 0;
    json_t *inner;
    if (matcher_is_matcher(e) && strcmp(op_of(e, &inner), "$literal") == 0)
        return 0;
    if (matcher_is_matcher(e) && strcmp(op_of(e, &inner), "$rule") == 0 &&
        json_is_string(json_array_get(inner, 0))) {
        char at[OMS_ERR_PATH_MAX];
        oms_jpath_index(at, sizeof(at), oms_jpath_key(child, sizeof(child), path, "$rule"), 0);
        int rc = fn(json_string_value(json_array_get(inner, 0)), at, arg);
        if (rc)
            return rc;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)e, key, v)
    {
        int rc = matcher_each_rule(v, oms_jpath_key(child, sizeof(child), path, key), fn, arg);
        if (rc)
            return rc;
    }
    return 0;
}
