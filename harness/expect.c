/* expect: expectations against responses, states and recorded calls. */
#include "expect.h"

#include "assign.h"
#include "matcher.h"
#include "oms_alloc.h"
#include "oms_buf.h"
#include "oms_crypto.h"
#include "oms_json.h"
#include "oms_str.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The comparison context of one check of this kind: the rule it exercises in this scenario, and
 * which rules only make notes. */
static struct matcher_ctx ctx_for(const struct expect_span *span, const char *kind)
{
    struct matcher_ctx m = {
        .profile = span->profile,
        .captures = span->captures,
        .rule = tier_rule_for(span->tier, kind, span->scenario->rules, span->scenario->rule_count),
        .soft = span->tier ? tier_soft_cb : NULL,
        .soft_arg = (void *)span->tier,
    };
    return m;
}

static struct result_check *add(const struct expect_span *span, const struct matcher_ctx *m,
                                struct result_check **checks, size_t *count, const char *what,
                                const char *rel, const json_t *expected, const json_t *actual,
                                json_t *mismatches)
{
    char path[OMS_ERR_PATH_MAX], where[OMS_ERR_SOURCE_MAX + 32];
    snprintf(path, sizeof(path), "%s%s", span->then_path, rel);
    scenario_where(span->scenario, path, where, sizeof(where));
    return result_add_check(checks, count, what, where, m->rule, expected, actual, mismatches);
}

static char *label(const struct oms_profile *p, int64_t v, char *out, size_t size)
{
    return oms_profile_status_label(p, v, out, size);
}

/* Compares an expected status (name or number) with an actual number. */
static void status_compare(const struct oms_profile *p, const json_t *expected,
                           const json_t *actual, const char *path, json_t *out)
{
    int64_t want;
    char a[96], b[96];
    if (oms_profile_status_resolve(p, expected, &want) != 0) {
        char *text = oms_json_dumps(expected);
        matcher_mismatch(out, path, expected, actual,
                         "%s is not a status of the profile's catalogue", text);
        free(text);
        return;
    }
    if (!json_is_integer(actual)) {
        matcher_mismatch(out, path, expected, actual, "expected status %s, found no status",
                         label(p, want, a, sizeof(a)));
        return;
    }
    if (json_integer_value(actual) != want)
        matcher_mismatch(out, path, expected, actual, "expected %s, found %s",
                         label(p, want, a, sizeof(a)),
                         label(p, json_integer_value(actual), b, sizeof(b)));
}

static void check_response(const struct expect_span *span, const json_t *exp,
                           struct result_check **checks, size_t *count)
{
    const json_t *r = span->response;
    struct matcher_ctx mc = ctx_for(span, "response");
    json_t *v;
    v = json_object_get(exp, "status");
    if (v) {
        json_t *out = json_array();
        json_t *actual = json_object_get(r, "status");
        if (!r)
            matcher_mismatch(out, "$", v, NULL, "no request was sent in this span");
        else
            matcher_run(&mc, v, actual, "$", out);
        add(span, &mc, checks, count, "response.status", ".response.status", v, actual, out);
    }
    v = json_object_get(exp, "body");
    if (v) {
        json_t *out = json_array();
        const char *raw = json_string_value(json_object_get(r, "body"));
        json_t *parsed = json_object_get(r, "json");
        json_t *shown = parsed && !json_is_null(parsed) ? parsed : json_object_get(r, "body");
        if (json_is_string(v) && json_string_length(v) == 0) {
            if (raw && raw[0])
                matcher_mismatch(out, "$", v, shown, "expected an empty body, found %zu byte(s)",
                                 strlen(raw));
        } else if (!parsed || json_is_null(parsed)) {
            matcher_mismatch(out, "$", v, shown, "expected a JSON body, found %s",
                             raw && raw[0] ? "text that is not JSON" : "an empty body");
        } else {
            matcher_run(&mc, v, parsed, "$", out);
        }
        add(span, &mc, checks, count, "response.body", ".response.body", v, shown, out);
    }
    v = json_object_get(exp, "headers");
    if (v) {
        json_t *out = json_array();
        json_t *have = json_object_get(r, "headers");
        const char *name;
        json_t *hv;
        json_object_foreach(v, name, hv)
        {
            char lower[128];
            oms_str_lower(lower, sizeof(lower), name);
            char p[OMS_ERR_PATH_MAX];
            matcher_run(&mc, hv, json_object_get(have, lower),
                        oms_jpath_key(p, sizeof(p), "$", name), out);
        }
        add(span, &mc, checks, count, "response.headers", ".response.headers", v, have, out);
    }
}

