/* test_oms_profile: the default profile (SPEC P-1, A-1, A-5), status resolution, the quota
 * rule, and overrides - every malformed override names its exact JSON path and leaves the
 * base profile as it was. */
#include "support.h"

#include "oms_crypto.h"
#include "oms_json.h"
#include "oms_profile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_oms_profile_load_file_default(void **state)
{
    (void)state;
    assert_string_equal(oms_profile_name(support_profile), "akinon-oms-default");
    assert_int_equal(oms_profile_status_count(support_profile), 16);
    assert_int_equal(oms_profile_transition_count(support_profile), 7);
    const struct oms_profile_status *s = oms_profile_status_by_value(support_profile, 920);
    assert_non_null(s);
    assert_string_equal(s->name, "Out of Stock");
    assert_string_equal(s->key, "out_of_stock");
    assert_true(s->published);
    assert_false(oms_profile_status_by_value(support_profile, 850)->published); /* SPEC A-1 */
    assert_null(oms_profile_status_by_value(support_profile, 12345));
    assert_null(oms_profile_status_at(support_profile, 16));
    assert_int_equal(oms_profile_status_at(support_profile, 0)->value, 100);
    assert_true(oms_profile_sync_default(support_profile));
    assert_int_equal(oms_profile_max_body(support_profile), 65536);
    assert_string_equal(oms_profile_default_token(support_profile), SUPPORT_TOKEN);
    assert_string_equal(oms_profile_omnitron_method(support_profile), "PATCH");
    assert_string_equal(oms_profile_omnitron_path(support_profile),
                        "/api/i1/order_items/bulk_status_update/");
    assert_string_equal(oms_profile_signature_header(support_profile), "X-Akinon-Signature");
    assert_string_equal(oms_profile_signature_prefix(support_profile), "sha256=");
    assert_int_equal(oms_profile_delivery_timeout_ms(support_profile), 5000);
    assert_non_null(oms_profile_omnitron_retry(support_profile));
    assert_non_null(oms_profile_webhook_retry(support_profile));
    assert_string_equal(oms_profile_plan_status(support_profile), "Waiting");
    assert_true(json_is_object(oms_profile_json(support_profile)));
}

static void test_oms_profile_load_file_missing_and_malformed(void **state)
{
    (void)state;
    struct oms_profile *p = NULL;
    struct oms_err err = {0};
    assert_int_equal(oms_profile_load_file("/nonexistent/profile.json", &p, &err), OMS_E_IO);
    assert_null(p);
    assert_string_equal(err.source, "/nonexistent/profile.json");

    char dir[] = "/tmp/test_oms_profile.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char file[128];
    snprintf(file, sizeof(file), "%s/p.json", dir);
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("{\n  \"name\": \"x\",\n  \"statuses\": [,]\n}\n", f);
    fclose(f);
    oms_err_clear(&err);
    assert_int_equal(oms_profile_load_file(file, &p, &err), OMS_E_INVAL);
    assert_null(p);
    assert_string_equal(err.source, file);
    assert_int_equal(err.line, 3);
    assert_true(err.column > 0);

    /* Parses, but is not a valid profile: the error names the file and the path. */
    f = fopen(file, "w");
    assert_non_null(f);
    fputs("{\"name\": \"x\", \"colour\": 1}", f);
    fclose(f);
    oms_err_clear(&err);
    assert_int_equal(oms_profile_load_file(file, &p, &err), OMS_E_INVAL);
    assert_null(p);
    assert_string_equal(err.source, file);
    assert_string_equal(err.path, "$.colour");
    unlink(file);
    rmdir(dir);
}

static void test_oms_profile_from_json_not_an_object(void **state)
{
    (void)state;
    struct oms_profile *p = NULL;
    struct oms_err err = {0};
    json_t *doc = support_parse("[1, 2]");
    assert_int_equal(oms_profile_from_json(doc, "inline", &p, &err), OMS_E_INVAL);
    assert_null(p);
    assert_string_equal(err.path, "$");
    assert_string_equal(err.source, "inline");
    assert_non_null(strstr(err.message, "array"));
    json_decref(doc);
}

