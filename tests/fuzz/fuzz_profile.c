/* fuzz_profile: the input is a profile document (profiles/default.json's format), loaded as a
 * profile file is, and also applied as a fixture's "profile" overrides over the default
 * profile. A refused document names a JSON path and a reason. An accepted profile must be
 * consistent with itself: every status is found again by its number, name and key; every
 * transition by its id and slug, with sources and target in the catalogue; the planning status
 * and the lifecycle slugs resolve; the first token is accepted; and the profile's own document
 * loads again as the same profile. */
#include "fuzz.h"

#include "oms_crypto.h"
#include "oms_json.h"
#include "oms_profile.h"
#include "oms_quota.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct oms_profile *base;

static void cleanup(void)
{
    oms_profile_unref(base);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct oms_err err = {0};
    if (oms_profile_load_file(fuzz_path("profiles/default.json"), &base, &err) != 0)
        fuzz_fail("cannot load the default profile: %s", err.message);
    atexit(cleanup);
    return 0;
}

static void check_refusal(const char *what, int rc, const struct oms_err *err)
{
    if (rc != OMS_E_INVAL)
        fuzz_fail("%s: refused with code %d, expected OMS_E_INVAL", what, rc);
    if (!err->message[0] || err->path[0] != '$')
        fuzz_fail("%s: refused without a JSON path and a reason (path \"%s\", message \"%s\")",
                  what, err->path, err->message);
}

static void check_status(const char *what, const struct oms_profile *p, const json_t *ref,
                         int64_t want)
{
    int64_t got = 0;
    char *text = oms_json_dumps(ref);
    if (oms_profile_status_resolve(p, ref, &got) != 0)
        fuzz_fail("%s: status %lld is not found by %s", what, (long long)want, text);
    if (got != want)
        fuzz_fail("%s: %s names status %lld but resolves to %lld", what, text, (long long)want,
                  (long long)got);
    free(text);
}

static void check_in_catalogue(const char *what, const struct oms_profile *p, int64_t status)
{
    if (!oms_profile_status_by_value(p, status))
        fuzz_fail("%s: status %lld is not in the catalogue", what, (long long)status);
}

static void check_profile(const char *what, const struct oms_profile *p)
{
    size_t n = oms_profile_status_count(p);
    for (size_t i = 0; i < n; i++) {
        const struct oms_profile_status *s = oms_profile_status_at(p, i);
        json_t *ref = json_integer(s->value);
        check_status(what, p, ref, s->value);
        json_decref(ref);
        ref = json_string(s->name);
        check_status(what, p, ref, s->value);
        json_decref(ref);
        ref = json_string(s->key);
        check_status(what, p, ref, s->value);
        json_decref(ref);
        if (oms_profile_counts(p, s->value) != s->counts)
            fuzz_fail("%s: status %lld counts %d, its record says %d", what, (long long)s->value,
                      oms_profile_counts(p, s->value), s->counts);
    }
    for (size_t i = 0; i < oms_profile_transition_count(p); i++) {
        const struct oms_profile_transition *t = oms_profile_transition_at(p, i);
        if (oms_profile_transition_by_id(p, t->id) != t ||
            oms_profile_transition_by_slug(p, t->slug) != t)
            fuzz_fail("%s: transition %lld (\"%s\") is not found by its id and slug", what,
                      (long long)t->id, t->slug);
        check_in_catalogue(what, p, t->target);
        for (size_t k = 0; k < t->source_count; k++) {
            check_in_catalogue(what, p, t->sources[k]);
            if (!oms_profile_transition_allows(t, t->sources[k]))
                fuzz_fail("%s: transition %lld does not allow its own source", what,
                          (long long)t->id);
            int delta = oms_quota_delta(p, t->sources[k], t->target);
            if (delta != oms_profile_counts(p, t->target) - oms_profile_counts(p, t->sources[k]))
                fuzz_fail("%s: quota delta %d disagrees with SPEC Q-2", what, delta);
        }
    }
    json_t *plan = json_string(oms_profile_plan_status(p));
    int64_t value;
    if (oms_profile_status_resolve(p, plan, &value) != 0)
        fuzz_fail("%s: planning status \"%s\" does not resolve", what, oms_profile_plan_status(p));
    json_decref(plan);
    const char *token = oms_profile_default_token(p);
    if (!token || !oms_secret_in(oms_profile_tokens(p), token))
        fuzz_fail("%s: the first token is not accepted", what);
    if (oms_profile_max_body(p) < 16)
        fuzz_fail("%s: body limit %zu", what, oms_profile_max_body(p));
    /* The effective document is a profile, and the same one. */
    struct oms_profile *again = NULL;
    struct oms_err err = {0};
    if (oms_profile_from_json(oms_profile_json(p), "again", &again, &err) != 0)
        fuzz_fail("%s: the profile's own document is refused: %s at %s", what, err.message,
                  err.path);
    if (oms_profile_status_count(again) != n ||
        oms_profile_transition_count(again) != oms_profile_transition_count(p) ||
        !json_equal((json_t *)oms_profile_json(again), (json_t *)oms_profile_json(p)))
        fuzz_fail("%s: the profile's own document loads as a different profile", what);
    oms_profile_unref(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct oms_err err = {0};
    json_t *doc = oms_json_load_buf((const char *)data, size, "fuzz", &err);
    if (!doc)
        return 0;
    struct oms_profile *p = NULL;
    int rc = oms_profile_from_json(doc, "fuzz", &p, &err);
    if (rc == 0) {
        check_profile("profile", p);
        oms_profile_unref(p);
    } else {
        check_refusal("profile", rc, &err);
    }
    /* The same document as a fixture's overrides of the default profile. */
    memset(&err, 0, sizeof(err));
    p = NULL;
    rc = oms_profile_with_overrides(base, doc, &p, &err);
    if (rc == 0) {
        check_profile("overrides", p);
        oms_profile_unref(p);
    } else {
        check_refusal("overrides", rc, &err);
    }
    json_decref(doc);
    return 0;
}
