/* matcher: structural comparison with matchers. */
#include "matcher.h"

#include "assign.h"

#include "oms_alloc.h"
#include "oms_json.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mctx {
    const struct oms_profile *profile;
    json_t *captures; /* name -> value, for $capture and $same */
};

static size_t match(struct mctx *m, const json_t *e, const json_t *a, const char *path,
                    json_t *out);

static const char *const OPERATORS[] = {"$any", "$absent",  "$type",      "$regex",    "$range",
                                        "$len", "$partial", "$unordered", "$contains", "$status",
                                        "$not", "$literal", "$capture",   "$same"};

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
    const char *op = op_of(e, &arg);
    size_t i = 0;
    while (i < OMS_ARRAY_LEN(OPERATORS) && strcmp(OPERATORS[i], op) != 0)
        i++;
    if (i == OMS_ARRAY_LEN(OPERATORS))
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, path,
                           "unknown matcher \"%s\" (expected $any, $absent, $type, $regex, "
                           "$range, $len, $partial, $unordered, $contains, $status, $not, "
                           "$literal, $capture, $same)",
                           op);
    oms_jpath_key(child, sizeof(child), path, op);
    if ((strcmp(op, "$any") == 0 || strcmp(op, "$absent") == 0) && !json_is_true(arg))
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, child, "expected true");
    if (strcmp(op, "$type") == 0) {
        static const char *const types[] = {"string", "integer", "number", "boolean",
                                            "object", "array",   "null"};
        int ok = 0;
        for (size_t k = 0; k < OMS_ARRAY_LEN(types); k++)
            ok |= json_is_string(arg) && strcmp(json_string_value(arg), types[k]) == 0;
        if (!ok)
            return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, child,
                               "expected one of string, integer, number, boolean, object, "
                               "array, null");
    }
    if (strcmp(op, "$regex") == 0) {
        regex_t re;
        if (!json_is_string(arg))
            return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, child,
                               "expected a regular expression string");
        int rc = regcomp(&re, json_string_value(arg), REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char why[128];
            regerror(rc, &re, why, sizeof(why));
            return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, child,
                               "invalid regular expression: %s", why);
        }
        regfree(&re);
    }
    if (strcmp(op, "$range") == 0 &&
        (!json_is_array(arg) || json_array_size(arg) != 2 ||
         !json_is_number(json_array_get(arg, 0)) || !json_is_number(json_array_get(arg, 1))))
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, child, "expected [min, max] numbers");
    if (strcmp(op, "$len") == 0 && !json_is_integer(arg) && !matcher_is_matcher(arg))
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, child, "expected an integer or a matcher");
    if (strcmp(op, "$partial") == 0 && !json_is_object(arg))
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, child, "expected an object");
    if ((strcmp(op, "$unordered") == 0 || strcmp(op, "$contains") == 0) && !json_is_array(arg))
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, child, "expected an array");
    if ((strcmp(op, "$capture") == 0 || strcmp(op, "$same") == 0) &&
        (!json_is_string(arg) || json_string_length(arg) == 0))
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, child, "expected a capture name");
    if (strcmp(op, "$status") == 0 && !json_is_string(arg) && !json_is_integer(arg))
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, child, "expected a status name or number");
    if (strcmp(op, "$literal") == 0 || strcmp(op, "$capture") == 0 || strcmp(op, "$same") == 0)
        return 0;
    return matcher_validate(arg, child, err);
}

/* Runs one comparison into a scratch list; returns the number of mismatches without keeping
 * them (for $not, $unordered and $contains). */
static size_t probe(struct mctx *m, const json_t *e, const json_t *a)
{
    /* A trial comparison: captures it makes are forgotten with it. */
    struct mctx trial = {m->profile, json_deep_copy(m->captures)};
    json_t *scratch = json_array();
    size_t n = match(&trial, e, a, "$", scratch);
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
    int ok = assign_pairs(n, k, compat, pairing);
    free(compat);
    return ok;
}

