/* test_explore_oracle: the expectations explore writes from what the reference did, fed with
 * steps observed by hand - they say what the contract decides and no more: status codes with the
 * rule they exercise, the error envelope with the field at fault and the statuses a refusal names
 * (never wording), an answer that depends on the check order under R-2, states as names and
 * counts (A-3 where the command keeps records), calls as multisets with the event uuid captured;
 * after a kill inside a burst, nothing that the kill's timing decided (the burst's packages, their
 * locations' quotas, steps on them, calls that met fault rules a number of times timing chose);
 * and explore's own invariants on a step. */
#include "support.h"

#include "explore_oracle.h"
#include "oms_json.h"
#include "scenario.h"
#include "schema.h"

#include <stdlib.h>
#include <string.h>

/* A one-package state: package 501 at location 1 in `status`, two items, two reservations and a
 * discrepancy (when keep), quota as given. */
static json_t *state(int status, int keep, int quota)
{
    json_t *s = json_pack(
        "{s:[{s:i, s:i, s:i, s:i, s:b}], s:[{s:i, s:i, s:i, s:[{s:i, s:i, s:i}, {s:i, s:i, s:i}], "
        "s:[], s:[]}], s:[], s:[]}",
        "locations", "id", 1, "max_quota", 5, "quota", quota, "available_quota", 5 - quota,
        "quota_drift", 0, "packages", "id", 501, "location", 1, "status", status, "items", "id",
        9001, "order_item", 7001, "status", status, "id", 9002, "order_item", 7002, "status",
        status, "reservations", "discrepancies", "transition_log", "outbox");
    if (keep) {
        json_t *pkg = json_array_get(json_object_get(s, "packages"), 0);
        json_object_set_new(pkg, "reservations", json_pack("[{s:i}, {s:i}]", "id", 1, "id", 2));
        json_object_set_new(pkg, "discrepancies", json_pack("[{s:i}]", "id", 1));
    }
    return s;
}

static json_t *answer(int status, const char *body_json)
{
    json_t *a = json_pack("{s:i, s:o, s:s}", "status", status, "headers", json_object(), "body",
                          body_json ? body_json : "");
    json_object_set_new(a, "json", body_json ? support_parse(body_json) : json_null());
    return a;
}

/* Observes one step of probe (its when[0]) and returns its expectations (new reference, or NULL
 * when the step has none). */
static json_t *observe(const json_t *probe, const json_t *responses, const json_t *before,
                       const json_t *after, const json_t *omnitron, const json_t *webhooks)
{
    struct oms_profile *p = support_default_profile();
    struct explore_oracle *o = explore_oracle_create(probe, p, 0);
    const json_t *step = json_array_get(json_object_get(probe, "when"), 0);
    struct scenario_step st = {
        .kind = STEP_COMMAND, .request = json_object_get(step, "command"), .concurrent = 1};
    if (json_object_get(step, "lifecycle")) {
        st.kind = STEP_LIFECYCLE;
        st.request = json_object_get(step, "lifecycle");
    }
    if (json_object_get(step, "concurrent"))
        st.concurrent = (unsigned)json_integer_value(json_object_get(step, "concurrent"));
    json_t *none = json_array();
    struct runner_step_view v = {
        .index = 0,
        .step = &st,
        .responses = responses,
        .before = before,
        .after = after,
        .omnitron_calls = omnitron ? omnitron : none,
        .webhook_calls = webhooks ? webhooks : none,
    };
    struct result_step rs = {0};
    explore_oracle_observer(o)->step(explore_oracle_observer(o)->arg, &v, &rs);
    json_t *doc = explore_oracle_expected(o);
    assert_non_null(doc);
    json_t *then =
        json_incref(json_object_get(json_array_get(json_object_get(doc, "when"), 0), "then"));

    /* What the oracle writes is a valid scenario. */
    struct schema *schema = NULL;
    struct oms_err err = {0};
    assert_int_equal(schema_load(support_path("spec/scenario.schema.json"), &schema, &err), 0);
    char *text = oms_json_dumps(doc);
    struct scenario *sc = NULL;
    struct oms_err errs[2];
    if (scenario_load_text("expected", text, strlen(text), schema, NULL, &sc, errs, 2)) {
        char msg[2048];
        fail_msg("not a valid scenario: %s\n%s", oms_err_format(&errs[0], msg, sizeof(msg)), text);
    }
    scenario_destroy(sc);
    schema_destroy(schema);
    free(text);
    json_decref(doc);
    json_decref(none);
    explore_oracle_destroy(o);
    oms_profile_unref(p);
    return then;
}