/* "204 x1, 400 x7" from {"204": 1, "400": 7}, statuses in ascending order (which of concurrent
 * commands is answered first is not fixed); into out. */
static const char *status_tally(const json_t *by_status, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    long last = -1;
    for (;;) {
        const char *code, *next = NULL;
        json_t *n;
        long lowest = 0;
        json_object_foreach((json_t *)by_status, code, n)
        {
            long v = strtol(code, NULL, 10);
            if (v > last && (!next || v < lowest)) {
                next = code;
                lowest = v;
            }
        }
        if (!next)
            break;
        last = lowest;
        int w = snprintf(out + used, size - used, "%s%s x%lld", used ? ", " : "", next,
                         (long long)json_integer_value(json_object_get(by_status, next)));
        if (w < 0 || (size_t)w >= size - used)
            break;
        used += (size_t)w;
    }
    if (!used)
        snprintf(out, size, "none");
    return out;
}

/* SPEC C-11: by status code, how many of the step's answers had it, and their bodies. */
static void check_responses(const struct expect_span *span, const json_t *exp,
                            struct result_check **checks, size_t *count)
{
    struct matcher_ctx mc = ctx_for(span, "responses");
    json_t *by_status = json_object();
    size_t i;
    json_t *r;
    json_array_foreach((json_t *)span->responses, i, r)
    {
        char code[16];
        snprintf(code, sizeof(code), "%lld",
                 (long long)json_integer_value(json_object_get(r, "status")));
        json_t *n = json_object_get(by_status, code);
        json_object_set_new(by_status, code, json_integer(n ? json_integer_value(n) + 1 : 1));
    }
    json_t *out = json_array();
    const char *code;
    json_t *want;
    json_object_foreach((json_t *)exp, code, want)
    {
        char p[64];
        snprintf(p, sizeof(p), "$[\"%s\"]", code);
        json_t *have = json_object_get(by_status, code);
        json_int_t n = have ? json_integer_value(have) : 0;
        json_t *c = json_object_get(want, "count");
        if (json_integer_value(c) != n) {
            json_t *a = json_integer(n);
            char came[256];
            matcher_mismatch(out, p, c, a,
                             "expected %lld response(s) with status %s, found %lld (the %zu "
                             "answer(s) were: %s)",
                             (long long)json_integer_value(c), code, (long long)n,
                             json_array_size(span->responses),
                             status_tally(by_status, came, sizeof(came)));
            json_decref(a);
        }
        json_t *body = json_object_get(want, "body");
        json_array_foreach((json_t *)span->responses, i, r)
        {
            char s[16];
            snprintf(s, sizeof(s), "%lld",
                     (long long)json_integer_value(json_object_get(r, "status")));
            if (!body || strcmp(s, code) != 0)
                continue;
            char bp[128];
            snprintf(bp, sizeof(bp), "%s.body (response %zu)", p, i);
            json_t *parsed = json_object_get(r, "json");
            matcher_run(&mc, body, json_is_null(parsed) ? json_object_get(r, "body") : parsed, bp,
                        out);
        }
    }
    /* Statuses nobody expected are differences too. */
    json_object_foreach(by_status, code, want)
    {
        if (!json_object_get(exp, code)) {
            char p[64];
            snprintf(p, sizeof(p), "$[\"%s\"]", code);
            matcher_mismatch(out, p, NULL, want,
                             "%lld response(s) had status %s, which was not expected",
                             (long long)json_integer_value(want), code);
        }
    }
    add(span, &mc, checks, count, "responses", ".responses", exp, by_status, out);
    json_decref(by_status);
}

static json_t *count_or_list(const json_t *list)
{
    return json_integer((json_int_t)json_array_size(list));
}