static void test_oms_profile_status_resolve_names_keys_numbers(void **state)
{
    (void)state;
    static const struct {
        const char *ref;
        int64_t want;
    } table[] = {
        {"\"Packed for Refund\"", 1100},
        {"\"packed for refund\"", 1100},
        {"\"PACKED FOR REFUND\"", 1100},
        {"\"packed_for_refund\"", 1100},
        {"\"Out of Stock\"", 920},
        {"\"OUT_OF_STOCK\"", 920},
        {"\"waiting\"", 100},
        {"\"Cancellation Waiting\"", 850},
        {"1100", 1100},
        {"100", 100},
        {"\"1100\"", 1100},
        {"\"920\"", 920},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        json_t *ref = support_parse(table[i].ref);
        int64_t v = -1;
        if (oms_profile_status_resolve(support_profile, ref, &v) != 0)
            fail_msg("%s did not resolve", table[i].ref);
        if (v != table[i].want)
            fail_msg("%s resolved to %lld", table[i].ref, (long long)v);
        json_decref(ref);
    }
}

static void test_oms_profile_status_resolve_unknown_is_noent(void **state)
{
    (void)state;
    static const char *const unknown[] = {"\"Nope\"",
                                          "\"Waitingg\"",
                                          "999",
                                          "\"999\"",
                                          "0",
                                          "-100",
                                          "\"\"",
                                          "\"100abc\"",
                                          "1100.0",
                                          "true",
                                          "null",
                                          "[100]",
                                          "{\"value\": 100}"};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        json_t *ref = support_parse(unknown[i]);
        int64_t v = 4242;
        int rc = oms_profile_status_resolve(support_profile, ref, &v);
        if (rc != OMS_E_NOENT)
            fail_msg("%s: expected OMS_E_NOENT, got %d (%lld)", unknown[i], rc, (long long)v);
        assert_int_equal(v, 4242);
        json_decref(ref);
    }
    int64_t v = 1;
    assert_int_equal(oms_profile_status_resolve(support_profile, NULL, &v), OMS_E_NOENT);
}

static void test_oms_profile_status_label_known_and_unknown(void **state)
{
    (void)state;
    char out[64];
    assert_string_equal(oms_profile_status_label(support_profile, 100, out, sizeof(out)),
                        "Waiting (100)");
    assert_string_equal(oms_profile_status_label(support_profile, 123, out, sizeof(out)),
                        "unknown status (123)");
}

/* SPEC A-5: below 400, or Cancellation Waiting. */
static void test_oms_profile_counts_per_a5(void **state)
{
    (void)state;
    static const int64_t counting[] = {100, 200, 300, 850};
    static const int64_t not_counting[] = {400, 500, 550, 600, 700, 800, 900, 920, 1100, 12345};
    for (size_t i = 0; i < sizeof(counting) / sizeof(counting[0]); i++)
        if (!oms_profile_counts(support_profile, counting[i]))
            fail_msg("%lld should count toward quota", (long long)counting[i]);
    for (size_t i = 0; i < sizeof(not_counting) / sizeof(not_counting[0]); i++)
        if (oms_profile_counts(support_profile, not_counting[i]))
            fail_msg("%lld should not count toward quota", (long long)not_counting[i]);
}

static void test_oms_profile_transition_lookups(void **state)
{
    (void)state;
    const struct oms_profile_transition *t =
        oms_profile_transition_by_slug(support_profile, "packed-for-refund");
    assert_non_null(t);
    assert_ptr_equal(t, oms_profile_transition_by_id(support_profile, 17));
    assert_int_equal(t->target, 1100);
    assert_true(oms_profile_transition_allows(t, 100));
    assert_true(oms_profile_transition_allows(t, 920));
    assert_false(oms_profile_transition_allows(t, 1100));
    assert_false(oms_profile_transition_allows(t, 500));
    assert_true(oms_profile_transition_deletes_reservations(t, 100));
    assert_false(oms_profile_transition_deletes_reservations(t, 920)); /* SPEC A-3 */
    assert_true(oms_profile_transition_deletes_discrepancies(t, 100));
    assert_false(oms_profile_transition_deletes_discrepancies(t, 920));
    assert_true(t->sync_remote);
    assert_string_equal(t->event_type, "package.status.packed_for_refund");
    assert_null(oms_profile_transition_by_id(support_profile, 999));
    assert_null(oms_profile_transition_by_slug(support_profile, "no-such"));
    assert_null(oms_profile_transition_at(support_profile, 7));
    assert_non_null(oms_profile_transition_at(support_profile, 6));
}