static json_t *probe_of(const char *step_json, const char *given_json)
{
    json_t *probe =
        json_pack("{s:s, s:[s], s:o, s:[o]}", "name", "case", "rules", "C-2", "given",
                  support_parse(given_json ? given_json : "{}"), "when", support_parse(step_json));
    return probe;
}

/* `then` at path (dotted keys) equals the JSON text want. */
static void assert_at(const json_t *then, const char *path, const char *want)
{
    char *copy = support_printf("%s", path);
    const json_t *v = then;
    for (char *k = copy, *next; k && v; k = next) {
        next = strchr(k, '.');
        if (next)
            *next++ = '\0';
        v = json_is_array(v) ? json_array_get(v, strtoul(k, NULL, 10)) : json_object_get(v, k);
    }
    json_t *w = support_parse(want);
    if (!v || !json_equal(v, w)) {
        char *have = v ? json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
        char *all = json_dumps(then, JSON_COMPACT);
        fail_msg("%s: expected %s, found %s\nin %s", path, want, have ? have : "(missing)", all);
    }
    json_decref(w);
    free(copy);
}

static void test_success_states_and_calls(void **state_)
{
    (void)state_;
    json_t *probe = probe_of(
        "{\"command\": {\"package\": 501, \"body\": {\"package\": 501, \"transition\": 17}}}",
        "{\"subscriptions\": [{\"event_type\": \"package.status.packed_for_refund\", \"receiver\": "
        "\"erp\", \"secret_key\": \"k\", \"additional_headers\": {\"X-Tenant\": \"acme\"}},"
        " {\"event_type\": \"package.status.packed_for_refund\", \"receiver\": \"wms\"},"
        " {\"event_type\": \"package.status.cancelled\", \"receiver\": \"crm\"}]}");
    json_t *before = state(100, 1, 1), *after = state(1100, 0, 0);
    json_object_set_new(
        after, "transition_log",
        support_parse("[{\"id\": 1, \"package\": 501, \"transition\": 17, \"slug\": "
                      "\"packed-for-refund\", \"old_status\": 100, \"new_status\": "
                      "1100, \"at_ms\": 5}]"));
    json_object_set_new(
        after, "outbox",
        support_parse("[{\"id\": 1, \"kind\": \"omnitron\", \"url\": \"http://x/api\", "
                      "\"state\": \"delivered\", \"attempts\": 2},"
                      " {\"id\": 2, \"kind\": \"webhook\", \"url\": "
                      "\"http://h:1/hooks/erp\", \"state\": \"dead\", \"attempts\": 1}]"));
    const char *patch =
        "{\"method\": \"PATCH\", \"path\": \"/api/i1/order_items/bulk_status_update/\","
        " \"json\": {\"orderitem_set\": [{\"id\": 7002, \"status\": "
        "\"packed_for_refund\"}, {\"id\": 7001, \"status\": \"packed_for_refund\"}]}}";
    json_t *om = json_pack("[o, o]", support_parse(patch), support_parse(patch));
    json_t *wh = support_parse(
        "[{\"method\": \"POST\", \"path\": \"/hooks/erp\", \"json\": {\"event\": {\"type\": "
        "\"package.status.packed_for_refund\", \"uuid\": \"0123456789abcdef0123456789abcdef\"}, "
        "\"payload\": {\"id\": 501, \"status\": \"1100\", \"order_number\": \"ORDER-501\"}}},"
        " {\"method\": \"POST\", \"path\": \"/hooks/wms\", \"json\": {\"event\": {\"type\": "
        "\"package.status.packed_for_refund\", \"uuid\": \"fedcba9876543210fedcba9876543210\"}, "
        "\"payload\": {\"id\": 501, \"status\": \"1100\"}}}]");
    json_t *responses = json_pack("[o]", answer(204, NULL));
    json_t *then = observe(probe, responses, before, after, om, wh);
    assert_at(then, "response.status", "{\"$rule\": [\"C-2\", 204]}");
    assert_at(then, "response.body", "\"\"");
    /* Statuses by name, counts, quota under Q-2 and available quota under Q-1. */
    assert_at(then, "packages.501",
              "{\"status\": \"Packed for Refund\", \"items\": \"Packed for Refund\", "
              "\"reservations\": 0, \"discrepancies\": 0}");
    assert_at(
        then, "locations.1",
        "{\"quota\": {\"$rule\": [\"Q-2\", 0]}, \"available_quota\": {\"$rule\": [\"Q-1\", 5]}}");
    assert_at(then, "transition_log",
              "[{\"package\": 501, \"transition\": 17, \"slug\": \"packed-for-refund\", "
              "\"old_status\": \"Waiting\", \"new_status\": \"Packed for Refund\"}]");
    /* Every Omnitron attempt, its items in any order. */
    const char *call =
        "{\"method\": \"PATCH\", \"path\": \"/api/i1/order_items/bulk_status_update/\", "
        "\"body\": {\"$rule\": [\"A-4\", {\"orderitem_set\": {\"$unordered\": "
        "[{\"id\": 7002, \"status\": \"packed_for_refund\"}, {\"id\": 7001, "
        "\"status\": \"packed_for_refund\"}]}}]}}";
    char *want = support_printf("{\"$unordered\": [%s, %s]}", call, call);
    assert_at(then, "omnitron", want);
    free(want);
    /* Per receiver: contract fields of the envelope only, the uuid captured, the signature and
     * headers its subscription asks for; a subscriber of another event gets nothing. */
    assert_at(then, "webhooks.erp",
              "{\"$unordered\": [{\"method\": \"POST\", \"body\": {\"event\": {\"type\": "
              "\"package.status.packed_for_refund\", \"uuid\": {\"$all\": [{\"$regex\": "
              "\"^[0-9a-f]{32}$\"}, {\"$rule\": [\"O-2\", {\"$capture\": "
              "\"erp.when0.event1\"}]}]}}, \"payload\": {\"$partial\": {\"id\": 501, \"status\": "
              "\"1100\"}}}, \"headers\": {\"X-Tenant\": \"acme\"}, \"signed_with\": \"k\"}]}");
    assert_at(then, "webhooks.wms.$unordered.0.unsigned", "true");
    assert_at(then, "webhooks.crm", "[]");
    assert_at(then, "outbox",
              "{\"$unordered\": [{\"$partial\": {\"kind\": \"omnitron\", \"state\": \"delivered\", "
              "\"attempts\": 2}}, {\"$partial\": {\"kind\": \"webhook\", \"state\": \"dead\", "
              "\"attempts\": 1, \"receiver\": \"erp\"}}]}");
    assert_null(json_object_get(then, "unchanged"));
    json_decref(then);
    json_decref(responses);
    json_decref(om);
    json_decref(wh);
    json_decref(before);
    json_decref(after);
    json_decref(probe);
}