static void check_package(const struct expect_span *span, const char *id_text, const json_t *exp,
                          struct result_check **checks, size_t *count)
{
    int64_t id = strtoll(id_text, NULL, 10);
    const json_t *pkg = oms_json_find_by_id(json_object_get(span->after, "packages"), id);
    char what[128], rel[160];
    const json_t *exists = json_object_get(exp, "exists");
    if (exists || !pkg) {
        struct matcher_ctx mc = ctx_for(span, "packages.exists");
        json_t *out = json_array();
        int want = exists ? json_is_true(exists) : 1;
        if (want && !pkg)
            matcher_mismatch(out, "$", NULL, NULL,
                             "package %s does not exist in the target's state", id_text);
        else if (!want && pkg)
            matcher_mismatch(out, "$", NULL, NULL, "package %s exists, but should not", id_text);
        snprintf(what, sizeof(what), "packages.%s.exists", id_text);
        snprintf(rel, sizeof(rel), ".packages[\"%s\"]", id_text);
        json_t *b = json_boolean(pkg != NULL);
        add(span, &mc, checks, count, what, rel, exists, b, out);
        json_decref(b);
        if (!pkg)
            return;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)exp, key, v)
    {
        if (strcmp(key, "exists") == 0)
            continue;
        char kind[64];
        snprintf(kind, sizeof(kind), "packages.%s", key);
        struct matcher_ctx mc = ctx_for(span, kind);
        json_t *out = json_array();
        json_t *actual = NULL;
        snprintf(what, sizeof(what), "packages.%s.%s", id_text, key);
        snprintf(rel, sizeof(rel), ".packages[\"%s\"].%s", id_text, key);
        if (strcmp(key, "status") == 0) {
            actual = json_incref(json_object_get(pkg, "status"));
            status_compare(span->profile, v, actual, "$", out);
        } else if (strcmp(key, "items") == 0) {
            json_t *items = json_object_get(pkg, "items");
            actual = json_object();
            size_t i;
            json_t *it;
            json_array_foreach(items, i, it)
            {
                char k[32];
                snprintf(k, sizeof(k), "%lld",
                         (long long)json_integer_value(json_object_get(it, "id")));
                json_object_set(actual, k, json_object_get(it, "status"));
            }
            if (json_is_object(v)) {
                const char *ik;
                json_t *iv;
                json_object_foreach(v, ik, iv)
                {
                    char p[64];
                    snprintf(p, sizeof(p), "$[\"%s\"]", ik);
                    json_t *a = json_object_get(actual, ik);
                    if (!a)
                        matcher_mismatch(out, p, iv, NULL, "item %s is not in package %s", ik,
                                         id_text);
                    else
                        status_compare(span->profile, iv, a, p, out);
                }
            } else {
                if (json_array_size(items) == 0)
                    matcher_mismatch(out, "$", v, actual, "package %s has no items", id_text);
                const char *ik;
                json_t *a;
                json_object_foreach(actual, ik, a)
                {
                    char p[64];
                    snprintf(p, sizeof(p), "$[\"%s\"]", ik);
                    status_compare(span->profile, v, a, p, out);
                }
            }
        } else if (strcmp(key, "reservations") == 0 || strcmp(key, "discrepancies") == 0) {
            json_t *list = json_object_get(pkg, key);
            if (json_is_integer(v)) {
                actual = count_or_list(list);
                if (!json_equal(v, actual))
                    matcher_mismatch(out, "$", v, actual, "expected %lld %s, found %zu",
                                     (long long)json_integer_value(v), key, json_array_size(list));
            } else {
                actual = json_incref(list);
                matcher_run(&mc, v, list, "$", out);
            }
        } else {
            actual = json_incref(json_object_get(pkg, key));
            matcher_run(&mc, v, actual, "$", out);
        }
        add(span, &mc, checks, count, what, rel, v, actual, out);
        json_decref(actual);
    }
}

static void check_locations(const struct expect_span *span, const json_t *exp,
                            struct result_check **checks, size_t *count)
{
    const char *id_text;
    json_t *fields;
    json_object_foreach((json_t *)exp, id_text, fields)
    {
        const json_t *loc = oms_json_find_by_id(json_object_get(span->after, "locations"),
                                                strtoll(id_text, NULL, 10));
        const char *key;
        json_t *v;
        json_object_foreach(fields, key, v)
        {
            char what[128], rel[160];
            snprintf(what, sizeof(what), "locations.%s.%s", id_text, key);
            snprintf(rel, sizeof(rel), ".locations[\"%s\"].%s", id_text, key);
            char kind[64];
            snprintf(kind, sizeof(kind), "locations.%s", key);
            struct matcher_ctx mc = ctx_for(span, kind);
            json_t *out = json_array();
            json_t *actual = json_object_get(loc, key);
            if (!loc)
                matcher_mismatch(out, "$", v, NULL,
                                 "location %s does not exist in the target's state", id_text);
            else
                matcher_run(&mc, v, actual, "$", out);
            add(span, &mc, checks, count, what, rel, v, actual, out);
        }
    }
}