static void test_oms_profile_omnitron_tokens_lifecycle(void **state)
{
    (void)state;
    assert_string_equal(oms_profile_omnitron_status(support_profile, 1100), "packed_for_refund");
    assert_string_equal(oms_profile_omnitron_status(support_profile, 900), "cancelled");
    assert_null(oms_profile_omnitron_status(support_profile, 100));
    assert_true(oms_secret_in(oms_profile_tokens(support_profile), SUPPORT_TOKEN));
    assert_false(oms_secret_in(oms_profile_tokens(support_profile), "wrong"));
    assert_false(oms_secret_in(oms_profile_tokens(support_profile), ""));
    assert_false(oms_secret_in(oms_profile_tokens(support_profile), NULL));
    const json_t *cancel = oms_profile_lifecycle(support_profile, "cancel");
    assert_int_equal(json_array_size(cancel), 2);
    assert_string_equal(json_string_value(json_array_get(cancel, 1)), "cancel");
    assert_null(oms_profile_lifecycle(support_profile, "no_such_action"));
}

static void test_oms_profile_ref_unref(void **state)
{
    (void)state;
    struct oms_profile *p = oms_profile_ref(support_profile);
    assert_ptr_equal(p, support_profile);
    oms_profile_unref(p);
    assert_string_equal(oms_profile_name(support_profile), "akinon-oms-default"); /* still alive */
    oms_profile_unref(NULL);
}

static void test_oms_profile_with_overrides_applies_patch(void **state)
{
    (void)state;
    struct oms_profile *p = NULL;
    struct oms_err err = {0};
    json_t *patch =
        support_parse("{\"sync_remote_order_status_default\": false, \"tokens\": [\"a\", "
                      "\"b\"], \"webhook\": null, \"limits\": {\"max_body_bytes\": 64}, "
                      "\"quota\": {\"counting\": {\"below\": 400, \"also\": []}}}");
    assert_int_equal(oms_profile_with_overrides(support_profile, patch, &p, &err), 0);
    assert_non_null(p);
    assert_false(oms_profile_sync_default(p));
    assert_true(oms_profile_sync_default(support_profile));
    assert_true(oms_secret_in(oms_profile_tokens(p), "b"));
    assert_false(oms_secret_in(oms_profile_tokens(p), SUPPORT_TOKEN)); /* arrays replace */
    assert_string_equal(oms_profile_default_token(p), "a");
    assert_string_equal(oms_profile_signature_header(p), "X-Akinon-Signature"); /* default */
    assert_int_equal(oms_profile_max_body(p), 64);
    assert_false(oms_profile_counts(p, 850));
    assert_true(oms_profile_counts(support_profile, 850));
    assert_null(json_object_get(oms_profile_json(p), "webhook"));
    oms_profile_unref(p);
    json_decref(patch);
}