/* From Out of Stock the records stay (A-3, not the documented deletion from Waiting); without a
 * subscription no webhook may reach anyone. */
static void test_out_of_stock_keeps_records_under_a3(void **state_)
{
    (void)state_;
    json_t *probe =
        probe_of("{\"command\": {\"package\": 501, \"body\": {\"package\": 501, \"slug\": "
                 "\"packed-for-refund\", \"sync_remote_order_status\": false}}}",
                 NULL);
    json_t *before = state(920, 1, 0), *after = state(1100, 1, 0);
    json_t *responses = json_pack("[o]", answer(204, NULL));
    json_t *then = observe(probe, responses, before, after, NULL, NULL);
    assert_at(then, "packages.501.reservations", "{\"$rule\": [\"A-3\", {\"$len\": 2}]}");
    assert_at(then, "packages.501.discrepancies", "{\"$rule\": [\"A-3\", {\"$len\": 1}]}");
    assert_at(then, "omnitron", "[]");
    assert_at(then, "webhooks", "[]");
    assert_null(json_object_get(then, "outbox"));
    json_decref(then);
    json_decref(responses);
    json_decref(before);
    json_decref(after);
    json_decref(probe);
}

static json_t *refusal(const char *step, int status, const char *envelope, int package_status)
{
    json_t *probe = probe_of(step, NULL);
    json_t *s = state(package_status, 0, 0);
    json_t *responses = json_pack("[o]", answer(status, envelope));
    json_t *then = observe(probe, responses, s, s, NULL, NULL);
    assert_at(then, "unchanged", "true");
    json_decref(responses);
    json_decref(s);
    json_decref(probe);
    return then;
}