/* Entries of after's log that were not in before's. */
static json_t *new_log_entries(const json_t *before, const json_t *after)
{
    json_t *fresh = json_array();
    const json_t *old = json_object_get(before, "transition_log");
    size_t i;
    json_t *e;
    json_array_foreach(json_object_get(after, "transition_log"), i, e)
    {
        if (!oms_json_find_by_id(old, json_integer_value(json_object_get(e, "id"))))
            json_array_append(fresh, e);
    }
    return fresh;
}

/* A log entry expectation: statuses by name become $status matchers; only named keys count. */
static json_t *log_entry_matcher(const json_t *e)
{
    if (!json_is_object(e) || matcher_is_matcher(e))
        return json_incref((json_t *)e);
    json_t *fields = json_deep_copy(e);
    const char *keys[] = {"old_status", "new_status"};
    for (size_t k = 0; k < 2; k++) {
        json_t *v = json_object_get(fields, keys[k]);
        if (v && !matcher_is_matcher(v))
            json_object_set_new(fields, keys[k], json_pack("{s:O}", "$status", v));
    }
    return json_pack("{s:o}", "$partial", fields);
}

static void check_log(const struct expect_span *span, const json_t *exp,
                      struct result_check **checks, size_t *count)
{
    struct matcher_ctx mc = ctx_for(span, "transition_log");
    json_t *fresh = new_log_entries(span->before, span->after);
    json_t *out = json_array();
    json_t *c = json_object_get(exp, "count");
    if (json_is_object(exp) && !matcher_is_matcher(exp) && c) {
        json_t *n = count_or_list(fresh);
        matcher_run(&mc, c, n, "$.count", out);
        json_decref(n);
    } else if (json_is_array(exp)) {
        json_t *m = json_array();
        size_t i;
        json_t *e;
        json_array_foreach((json_t *)exp, i, e)
        {
            json_array_append_new(m, log_entry_matcher(e));
        }
        matcher_run(&mc, m, fresh, "$", out);
        json_decref(m);
    } else {
        matcher_run(&mc, exp, fresh, "$", out);
    }
    add(span, &mc, checks, count, "transition_log", ".transition_log", exp, fresh, out);
    json_decref(fresh);
}

/* ---- outbound calls ---- */

static json_t *call_view(const json_t *entry)
{
    return json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?}", "method", json_object_get(entry, "method"),
                     "path", json_object_get(entry, "path"), "headers",
                     json_object_get(entry, "headers"), "body", json_object_get(entry, "json"),
                     "raw_body", json_object_get(entry, "body"));
}

/* Compares one expected call with one recorded entry under mc (whose captures it may extend);
 * appends the differences to out and returns how many. */
static size_t call_compare(const struct expect_span *span, const struct matcher_ctx *mc,
                           const json_t *exp, const json_t *entry, const char *path, json_t *out)
{
    size_t from = json_array_size(out);
    json_t *fields = json_object();
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)exp, key, v)
    {
        if (strcmp(key, "headers") == 0) {
            json_t *h = json_object();
            const char *name;
            json_t *hv;
            json_object_foreach(v, name, hv)
            {
                char lower[128];
                json_object_set(h, oms_str_lower(lower, sizeof(lower), name), hv);
            }
            json_object_set_new(fields, "headers", json_pack("{s:o}", "$partial", h));
        } else if (strcmp(key, "signed_with") != 0 && strcmp(key, "unsigned") != 0) {
            json_object_set(fields, key, v);
        }
    }
    json_t *m = json_pack("{s:o}", "$partial", fields);
    json_t *view = call_view(entry);
    matcher_run(mc, m, view, path, out);
    json_decref(m);

    /* SPEC O-3: the signature is recomputed here from the bytes that arrived. */
    char header[128];
    const char *hname = oms_profile_signature_header(span->profile);
    oms_str_lower(header, sizeof(header), hname);
    json_t *sig = json_object_get(json_object_get(entry, "headers"), header);
    char sp[OMS_ERR_PATH_MAX];
    snprintf(sp, sizeof(sp), "%s.headers.%s", path, header);
    const char *secret = json_string_value(json_object_get(exp, "signed_with"));
    if (secret) {
        const char *raw = json_string_value(json_object_get(entry, "body"));
        char mac[65], want[128];
        oms_hmac_sha256_hex(secret, strlen(secret), raw ? raw : "", raw ? strlen(raw) : 0, mac);
        snprintf(want, sizeof(want), "%s%s", oms_profile_signature_prefix(span->profile), mac);
        if (!json_is_string(sig) || strcmp(json_string_value(sig), want) != 0) {
            json_t *w = json_string(want);
            matcher_mismatch(out, sp, w, sig,
                             sig ? "the signature is not the HMAC-SHA256 of the body with \"%s\""
                                 : "no %s header (expected a signature with \"%s\")",
                             sig ? secret : hname, secret);
            json_decref(w);
        }
    }
    if (json_is_true(json_object_get(exp, "unsigned")) && sig)
        matcher_mismatch(out, sp, NULL, sig, "expected no %s header", hname);
    json_decref(view);
    return json_array_size(out) - from;
}