static void test_oms_profile_with_overrides_malformed_table(void **state)
{
    (void)state;
    static const struct {
        const char *patch;
        const char *path;
        const char *fragment;
    } table[] = {
        /* unknown top-level key (a typo never passes silently) */
        {"{\"statuse\": []}", "$.statuse", "unknown key"},
        {"{\"sync_remote_order_status_defaults\": false}", "$.sync_remote_order_status_defaults",
         "unknown key"},
        /* annotations */
        {"{\"version\": 0}", "$.version", "at least 1"},
        {"{\"description\": 7}", "$.description", "string"},
        {"{\"assumptions\": {}}", "$.assumptions", "list"},
        {"{\"assumptions\": [{\"id\": \"3\", \"text\": \"x\"}]}", "$.assumptions[0].id", "A-3"},
        {"{\"assumptions\": [{\"id\": \"A-3\", \"text\": \"\"}]}", "$.assumptions[0].text",
         "non-empty"},
        {"{\"assumptions\": [{\"id\": \"A-3\", \"text\": \"x\", \"since\": 2}]}",
         "$.assumptions[0].since", "unknown key"},
        /* statuses */
        {"{\"statuses\": []}", "$.statuses", "non-empty"},
        {"{\"statuses\": [{\"name\": \"A\", \"value\": 100}, {\"name\": \"B\", \"value\": 100}]}",
         "$.statuses[1]", "used twice"},
        {"{\"statuses\": [{\"name\": \"Waiting\", \"value\": 100}, {\"name\": \"WAITING\", "
         "\"value\": 101}]}",
         "$.statuses[1]", "used twice"},
        {"{\"statuses\": [{\"name\": \"A\", \"value\": 0}]}", "$.statuses[0].value", "positive"},
        {"{\"statuses\": [{\"name\": \"A\", \"value\": \"100\"}]}", "$.statuses[0].value",
         "integer"},
        {"{\"statuses\": [{\"value\": 100}]}", "$.statuses[0].name", "missing"},
        {"{\"statuses\": [{\"name\": \"A\", \"value\": 100, \"colour\": \"red\"}]}",
         "$.statuses[0].colour", "unknown key"},
        {"{\"statuses\": [{\"name\": \"A\", \"value\": 100, \"published\": \"yes\"}]}",
         "$.statuses[0].published", "true or false"},
        {"{\"statuses\": [7]}", "$.statuses[0]", "status object"},
        /* A name, key or number finds one status only. */
        {"{\"statuses\": [{\"name\": \"A\", \"value\": 100, \"key\": \"b\"}, {\"name\": \"B\", "
         "\"value\": 101}]}",
         "$.statuses[1]", "status name \"B\" is used twice (as the name or key of \"A\")"},
        {"{\"statuses\": [{\"name\": \"A\", \"value\": 100}, {\"name\": \"B\", \"value\": 101, "
         "\"key\": \"a\"}]}",
         "$.statuses[1]", "status key \"a\" is used twice"},
        {"{\"statuses\": [{\"name\": \"100\", \"value\": 200}]}", "$.statuses[0]",
         "reads as a status number"},
        {"{\"statuses\": [{\"name\": \"A\", \"value\": 100, \"key\": \"7\"}]}", "$.statuses[0]",
         "reads as a status number"},
        /* transitions */
        {"{\"transitions\": []}", "$.transitions", "non-empty"},
        {"{\"transitions\": [{\"id\": 1, \"slug\": \"x\", \"sources\": [\"Nowhere\"], "
         "\"target\": \"Waiting\"}]}",
         "$.transitions[0].sources[0]", "Nowhere"},
        {"{\"transitions\": [{\"id\": 1, \"slug\": \"x\", \"sources\": [\"Waiting\", 4242], "
         "\"target\": \"Packed\"}]}",
         "$.transitions[0].sources[1]", "4242"},
        {"{\"transitions\": [{\"id\": 1, \"slug\": \"x\", \"sources\": [\"Waiting\"], "
         "\"target\": \"Limbo\"}]}",
         "$.transitions[0].target", "Limbo"},
        {"{\"transitions\": [{\"id\": 1, \"slug\": \"x\", \"sources\": [\"Waiting\"]}]}",
         "$.transitions[0].target", "missing"},
        {"{\"transitions\": [{\"id\": 1, \"slug\": \"x\", \"target\": \"Packed\"}]}",
         "$.transitions[0].sources", "missing"},
        {"{\"transitions\": [{\"id\": 1, \"slug\": \"bad slug!\", \"sources\": [\"Waiting\"], "
         "\"target\": \"Packed\"}]}",
         "$.transitions[0].slug", "bad slug!"},
        {"{\"transitions\": [{\"id\": 0, \"slug\": \"x\", \"sources\": [\"Waiting\"], "
         "\"target\": \"Packed\"}]}",
         "$.transitions[0].id", "positive"},
        {"{\"transitions\": [{\"id\": 1, \"slug\": \"x\", \"sources\": [\"Waiting\"], "
         "\"target\": \"Packed\"}, {\"id\": 1, \"slug\": \"y\", \"sources\": [\"Waiting\"], "
         "\"target\": \"Packed\"}]}",
         "$.transitions[1]", "used twice"},
        {"{\"transitions\": [{\"id\": 1, \"slug\": \"x\", \"sources\": [\"Waiting\"], "
         "\"target\": \"Packed\"}, {\"id\": 2, \"slug\": \"x\", \"sources\": [\"Waiting\"], "
         "\"target\": \"Packed\"}]}",
         "$.transitions[1]", "used twice"},
        {"{\"transitions\": [{\"id\": 1, \"slug\": \"x\", \"sources\": [\"Waiting\"], "
         "\"target\": \"Packed\", \"sync\": true}]}",
         "$.transitions[0].sync", "unknown key"},
        {"{\"transitions\": [{\"id\": 1, \"slug\": \"x\", \"sources\": \"Waiting\", "
         "\"target\": \"Packed\"}]}",
         "$.transitions[0].sources", "list of statuses"},
        /* quota */
        {"{\"quota\": {\"counting\": {\"below\": 400, \"also\": [\"Nowhere\"]}}}",
         "$.quota.counting.also[0]", "Nowhere"},
        {"{\"quota\": {\"counting\": {\"below\": \"400\"}}}", "$.quota.counting.below", "integer"},
        {"{\"quota\": {\"countin\": {}}}", "$.quota.countin", "unknown key"},
        {"{\"quota\": null}", "$.quota", "counting"},
        /* omnitron */
        {"{\"omnitron\": {\"path\": \"api/i1/order_items/\"}}", "$.omnitron.path", "'/'"},
        {"{\"omnitron\": {\"path\": \"\"}}", "$.omnitron.path", "non-empty"},
        {"{\"omnitron\": {\"status_map\": {\"Nowhere\": \"x\"}}}", "$.omnitron.status_map.Nowhere",
         "Nowhere"},
        {"{\"omnitron\": {\"status_map\": {\"Waiting\": 5}}}", "$.omnitron.status_map.Waiting",
         "non-empty string"},
        {"{\"omnitron\": null}", "$.omnitron", "method"},
        /* flags, tokens, limits */
        {"{\"sync_remote_order_status_default\": \"no\"}", "$.sync_remote_order_status_default",
         "true or false"},
        {"{\"tokens\": []}", "$.tokens", "non-empty"},
        {"{\"tokens\": [\"ok\", \"\"]}", "$.tokens[1]", "non-empty"},
        {"{\"tokens\": \"refund-harness-token\"}", "$.tokens", "list"},
        {"{\"limits\": {\"max_body_bytes\": 8}}", "$.limits.max_body_bytes", "between"},
        {"{\"limits\": {\"max_body_bytes\": 2000000}}", "$.limits.max_body_bytes", "between"},
        {"{\"limits\": {\"max_body_bytes\": 100.5}}", "$.limits.max_body_bytes", "between"},
        {"{\"limits\": {\"max_body\": 100}}", "$.limits.max_body", "unknown key"},
        {"{\"webhook\": {\"signature_prefix\": 1}}", "$.webhook.signature_prefix", "string"},
        /* delivery and retry policies */
        {"{\"delivery\": {\"timeout_ms\": 1}}", "$.delivery.timeout_ms", "between"},
        {"{\"delivery\": {\"webhook_retry\": {\"choice\": \"sometimes\"}}}",
         "$.delivery.webhook_retry.choice", "exponential"},
        {"{\"delivery\": {\"omnitron_retry\": {\"max_retries\": -1}}}",
         "$.delivery.omnitron_retry.max_retries", "between"},
        /* lifecycle */
        {"{\"lifecycle\": {\"pack\": [\"no-such-slug\"]}}", "$.lifecycle.pack[0]", "slug"},
        {"{\"lifecycle\": {\"pack\": []}}", "$.lifecycle.pack", "non-empty"},
        {"{\"lifecycle\": {\"plan_status\": \"Nowhere\"}}", "$.lifecycle.plan_status", "Nowhere"},
    };
    const json_t *before = oms_profile_json(support_profile);
    json_t *snapshot = json_deep_copy(before);
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        json_t *patch = support_parse(table[i].patch);
        struct oms_profile *p = NULL;
        struct oms_err err = {0};
        int rc = oms_profile_with_overrides(support_profile, patch, &p, &err);
        if (rc != OMS_E_INVAL)
            fail_msg("case %zu %s: expected OMS_E_INVAL, got %d", i, table[i].patch, rc);
        assert_null(p);
        if (strcmp(err.path, table[i].path) != 0)
            fail_msg("case %zu %s: expected path %s, got %s (%s)", i, table[i].patch, table[i].path,
                     err.path, err.message);
        if (!strstr(err.message, table[i].fragment))
            fail_msg("case %zu %s: message \"%s\" lacks \"%s\"", i, table[i].patch, err.message,
                     table[i].fragment);
        if (strcmp(err.source, "profile overrides") != 0)
            fail_msg("case %zu: source \"%s\"", i, err.source);
        json_decref(patch);
        /* The base is unchanged, and still works. */
        support_assert_json_equal(oms_profile_json(support_profile), snapshot);
    }
    int64_t v = 0;
    json_t *ref = json_string("packed for refund");
    assert_int_equal(oms_profile_status_resolve(support_profile, ref, &v), 0);
    assert_int_equal(v, 1100);
    assert_int_equal(oms_profile_transition_count(support_profile), 7);
    assert_int_equal(oms_profile_max_body(support_profile), 65536);
    json_decref(ref);
    json_decref(snapshot);
}