static void test_errors_say_what_the_contract_decides(void **state_)
{
    (void)state_;
    /* One transport fault: its code under E-2, the envelope, no field (the reference's
     * non_field_errors is its own choice). */
    json_t *then = refusal(
        "{\"command\": {\"package\": 501, \"token\": null, \"body\": {\"package\": 501, "
        "\"transition\": 17}}}",
        401, "{\"error\": {\"non_field_errors\": [\"no credentials\"]}, \"status_code\": 401}",
        100);
    assert_at(then, "response.status", "{\"$rule\": [\"E-2\", 401]}");
    assert_at(then, "response.body", "{\"$rule\": [\"E-2\", {\"$error\": {\"status\": 401}}]}");
    json_decref(then);

    /* Two: which answers is the reference's order; that it is a 4xx is the contract's. */
    then = refusal("{\"command\": {\"package\": 501, \"method\": \"PUT\", \"token\": null, "
                   "\"body\": {\"package\": 501, \"transition\": 17}}}",
                   401, "{\"error\": {\"non_field_errors\": [\"x\"]}, \"status_code\": 401}", 100);
    assert_at(then, "response.status",
              "{\"$all\": [{\"$rule\": [\"E-2\", {\"$range\": [400, 499]}]}, {\"$rule\": "
              "[\"R-2\", 401]}]}");
    assert_at(then, "response.body",
              "{\"$rule\": [\"E-2\", {\"$error\": {\"status\": {\"$range\": [400, 499]}}}]}");
    json_decref(then);

    /* A refused source: C-5, the statuses named (the package's and the allowed ones). */
    then = refusal(
        "{\"command\": {\"package\": 501, \"body\": {\"package\": 501, \"transition\": "
        "17}}}",
        400, "{\"error\": {\"non_field_errors\": [\"in Packed\"]}, \"status_code\": 400}", 500);
    assert_at(then, "response.status", "{\"$rule\": [\"C-5\", 400]}");
    assert_at(then, "response.body",
              "{\"$rule\": [\"C-5\", {\"$error\": {\"status\": 400, \"field\": "
              "\"non_field_errors\", \"names\": [\"Packed\", \"Waiting\", \"Out of Stock\"]}}]}");
    json_decref(then);

    /* Field errors: the field at fault and the rule it breaks. */
    then =
        refusal("{\"command\": {\"package\": 501, \"body\": {\"package\": \"501\", "
                "\"transition\": 17}}}",
                400, "{\"error\": {\"package\": [\"not an integer\"]}, \"status_code\": 400}", 100);
    assert_at(then, "response.body",
              "{\"$rule\": [\"C-3\", {\"$error\": {\"status\": 400, \"field\": [\"package\"]}}]}");
    json_decref(then);
    then = refusal("{\"command\": {\"package\": 501, \"body\": {\"package\": 502, \"transition\": "
                   "17}}}",
                   400, "{\"error\": {\"package\": [\"mismatch\"]}, \"status_code\": 400}", 100);
    assert_at(then, "response.status", "{\"$rule\": [\"A-2\", 400]}");
    json_decref(then);
    then = refusal("{\"command\": {\"package\": 501, \"body\": {\"package\": 501, \"slug\": "
                   "\"packed-for-return\"}}}",
                   400, "{\"error\": {\"slug\": [\"unknown\"]}, \"status_code\": 400}", 100);
    assert_at(then, "response.body",
              "{\"$rule\": [\"C-4\", {\"$error\": {\"status\": 400, \"field\": [\"slug\"]}}]}");
    json_decref(then);
    /* A conflict may be filed under either field or under non_field_errors. */
    then = refusal("{\"command\": {\"package\": 501, \"body\": {\"package\": 501, \"transition\": "
                   "17, \"slug\": \"out-of-stock\"}}}",
                   400, "{\"error\": {\"non_field_errors\": [\"disagree\"]}, \"status_code\": 400}",
                   100);
    assert_at(then, "response.body",
              "{\"$rule\": [\"C-4\", {\"$error\": {\"status\": 400, \"field\": "
              "[\"non_field_errors\", \"transition\", \"slug\"]}}]}");
    json_decref(then);
    /* Not JSON: E-2 whatever the reference's key. */
    then =
        refusal("{\"command\": {\"package\": 501, \"raw_body\": \"{'package': 501}\"}}", 400,
                "{\"error\": {\"non_field_errors\": [\"not JSON\"]}, \"status_code\": 400}", 100);
    assert_at(then, "response.body", "{\"$rule\": [\"E-2\", {\"$error\": {\"status\": 400}}]}");
    json_decref(then);
}