/* The hard differences between an expected call and a recorded one, captures left untouched;
 * the differences themselves go to diffs when it is not NULL. */
static size_t probe_call(const struct expect_span *span, const struct matcher_ctx *mc,
                         const json_t *exp, const json_t *entry, json_t *diffs)
{
    json_t *scratch = json_array();
    struct matcher_ctx trial = *mc;
    trial.captures = json_deep_copy(mc->captures ? mc->captures : span->captures);
    call_compare(span, &trial, exp, entry, "$", scratch);
    size_t n = matcher_hard_count(mc, scratch, 0);
    if (diffs)
        json_array_extend(diffs, scratch);
    json_decref(trial.captures);
    json_decref(scratch);
    return n;
}

static json_t *calls_summary(const json_t *calls)
{
    json_t *s = json_array();
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)calls, i, e)
    {
        json_array_append_new(s, call_view(e));
    }
    return s;
}

/* "PATCH /api/i1/..., POST /hooks/wms" for up to a few calls; into out. */
static const char *calls_brief(const json_t *calls, char *out, size_t size)
{
    size_t used = 0, i;
    json_t *e;
    out[0] = '\0';
    json_array_foreach((json_t *)calls, i, e)
    {
        int w =
            i < 4 ? snprintf(out + used, size - used, "%s%s %s", used ? ", " : "",
                             json_string_value(json_object_get(e, "method")),
                             json_string_value(json_object_get(e, "path")))
                  : snprintf(out + used, size - used, ", ... (%zu in all)", json_array_size(calls));
        if (w < 0 || (size_t)w >= size - used || i >= 4)
            break;
        used += (size_t)w;
    }
    return out;
}

/* One near miss: how the nearest recorded call differs from an expected one that did not arrive. */
static void near_miss(const struct expect_span *span, const struct matcher_ctx *mc,
                      const json_t *exp, const json_t *entry, const char *path, const char *mock,
                      json_t *out)
{
    json_t *diffs = json_array();
    probe_call(span, mc, exp, entry, diffs);
    struct oms_buf text;
    oms_buf_init(&text, 0);
    size_t k;
    json_t *d;
    json_array_foreach(diffs, k, d)
    {
        if (k == 3) {
            oms_buf_printf(&text, "; (+%zu more)", json_array_size(diffs) - 3);
            break;
        }
        oms_buf_printf(&text, "%sat %s: %s", k ? "; " : "",
                       json_string_value(json_object_get(d, "path")),
                       json_string_value(json_object_get(d, "message")));
    }
    json_t *view = call_view(entry);
    matcher_mismatch(out, path, exp, view,
                     "not received; the nearest call the %s mock recorded (%s %s) differs: %s",
                     mock, json_string_value(json_object_get(entry, "method")),
                     json_string_value(json_object_get(entry, "path")), oms_buf_str(&text));
    json_decref(view);
    oms_buf_cleanup(&text);
    json_decref(diffs);
}

/* For each expected call that no recorded call of the span matches, the nearest recorded call
 * (the fewest differences) and how it differs - as WireMock's near misses do. nearby holds every
 * call the mock recorded during the span (any path). The expected calls are first paired in order
 * with the recorded ones they match, in a scratch capture table, so a $same after its $capture is
 * judged as the real comparison would judge it. */