/* A catalogue of 20,000 more statuses loads, its statuses are found by number, name and key, and
 * a repeated name at the very end is still caught and placed. (Loading is linear in the size of
 * the profile; the time is not asserted.) */
static void test_oms_profile_large_catalogue(void **state)
{
    (void)state;
    enum { EXTRA = 20000 };
    json_t *statuses =
        json_deep_copy(json_object_get(oms_profile_json(support_profile), "statuses"));
    size_t base = json_array_size(statuses);
    for (int i = 0; i < EXTRA; i++) {
        char name[32];
        snprintf(name, sizeof(name), "Extra %d", i);
        json_array_append_new(statuses, json_pack("{s:s, s:i}", "name", name, "value", 5000 + i));
    }
    json_t *patch = json_pack("{s:O}", "statuses", statuses);
    struct oms_profile *p = NULL;
    struct oms_err err = {0};
    if (oms_profile_with_overrides(support_profile, patch, &p, &err) != 0)
        fail_msg("%s at %s", err.message, err.path);
    assert_int_equal(oms_profile_status_count(p), base + EXTRA);
    int64_t v = 0;
    json_t *ref = json_string("EXTRA 19999");
    assert_int_equal(oms_profile_status_resolve(p, ref, &v), 0);
    assert_int_equal(v, 5000 + EXTRA - 1);
    json_decref(ref);
    ref = json_string("extra_123");
    assert_int_equal(oms_profile_status_resolve(p, ref, &v), 0);
    assert_int_equal(v, 5123);
    json_decref(ref);
    assert_non_null(oms_profile_status_by_value(p, 5000 + EXTRA - 1));
    assert_null(oms_profile_status_by_value(p, 5000 + EXTRA));
    oms_profile_unref(p);

    /* The same name once more, last: refused at that position. */
    json_array_append_new(statuses, json_pack("{s:s, s:i}", "name", "extra 7", "value", 4999));
    json_object_set(patch, "statuses", statuses);
    memset(&err, 0, sizeof(err));
    assert_int_equal(oms_profile_with_overrides(support_profile, patch, &p, &err), OMS_E_INVAL);
    char want[64];
    snprintf(want, sizeof(want), "$.statuses[%zu]", base + EXTRA);
    assert_string_equal(err.path, want);
    assert_non_null(strstr(err.message, "status name \"extra 7\" is used twice"));
    json_decref(statuses);
    json_decref(patch);
}