static void test_concurrent_counts_by_status(void **state_)
{
    (void)state_;
    json_t *probe = probe_of("{\"command\": {\"package\": 501, \"body\": {\"package\": 501, "
                             "\"transition\": 17}}, \"concurrent\": 3}",
                             NULL);
    const char *env = "{\"error\": {\"non_field_errors\": [\"in Packed for Refund\"]}, "
                      "\"status_code\": 400}";
    json_t *responses =
        json_pack("[o, o, o]", answer(400, env), answer(204, NULL), answer(400, env));
    json_t *before = state(100, 0, 1), *after = state(1100, 0, 0);
    json_t *then = observe(probe, responses, before, after, NULL, NULL);
    /* The losers met the winner's status: only the allowed statuses are required. */
    assert_at(then, "responses",
              "{\"400\": {\"count\": 2, \"body\": {\"$rule\": [\"C-5\", {\"$error\": {\"status\": "
              "400, \"field\": \"non_field_errors\", \"names\": [\"Waiting\", \"Out of "
              "Stock\"]}}]}}, \"204\": {\"count\": 1, \"body\": \"\"}}");
    assert_null(json_object_get(then, "response"));
    json_decref(then);
    json_decref(responses);
    json_decref(probe);

    /* Copies that each break two transport rules: no count by status is the contract's. */
    probe = probe_of("{\"command\": {\"package\": 501, \"token\": null, \"method\": \"GET\"}, "
                     "\"concurrent\": 2}",
                     NULL);
    responses = json_pack("[o, o]", answer(401, env), answer(401, env));
    then = observe(probe, responses, before, before, NULL, NULL);
    assert_null(json_object_get(then, "responses"));
    assert_at(then, "unchanged", "true");
    json_decref(then);
    json_decref(responses);
    json_decref(before);
    json_decref(after);
    json_decref(probe);
}

/* A step the observer never saw leaves no document: the case did not run to its end. */
static void test_expected_needs_every_step(void **state_)
{
    (void)state_;
    struct oms_profile *p = support_default_profile();
    json_t *probe = probe_of("{\"command\": {\"package\": 501}}", NULL);
    struct explore_oracle *o = explore_oracle_create(probe, p, 0);
    assert_null(explore_oracle_expected(o));
    explore_oracle_destroy(o);
    explore_oracle_destroy(NULL);
    json_decref(probe);
    oms_profile_unref(p);
}