static void near_misses(const struct expect_span *span, const struct matcher_ctx *mc,
                        const json_t *list, const json_t *nearby, const char *mock,
                        const char *implied_path, json_t *out)
{
    size_t n = json_array_size(nearby), shown = 0;
    unsigned char *used = oms_xcalloc(n + 1, 1);
    struct matcher_ctx scratch = *mc;
    scratch.captures = json_deep_copy(span->captures ? span->captures : json_object());
    for (size_t i = 0; i < json_array_size(list) && shown < 3; i++) {
        /* A named receiver's calls go to its own path: part of what is expected. */
        json_t *exp = json_deep_copy(json_array_get(list, i));
        if (implied_path && json_is_object(exp) && !json_object_get(exp, "path"))
            json_object_set_new(exp, "path", json_string(implied_path));
        size_t best = (size_t)-1, best_n = (size_t)-1;
        for (size_t j = 0; j < n; j++) {
            size_t d = probe_call(span, &scratch, exp, json_array_get(nearby, j), NULL);
            if (d == 0 && !used[j]) {
                best = j;
                best_n = 0;
                break;
            }
            if (d < best_n) {
                best_n = d;
                best = j;
            }
        }
        char p[64];
        snprintf(p, sizeof(p), "$[%zu]", i);
        if (best == (size_t)-1) {
            if (shown++ == 0)
                matcher_mismatch(out, p, exp, NULL,
                                 "no call at all reached the %s mock during this span", mock);
        } else if (best_n == 0) {
            /* It arrived; keep its captures for the calls after it. */
            if (!used[best]) {
                json_t *sink = json_array();
                call_compare(span, &scratch, exp, json_array_get(nearby, best), "$", sink);
                json_decref(sink);
            }
            used[best] = 1;
        } else {
            near_miss(span, &scratch, exp, json_array_get(nearby, best), p, mock, out);
            shown++;
        }
        json_decref(exp);
    }
    json_decref(scratch.captures);
    free(used);
}

static void check_calls(const struct expect_span *span, const char *kind, const char *what,
                        const char *rel, const json_t *exp, const json_t *actual,
                        const json_t *nearby, const char *mock, const char *implied_path,
                        struct result_check **checks, size_t *count)
{
    struct matcher_ctx mc = ctx_for(span, kind);
    json_t *out = json_array();
    int unordered = json_is_object(exp);
    const json_t *list = unordered ? json_object_get(exp, "$unordered") : exp;
    json_t *shown = calls_summary(actual);
    size_t n = json_array_size(list), k = json_array_size(actual);
    if (n != k) {
        char came[512];
        if (n == 0)
            matcher_mismatch(out, "$", list, shown, "expected no call, found %zu: %s", k,
                             calls_brief(actual, came, sizeof(came)));
        else if (k == 0)
            matcher_mismatch(out, "$", list, shown, "expected %zu call(s), found none", n);
        else
            matcher_mismatch(out, "$", list, shown, "expected %zu call(s), found %zu: %s", n, k,
                             calls_brief(actual, came, sizeof(came)));
        near_misses(span, &mc, list, nearby, mock, implied_path, out);
    } else if (!unordered) {
        for (size_t i = 0; i < n; i++) {
            char p[64];
            snprintf(p, sizeof(p), "$[%zu]", i);
            call_compare(span, &mc, json_array_get(list, i), json_array_get(actual, i), p, out);
        }
    } else {
        unsigned char *compat = oms_xcalloc(n * k + 1, 1);
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < k; j++)
                compat[i * k + j] = probe_call(span, &mc, json_array_get(list, i),
                                               json_array_get(actual, j), NULL) == 0;
        size_t *pairing = oms_xcalloc(n + 1, sizeof(size_t));
        if (assign_pairs(n, k, compat, pairing) != 0) {
            matcher_mismatch(out, "$", list, shown,
                             "no order of the %zu recorded call(s) matches the expected ones", k);
            near_misses(span, &mc, list, actual, mock, implied_path, out);
        } else {
            /* Compare the pairs found once more for real, so their captures are kept. */
            for (size_t i = 0; i < n; i++) {
                char p[64];
                snprintf(p, sizeof(p), "$[%zu]", pairing[i]);
                call_compare(span, &mc, json_array_get(list, i), json_array_get(actual, pairing[i]),
                             p, out);
            }
        }
        free(pairing);
        free(compat);
    }
    add(span, &mc, checks, count, what, rel, exp, shown, out);
    json_decref(shown);
}

static json_t *calls_to(const json_t *calls, const char *path)
{
    json_t *sel = json_array();
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)calls, i, e)
    {
        if (strcmp(json_string_value(json_object_get(e, "path")), path) == 0)
            json_array_append(sel, e);
    }
    return sel;
}