/* The built-in default is profiles/default.json byte for byte, and a profile that leaves out the
 * optional keys takes their values from it: C holds no default of its own. */
static void test_oms_profile_defaults_come_from_the_built_in_file(void **state)
{
    (void)state;
    struct oms_err err = {0};
    json_t *file = oms_json_load_file(support_path("profiles/default.json"), &err);
    assert_non_null(file);
    json_t *built_in = oms_json_load_buf((const char *)oms_profile_default_doc,
                                         oms_profile_default_doc_len, "built-in", &err);
    assert_non_null(built_in);
    assert_true(json_equal(file, built_in));
    struct oms_profile *d = NULL;
    assert_int_equal(oms_profile_load_default(&d, &err), 0);
    assert_true(json_equal(oms_profile_json(d), file));
    oms_profile_unref(d);

    /* The file's optional keys, left out. */
    json_t *doc = json_deep_copy(file);
    static const char *const optional[] = {"limits", "webhook", "delivery", "lifecycle",
                                           "sync_remote_order_status_default"};
    for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++)
        assert_int_equal(json_object_del(doc, optional[i]), 0);
    struct oms_profile *p = NULL;
    if (oms_profile_from_json(doc, "test", &p, &err) != 0)
        fail_msg("%s at %s", err.message, err.path);
    const json_t *limits = json_object_get(file, "limits");
    const json_t *webhook = json_object_get(file, "webhook");
    assert_int_equal(oms_profile_max_body(p),
                     json_integer_value(json_object_get(limits, "max_body_bytes")));
    assert_string_equal(oms_profile_signature_header(p),
                        json_string_value(json_object_get(webhook, "signature_header")));
    assert_string_equal(oms_profile_signature_prefix(p),
                        json_string_value(json_object_get(webhook, "signature_prefix")));
    assert_int_equal(
        oms_profile_delivery_timeout_ms(p),
        json_integer_value(json_object_get(json_object_get(file, "delivery"), "timeout_ms")));
    assert_string_equal(
        oms_profile_plan_status(p),
        json_string_value(json_object_get(json_object_get(file, "lifecycle"), "plan_status")));
    assert_int_equal(oms_profile_sync_default(p),
                     json_is_true(json_object_get(file, "sync_remote_order_status_default")));
    oms_profile_unref(p);
    json_decref(doc);
    json_decref(built_in);
    json_decref(file);
}