static size_t failed(const struct result_step *rs)
{
    size_t n = 0;
    for (size_t i = 0; i < rs->check_count; i++)
        n += json_array_size(rs->checks[i].mismatches) > 0;
    return n;
}

static void free_checks(struct result_step *rs)
{
    for (size_t i = 0; i < rs->check_count; i++) {
        struct result_check *c = &rs->checks[i];
        free(c->what);
        free(c->where);
        free(c->rule);
        free(c->basis);
        free(c->message);
        json_decref(c->expected);
        json_decref(c->actual);
        json_decref(c->mismatches);
    }
    free(rs->checks);
    memset(rs, 0, sizeof(*rs));
}

static void test_invariants(void **state_)
{
    (void)state_;
    struct oms_profile *p = support_default_profile();
    json_t *req = support_parse("{\"package\": 501}");
    struct scenario_step st = {.kind = STEP_COMMAND, .request = req, .concurrent = 1};
    json_t *before = state(100, 0, 1), *moved = state(1100, 0, 0), *none = json_array();
    struct runner_step_view v = {.step = &st,
                                 .before = before,
                                 .after = before,
                                 .omnitron_calls = none,
                                 .webhook_calls = none};
    struct result_step rs = {0};

    /* A refusal that changed nothing, and a success: every invariant holds. */
    json_t *r400 = json_pack("[o]", answer(400, "{}")), *r204 = json_pack("[o]", answer(204, NULL));
    v.responses = r400;
    explore_invariants(p, &v, &rs);
    assert_int_equal(rs.check_count, 3);
    assert_int_equal(failed(&rs), 0);
    free_checks(&rs);
    v.responses = r204;
    v.after = moved;
    explore_invariants(p, &v, &rs);
    assert_int_equal(failed(&rs), 0);
    free_checks(&rs);

    /* A 5xx; a refusal that moved the package; an item left behind. */
    json_t *r503 = json_pack("[o]", answer(503, NULL));
    v.responses = r503;
    v.after = before;
    explore_invariants(p, &v, &rs);
    assert_int_equal(failed(&rs), 1);
    assert_string_equal(rs.checks[0].rule, "E-3");
    free_checks(&rs);
    v.responses = r400;
    v.after = moved;
    explore_invariants(p, &v, &rs);
    assert_int_equal(failed(&rs), 1);
    free_checks(&rs);
    json_t *half = state(1100, 0, 0);
    json_object_set_new(
        json_array_get(
            json_object_get(json_array_get(json_object_get(half, "packages"), 0), "items"), 1),
        "status", json_integer(100));
    v.responses = r204;
    v.after = half;
    explore_invariants(p, &v, &rs);
    assert_int_equal(failed(&rs), 1);
    assert_string_equal(rs.checks[2].rule, "C-6");
    free_checks(&rs);

    json_decref(half);
    json_decref(r503);
    json_decref(r400);
    json_decref(r204);
    json_decref(none);
    json_decref(before);
    json_decref(moved);
    json_decref(req);
    oms_profile_unref(p);
}

/* Three packages: 501 and 502 at location 1, 503 at location 2, each Waiting (100) or as given. */
static json_t *three(int s501, int s502, int s503)
{
    return json_pack("{s:[{s:i, s:i, s:i, s:i, s:b}, {s:i, s:i, s:i, s:i, s:b}],"
                     " s:[{s:i, s:i, s:i, s:[{s:i, s:i, s:i}], s:[], s:[]},"
                     "    {s:i, s:i, s:i, s:[{s:i, s:i, s:i}], s:[], s:[]},"
                     "    {s:i, s:i, s:i, s:[{s:i, s:i, s:i}], s:[], s:[]}], s:[], s:[]}",
                     "locations", "id", 1, "max_quota", 9, "quota", 2, "available_quota", 7,
                     "quota_drift", 0, "id", 2, "max_quota", 9, "quota", 1, "available_quota", 8,
                     "quota_drift", 0, "packages", "id", 501, "location", 1, "status", s501,
                     "items", "id", 9001, "order_item", 7001, "status", s501, "reservations",
                     "discrepancies", "id", 502, "location", 1, "status", s502, "items", "id", 9002,
                     "order_item", 7002, "status", s502, "reservations", "discrepancies", "id", 503,
                     "location", 2, "status", s503, "items", "id", 9003, "order_item", 7003,
                     "status", s503, "reservations", "discrepancies", "transition_log", "outbox");
}