static size_t match_operator(struct mctx *m, const json_t *e, const json_t *a, const char *path,
                             json_t *out)
{
    json_t *arg;
    const char *op = op_of(e, &arg);
    char what[256], child[OMS_ERR_PATH_MAX];
    if (strcmp(op, "$literal") == 0) {
        if (a && json_equal(arg, (json_t *)a))
            return 0;
        matcher_mismatch(out, path, arg, a, "expected %s, found %s", brief(arg, what, sizeof(what)),
                         brief(a, child, sizeof(child)));
        return 1;
    }
    if (strcmp(op, "$absent") == 0) {
        if (!a)
            return 0;
        matcher_mismatch(out, path, e, a, "expected no value here, found %s",
                         brief(a, what, sizeof(what)));
        return 1;
    }
    if (!a) {
        matcher_mismatch(out, path, e, a, "missing (expected %s)", brief(e, what, sizeof(what)));
        return 1;
    }
    if (strcmp(op, "$any") == 0)
        return 0;
    if (strcmp(op, "$type") == 0) {
        const char *t = json_string_value(arg);
        const char *have = oms_json_type_name(a);
        int ok = strcmp(t, have) == 0 || (strcmp(t, "number") == 0 && json_is_number(a));
        if (ok)
            return 0;
        matcher_mismatch(out, path, e, a, "expected a value of type %s, found %s", t, have);
        return 1;
    }
    if (strcmp(op, "$regex") == 0) {
        regex_t re;
        int ok = 0;
        if (json_is_string(a) &&
            regcomp(&re, json_string_value(arg), REG_EXTENDED | REG_NOSUB) == 0) {
            ok = regexec(&re, json_string_value(a), 0, NULL, 0) == 0;
            regfree(&re);
        }
        if (ok)
            return 0;
        matcher_mismatch(out, path, e, a, "expected a string matching /%s/, found %s",
                         json_string_value(arg), brief(a, what, sizeof(what)));
        return 1;
    }
    if (strcmp(op, "$range") == 0) {
        double lo = json_number_value(json_array_get(arg, 0));
        double hi = json_number_value(json_array_get(arg, 1));
        if (json_is_number(a) && json_number_value(a) >= lo && json_number_value(a) <= hi)
            return 0;
        matcher_mismatch(out, path, e, a, "expected a number from %g to %g, found %s", lo, hi,
                         brief(a, what, sizeof(what)));
        return 1;
    }
    if (strcmp(op, "$len") == 0) {
        json_int_t len = json_is_array(a)    ? (json_int_t)json_array_size(a)
                         : json_is_object(a) ? (json_int_t)json_object_size(a)
                         : json_is_string(a) ? (json_int_t)json_string_length(a)
                                             : -1;
        json_t *lv = json_integer(len);
        size_t n = len < 0 ? 1 : probe(m, arg, lv);
        if (n)
            matcher_mismatch(out, path, e, a, "expected a length of %s, found %s",
                             brief(arg, what, sizeof(what)),
                             len < 0 ? oms_json_type_name(a) : brief(lv, child, sizeof(child)));
        json_decref(lv);
        return n ? 1 : 0;
    }
    if (strcmp(op, "$partial") == 0) {
        if (!json_is_object(a)) {
            matcher_mismatch(out, path, e, a, "expected an object, found %s",
                             oms_json_type_name(a));
            return 1;
        }
        size_t n = 0;
        const char *key;
        json_t *ev;
        json_object_foreach(arg, key, ev)
        {
            n += match(m, ev, json_object_get(a, key),
                       oms_jpath_key(child, sizeof(child), path, key), out);
        }
        return n;
    }
    if (strcmp(op, "$unordered") == 0 || strcmp(op, "$contains") == 0) {
        int contains = op[1] == 'c';
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
        int ok = assign(m, arg, a, pairing);
        if (ok) {
            /* Once more for real, so captures made inside are kept. */
            size_t n = 0;
            for (size_t i = 0; i < json_array_size(arg); i++)
                n += match(m, json_array_get(arg, i), json_array_get(a, pairing[i]),
                           oms_jpath_index(child, sizeof(child), path, pairing[i]), out);
            free(pairing);
            return n;
        }
        free(pairing);
        matcher_mismatch(out, path, e, a,
                         "no arrangement of the %zu actual element(s) matches the %zu "
                         "expected one(s)%s",
                         json_array_size(a), json_array_size(arg), contains ? " (subset)" : "");
        return 1;
    }
    if (strcmp(op, "$status") == 0) {
        int64_t want = 0;
        int resolved = 0;
        if (m->profile) {
            resolved = oms_profile_status_resolve(m->profile, arg, &want) == 0;
        } else if (json_is_integer(arg)) {
            resolved = 1;
            want = json_integer_value(arg);
        }
        long long have = 0;
        char tail = 0;
        int have_ok = 0;
        if (json_is_integer(a)) {
            have = json_integer_value(a);
            have_ok = 1;
        } else if (json_is_string(a)) {
            const char *t = json_string_value(a);
            size_t digits = strspn(t, "0123456789");
            have_ok = digits > 0 && digits < 19 && t[digits] == '\0' &&
                      sscanf(t, "%lld%c", &have, &tail) == 1;
        }
        if (resolved && have_ok && want == have)
            return 0;
        if (!resolved)
            matcher_mismatch(out, path, e, a, "%s is not a status of the profile",
                             brief(arg, what, sizeof(what)));
        else
            matcher_mismatch(out, path, e, a, "expected status %lld, found %s", (long long)want,
                             brief(a, child, sizeof(child)));
        return 1;
    }
    if (strcmp(op, "$capture") == 0 || strcmp(op, "$same") == 0) {
        const char *name = json_string_value(arg);
        json_t *seen = json_object_get(m->captures, name);
        if (!seen && op[1] == 'c') {
            json_object_set(m->captures, name, (json_t *)a);
            return 0;
        }
        if (!seen) {
            matcher_mismatch(out, path, e, a, "nothing was captured as \"%s\" before this point",
                             name);
            return 1;
        }
        if (json_equal(seen, (json_t *)a))
            return 0;
        matcher_mismatch(out, path, seen, a, "expected the value captured as \"%s\" (%s), found %s",
                         name, brief(seen, what, sizeof(what)), brief(a, child, sizeof(child)));
        return 1;
    }
    if (strcmp(op, "$not") == 0) {
        if (probe(m, arg, a) != 0)
            return 0;
        matcher_mismatch(out, path, e, a, "expected anything but %s, found %s",
                         brief(arg, what, sizeof(what)), brief(a, child, sizeof(child)));
        return 1;
    }
    matcher_mismatch(out, path, e, a, "unknown matcher %s", op);
    return 1;
}

static size_t match(struct mctx *m, const json_t *e, const json_t *a, const char *path, json_t *out)
{
    char what[256], child[OMS_ERR_PATH_MAX];
    if (matcher_is_matcher(e))
        return match_operator(m, e, a, path, out);
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

size_t matcher_match_captures(const struct oms_profile *profile, json_t *captures,
                              const json_t *expected, const json_t *actual, const char *path,
                              json_t *mismatches)
{
    struct mctx m = {profile, captures ? json_incref(captures) : json_object()};
    size_t n = match(&m, expected, actual, path, mismatches);
    json_decref(m.captures);
    return n;
}

size_t matcher_match(const struct oms_profile *profile, const json_t *expected,
                     const json_t *actual, const char *path, json_t *mismatches)
{
    return matcher_match_captures(profile, NULL, expected, actual, path, mismatches);
}