static void check_webhooks(const struct expect_span *span, const json_t *exp,
                           struct result_check **checks, size_t *count)
{
    if (json_is_array(exp)) {
        check_calls(span, "webhooks", "webhooks", ".webhooks", exp, span->webhook_calls,
                    span->webhook_calls, "webhook", NULL, checks, count);
        return;
    }
    const char *name;
    json_t *calls;
    json_object_foreach((json_t *)exp, name, calls)
    {
        char path[256], what[160], rel[200];
        snprintf(path, sizeof(path), "%s%s", span->webhook_prefix, name);
        snprintf(what, sizeof(what), "webhooks.%s", name);
        snprintf(rel, sizeof(rel), ".webhooks.%s", name);
        json_t *sel = calls_to(span->webhook_calls, path);
        check_calls(span, "webhooks", what, rel, calls, sel, span->webhook_calls, "webhook", path,
                    checks, count);
        json_decref(sel);
    }
}

/* An outbox row as scenarios see it: receiver name instead of URL, the attempts' statuses, and
 * the delays the retry policy scheduled after each failed attempt (the target reports them as
 * retry_in_ms; a target that does not falls back to the gaps between attempt starts). */
static json_t *outbox_view(const json_t *row, const char *prefix)
{
    const char *url = json_string_value(json_object_get(row, "url"));
    const char *hooks = url ? strstr(url, prefix) : NULL;
    json_t *statuses = json_array(), *delays = json_array();
    json_int_t prev = -1;
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(row, "attempt_history"), i, a)
    {
        json_array_append(statuses, json_object_get(a, "status"));
        json_t *retry_in = json_object_get(a, "retry_in_ms");
        json_int_t at = json_integer_value(json_object_get(a, "at_ms"));
        if (json_is_integer(retry_in))
            json_array_append(delays, retry_in);
        else if (!retry_in && prev >= 0)
            json_array_append_new(delays, json_integer(at - prev));
        prev = at;
    }
    return json_pack("{s:O?, s:s?, s:O?, s:O?, s:O?, s:o, s:o, s:O?, s:O?}", "kind",
                     json_object_get(row, "kind"), "receiver",
                     hooks ? hooks + strlen(prefix) : NULL, "state", json_object_get(row, "state"),
                     "attempts", json_object_get(row, "attempts"), "max_attempts",
                     json_object_get(row, "max_attempts"), "statuses", statuses, "delays_ms",
                     delays, "event_uuid", json_object_get(row, "event_uuid"), "last_error",
                     json_object_get(row, "last_error"));
}

static void check_outbox(const struct expect_span *span, const json_t *exp,
                         struct result_check **checks, size_t *count)
{
    struct matcher_ctx mc = ctx_for(span, "outbox");
    if (span->no_outbox) {
        char path[OMS_ERR_PATH_MAX], where[OMS_ERR_SOURCE_MAX + 32];
        snprintf(path, sizeof(path), "%s.outbox", span->then_path);
        scenario_where(span->scenario, path, where, sizeof(where));
        result_skip_check(checks, count, "outbox", where, mc.rule, EXPECT_NO_OUTBOX);
        return;
    }
    json_t *fresh = json_array();
    const json_t *old = json_object_get(span->before, "outbox");
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(span->after, "outbox"), i, row)
    {
        if (!oms_json_find_by_id(old, json_integer_value(json_object_get(row, "id"))))
            json_array_append_new(fresh, outbox_view(row, span->webhook_prefix));
    }
    json_t *m = NULL;
    if (json_is_array(exp)) {
        m = json_array();
        json_t *e;
        json_array_foreach((json_t *)exp, i, e)
        {
            json_array_append_new(m, json_is_object(e) && !matcher_is_matcher(e)
                                         ? json_pack("{s:O}", "$partial", e)
                                         : json_incref(e));
        }
    }
    json_t *out = json_array();
    matcher_run(&mc, m ? m : exp, fresh, "$", out);
    add(span, &mc, checks, count, "outbox", ".outbox", exp, fresh, out);
    json_decref(m);
    json_decref(fresh);
}

static void check_unchanged(const struct expect_span *span, struct result_check **checks,
                            size_t *count)
{
    struct matcher_ctx mc = ctx_for(span, "unchanged");
    static const char *const parts[] = {"locations", "packages", "transition_log", "outbox"};
    /* Without the outbox capability the receivers stand in for the outbox (calls below). */
    size_t nparts = span->no_outbox ? 3 : 4;
    json_t *out = json_array();
    json_t *before = json_object(), *after = json_object();
    for (size_t i = 0; i < nparts; i++) {
        json_object_set(before, parts[i], json_object_get(span->before, parts[i]));
        json_object_set(after, parts[i], json_object_get(span->after, parts[i]));
    }
    matcher_run(&mc, before, after, "$", out);
    size_t calls = json_array_size(span->omnitron_calls) + json_array_size(span->webhook_calls);
    if (calls)
        matcher_mismatch(out, "$.calls", NULL, NULL,
                         "%zu outbound call(s) were made (%zu to Omnitron, %zu webhooks)", calls,
                         json_array_size(span->omnitron_calls),
                         json_array_size(span->webhook_calls));
    add(span, &mc, checks, count, "unchanged", ".unchanged", before, after, out);
    json_decref(before);
    json_decref(after);
}