/* A probe with the steps of steps_json (an array). New reference. */
static json_t *probe_steps(const char *steps_json, const char *given_json)
{
    return json_pack("{s:s, s:[s], s:o, s:o}", "name", "case", "rules", "C-2", "given",
                     support_parse(given_json), "when", support_parse(steps_json));
}

/* The oracle's "then" of each step of probe, its steps observed with the states given (states[i]
 * before step i, states[i + 1] after it) and one 204 answer to each command; a webhook call to erp
 * during every step. New array (null for a step without expectations). */
static json_t *observe_all(const json_t *probe, json_t *const *states)
{
    struct oms_profile *p = support_default_profile();
    struct explore_oracle *o = explore_oracle_create(probe, p, 0);
    const json_t *when = json_object_get(probe, "when");
    json_t *none = json_array(), *r204 = json_pack("[o]", answer(204, NULL));
    json_t *hook = support_parse(
        "[{\"method\": \"POST\", \"path\": \"/hooks/erp\", \"headers\": {}, \"json\": {\"event\": "
        "{\"type\": \"package.status.packed_for_refund\", \"uuid\": "
        "\"0123456789abcdef0123456789abcdef\"}, \"payload\": {\"id\": 503, \"status\": "
        "\"1100\"}}}]");
    for (size_t i = 0; i < json_array_size(when); i++) {
        const json_t *step = json_array_get(when, i);
        struct scenario_step st = {.kind = STEP_COMMAND, .concurrent = 1};
        static const char *const keys[] = {"command", "crash", "receivers", "lifecycle"};
        static const enum scenario_step_kind kinds[] = {STEP_COMMAND, STEP_CRASH, STEP_RECEIVERS,
                                                        STEP_LIFECYCLE};
        for (size_t k = 0; k < 4; k++)
            if (json_object_get(step, keys[k])) {
                st.kind = kinds[k];
                st.request = json_object_get(step, keys[k]);
            }
        struct runner_step_view v = {
            .index = i,
            .step = &st,
            .responses = st.kind == STEP_COMMAND ? r204 : none,
            .before = states[i],
            .after = states[i + 1],
            .omnitron_calls = none,
            .webhook_calls = st.kind == STEP_COMMAND ? hook : none,
        };
        struct result_step rs = {0};
        explore_oracle_observer(o)->step(explore_oracle_observer(o)->arg, &v, &rs);
    }
    json_t *doc = explore_oracle_expected(o);
    assert_non_null(doc);
    json_t *thens = json_array();
    size_t i;
    json_t *step;
    json_array_foreach(json_object_get(doc, "when"), i, step)
    {
        json_t *then = json_object_get(step, "then");
        json_array_append(thens, then ? then : json_null());
    }
    json_decref(doc);
    json_decref(hook);
    json_decref(r204);
    json_decref(none);
    explore_oracle_destroy(o);
    oms_profile_unref(p);
    return thens;
}

/* After a kill inside a burst on 501 and 502, which of them applied is timing's: the crash step
 * gets no expectations (the crash checks judge it), a later step on 503 none about 501, 502 or
 * their location, and a later step on 501 none at all; calls that met the webhook's fault rules
 * after the kill are timing's too, unless the restart set them anew. A kill at once leaves
 * nothing to timing. */