static void test_oms_profile_with_overrides_patch_not_object(void **state)
{
    (void)state;
    static const char *const patches[] = {"[]", "\"x\"", "null", "1"};
    for (size_t i = 0; i < sizeof(patches) / sizeof(patches[0]); i++) {
        json_t *patch = support_parse(patches[i]);
        struct oms_profile *p = NULL;
        struct oms_err err = {0};
        assert_int_equal(oms_profile_with_overrides(support_profile, patch, &p, &err), OMS_E_INVAL);
        assert_null(p);
        assert_string_equal(err.path, "$");
        json_decref(patch);
    }
    struct oms_profile *p = NULL;
    struct oms_err err = {0};
    assert_int_equal(oms_profile_with_overrides(support_profile, NULL, &p, &err), OMS_E_INVAL);
    assert_null(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oms_profile_load_file_default),
        cmocka_unit_test(test_oms_profile_load_file_missing_and_malformed),
        cmocka_unit_test(test_oms_profile_from_json_not_an_object),
        cmocka_unit_test(test_oms_profile_status_resolve_names_keys_numbers),
        cmocka_unit_test(test_oms_profile_status_resolve_unknown_is_noent),
        cmocka_unit_test(test_oms_profile_status_label_known_and_unknown),
        cmocka_unit_test(test_oms_profile_counts_per_a5),
        cmocka_unit_test(test_oms_profile_transition_lookups),
        cmocka_unit_test(test_oms_profile_omnitron_tokens_lifecycle),
        cmocka_unit_test(test_oms_profile_ref_unref),
        cmocka_unit_test(test_oms_profile_with_overrides_applies_patch),
        cmocka_unit_test(test_oms_profile_with_overrides_malformed_table),
        cmocka_unit_test(test_oms_profile_with_overrides_patch_not_object),
        cmocka_unit_test(test_oms_profile_defaults_come_from_the_built_in_file),
        cmocka_unit_test(test_oms_profile_large_catalogue),
    };
    return cmocka_run_group_tests(tests, support_profile_setup, support_profile_teardown);
}