void expect_check(const struct expect_span *span, const json_t *then, struct result_check **checks,
                  size_t *count)
{
    /* Keys are checked in the order they are written, so a $capture is seen before its $same. */
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)then, key, v)
    {
        if (strcmp(key, "response") == 0) {
            check_response(span, v, checks, count);
        } else if (strcmp(key, "responses") == 0) {
            check_responses(span, v, checks, count);
        } else if (strcmp(key, "packages") == 0) {
            const char *id;
            json_t *pkg;
            json_object_foreach(v, id, pkg)
            {
                check_package(span, id, pkg, checks, count);
            }
        } else if (strcmp(key, "locations") == 0) {
            check_locations(span, v, checks, count);
        } else if (strcmp(key, "transition_log") == 0) {
            check_log(span, v, checks, count);
        } else if (strcmp(key, "outbox") == 0) {
            check_outbox(span, v, checks, count);
        } else if (strcmp(key, "omnitron") == 0) {
            check_calls(span, "omnitron", "omnitron", ".omnitron", v, span->omnitron_calls,
                        span->omnitron_calls, "Omnitron", NULL, checks, count);
        } else if (strcmp(key, "webhooks") == 0) {
            check_webhooks(span, v, checks, count);
        } else if (strcmp(key, "unchanged") == 0 && json_is_true(v)) {
            check_unchanged(span, checks, count);
        }
    }
}

void expect_invariants(const struct oms_profile *profile, const json_t *state, const char *when,
                       struct result_check **checks, size_t *count, json_t *notes)
{
    size_t i;
    json_t *loc;
    json_array_foreach(json_object_get(state, "locations"), i, loc)
    {
        int64_t id = json_integer_value(json_object_get(loc, "id"));
        int64_t quota = json_integer_value(json_object_get(loc, "quota"));
        int64_t max = json_integer_value(json_object_get(loc, "max_quota"));
        json_t *avail = json_object_get(loc, "available_quota");
        int64_t counting = 0;
        size_t k;
        json_t *pkg;
        json_array_foreach(json_object_get(state, "packages"), k, pkg)
        {
            if (json_integer_value(json_object_get(pkg, "location")) == id &&
                oms_profile_counts(profile, json_integer_value(json_object_get(pkg, "status"))))
                counting++;
        }
        char what[160];
        json_t *out = json_array();
        /* SPEC Q-1 */
        if (!json_is_integer(avail) || json_integer_value(avail) != max - quota)
            matcher_mismatch(out, "$.available_quota", NULL, avail,
                             "available_quota is not max_quota - quota (%lld - %lld = %lld)",
                             (long long)max, (long long)quota, (long long)(max - quota));
        snprintf(what, sizeof(what), "invariant Q-1 at location %lld %s", (long long)id, when);
        json_t *e = json_integer(max - quota);
        result_add_check(checks, count, what, "", "Q-1", e, avail, out)->invariant = 1;
        json_decref(e);

        /* SPEC Q-4 */
        out = json_array();
        json_t *exp = json_integer(counting), *act = json_integer(quota);
        if (quota < 0)
            matcher_mismatch(out, "$.quota", exp, act, "quota %lld is below 0", (long long)quota);
        else if (quota != counting && !json_is_true(json_object_get(loc, "quota_drift")))
            matcher_mismatch(
                out, "$.quota", exp, act,
                "quota %lld disagrees with the %lld counting package(s) at location %lld",
                (long long)quota, (long long)counting, (long long)id);
        else if (quota != counting) {
            char note[256];
            snprintf(note, sizeof(note),
                     "location %lld %s: quota %lld, counting packages %lld (declared drift)",
                     (long long)id, when, (long long)quota, (long long)counting);
            json_array_append_new(notes, json_string(note));
        }
        snprintf(what, sizeof(what), "invariant Q-4 at location %lld %s", (long long)id, when);
        result_add_check(checks, count, what, "", "Q-4", exp, act, out)->invariant = 1;
        json_decref(exp);
        json_decref(act);
    }
}