static void test_after_a_kill_nothing_timing_decided(void **state_)
{
    (void)state_;
    const char *given =
        "{\"subscriptions\": [{\"event_type\": \"package.status.packed_for_refund\","
        " \"receiver\": \"erp\"}], \"receivers\": {\"webhook\": {\"faults\":"
        " [{\"status\": 500, \"times\": 2}]}}}";
    json_t *probe = probe_steps(
        "[{\"crash\": {\"burst\": {\"packages\": [501, 502], \"body\": {\"transition\": 17}}, "
        "\"at\": \"random\", \"seed\": 1}},"
        " {\"command\": {\"package\": 503, \"body\": {\"package\": 503, \"transition\": 17}}},"
        " {\"command\": {\"package\": 501, \"body\": {\"package\": 501, \"transition\": 17}}}]",
        given);
    json_t *states[] = {three(100, 100, 100), three(1100, 100, 100), three(1100, 100, 1100),
                        three(1100, 100, 1100)};
    json_t *thens = observe_all(probe, states);
    assert_true(json_is_null(json_array_get(thens, 0)));
    const json_t *then = json_array_get(thens, 1);
    assert_at(then, "packages.503.status", "\"Packed for Refund\"");
    assert_null(json_object_get(json_object_get(then, "packages"), "501"));
    assert_null(json_object_get(json_object_get(then, "packages"), "502"));
    assert_null(json_object_get(json_object_get(then, "locations"), "1"));
    assert_at(then, "locations.2.quota", "{\"$rule\": [\"Q-2\", 1]}");
    /* The webhook's fault rules met a number of calls timing chose: no call list, no outbox. */
    assert_null(json_object_get(then, "webhooks"));
    assert_null(json_object_get(then, "outbox"));
    assert_non_null(json_object_get(then, "omnitron"));
    assert_non_null(json_object_get(then, "transition_log"));
    assert_true(json_is_null(json_array_get(thens, 2)));
    json_decref(thens);
    json_decref(probe);

    /* The restart sets the webhook's rules anew: its calls are decided again. */
    probe = probe_steps(
        "[{\"crash\": {\"burst\": {\"packages\": [501, 502], \"body\": {\"transition\": 17}}, "
        "\"after\": 1, \"receivers\": {\"webhook\": {\"faults\": []}}}},"
        " {\"command\": {\"package\": 503, \"body\": {\"package\": 503, \"transition\": 17}}}]",
        given);
    thens = observe_all(probe, states);
    assert_non_null(json_object_get(json_array_get(thens, 1), "webhooks"));
    assert_null(json_object_get(json_object_get(json_array_get(thens, 1), "packages"), "501"));
    json_decref(thens);
    json_decref(probe);

    /* Killed at once, after the drain: everything after it is decided. */
    probe = probe_steps(
        "[{\"crash\": {}},"
        " {\"command\": {\"package\": 501, \"body\": {\"package\": 501, \"transition\": 17}}}]",
        given);
    json_t *calm[] = {three(100, 100, 100), three(100, 100, 100), three(1100, 100, 100)};
    thens = observe_all(probe, calm);
    assert_true(json_is_null(json_array_get(thens, 0)));
    then = json_array_get(thens, 1);
    assert_at(then, "packages.501.status", "\"Packed for Refund\"");
    assert_at(then, "packages.502.status", "\"Waiting\"");
    assert_non_null(json_object_get(json_object_get(then, "locations"), "1"));
    assert_non_null(json_object_get(then, "webhooks"));
    json_decref(thens);
    json_decref(probe);
    for (size_t i = 0; i < 4; i++)
        json_decref(states[i]);
    for (size_t i = 0; i < 3; i++)
        json_decref(calm[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_success_states_and_calls),
        cmocka_unit_test(test_out_of_stock_keeps_records_under_a3),
        cmocka_unit_test(test_errors_say_what_the_contract_decides),
        cmocka_unit_test(test_concurrent_counts_by_status),
        cmocka_unit_test(test_expected_needs_every_step),
        cmocka_unit_test(test_invariants),
        cmocka_unit_test(test_after_a_kill_nothing_timing_decided),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
