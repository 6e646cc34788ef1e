/* test_crash_check: the checks after a crash step (harness/crash_check.c) on fixed states, fates
 * and recorded calls - a correct recovery passes with its figures counted from SPEC reasoning,
 * and each way a target can fail a crash is failed under its rule: a transition whose command was
 * in flight losing its calls (O-1, the outbox written after the commit), an answered command
 * losing its calls, a half-applied package, a lost commit (C-6, C-10), a new uuid on a
 * resent event (O-2), a bad signature (O-3), a call for a refused command (O-1), a quota that
 * moved wrongly, and without a burst the state surviving and pending calls arriving. */
#include "support.h"

#include "crash_check.h"
#include "oms_crypto.h"
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECRET "crash-secret"

struct fixture {
    struct schema *schema;
    struct scenario *sc;
    char dir[64];
    char file[128];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct oms_err err = {0};
    if (!f || support_profile_setup(state) != 0)
        return -1;
    if (schema_load(support_path("spec/scenario.schema.json"), &f->schema, &err) != 0)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/test_crash_check.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->file, sizeof(f->file), "%s/crash.json", f->dir);
    FILE *out = fopen(f->file, "w");
    if (!out)
        return -1;
    fputs("{\"name\": \"crash\", \"rules\": [\"O-1\"],\n"
          " \"given\": {\"subscriptions\": [{\"event_type\": \"package.status.packed_for_refund\","
          " \"receiver\": \"erp\", \"secret_key\": \"" SECRET "\"}]},\n"
          " \"when\": [{\"crash\": {\"burst\": {\"packages\": [1, 2, 3, 4, 5],"
          " \"body\": {\"transition\": 17}}, \"after\": 1}}, {\"crash\": {}}]}\n",
          out);
    fclose(out);
    struct oms_err errs[4];
    if (scenario_load(f->file, f->schema, NULL, &f->sc, errs, 4) != 0) {
        print_error("%s\n", errs[0].message);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    scenario_destroy(f->sc);
    schema_destroy(f->schema);
    unlink(f->file);
    rmdir(f->dir);
    free(f);
    return support_profile_teardown(state);
}

/* Packages 1, 2, 3, 5 Waiting with one item and one reservation each; 4 already packed (1100).
 * Four count toward the quota (SPEC: Waiting counts, 1100 does not). */
static json_t *before_state(void)
{
    json_t *pkgs = json_array();
    for (int id = 1; id <= 5; id++) {
        int packed = id == 4;
        json_array_append_new(
            pkgs,
            json_pack("{s:i, s:i, s:i, s:[{s:i, s:i, s:i}], s:o, s:[]}", "id", id, "location", 1,
                      "status", packed ? 1100 : 100, "items", "id", 10 * id + 1, "order_item",
                      700 + 10 * id + 1, "status", packed ? 1100 : 100, "reservations",
                      packed ? json_array() : json_pack("[{s:i}]", "id", id), "discrepancies"));
    }
    return json_pack("{s:[{s:i, s:i, s:i}], s:o, s:[], s:[]}", "locations", "id", 1, "max_quota",
                     10, "quota", 4, "packages", pkgs, "transition_log", "outbox");
}

/* pkg moved to 1100 as the transition does from Waiting: items too, reservations deleted. */
static void apply(json_t *state, int id, int log_id)
{
    json_t *pkg = support_find_id(json_object_get(state, "packages"), id);
    json_object_set_new(pkg, "status", json_integer(1100));
    json_object_set_new(json_array_get(json_object_get(pkg, "items"), 0), "status",
                        json_integer(1100));
    json_object_set_new(pkg, "reservations", json_array());
    json_array_append_new(json_object_get(state, "transition_log"),
                          json_pack("{s:i, s:i, s:i, s:s, s:i, s:i}", "id", log_id, "package", id,
                                    "transition", 17, "slug", "packed-for-refund", "old_status",
                                    100, "new_status", 1100));
    json_t *loc = json_array_get(json_object_get(state, "locations"), 0);
    json_object_set_new(loc, "quota",
                        json_integer(json_integer_value(json_object_get(loc, "quota")) - 1));
}

static json_t *omnitron_call(int id, int answered)
{
    return json_pack("{s:s, s:{s:[{s:i, s:s}]}, s:i}", "path",
                     "/api/i1/order_items/bulk_status_update/", "json", "orderitem_set", "id",
                     700 + 10 * id + 1, "status", "packed_for_refund", "answered", answered);
}

/* A webhook as the receiver records it, signed with key (NULL: SECRET). */
static json_t *webhook_call(int id, const char *uuid, int answered, const char *key)
{
    json_t *doc = json_pack("{s:{s:s, s:s}, s:{s:i, s:s}}", "event", "type",
                            "package.status.packed_for_refund", "uuid", uuid, "payload", "id", id,
                            "status", "1100");
    char *raw = json_dumps(doc, JSON_COMPACT);
    char mac[65], sig[80];
    const char *k = key ? key : SECRET;
    oms_hmac_sha256_hex(k, strlen(k), raw, strlen(raw), mac);
    snprintf(sig, sizeof(sig), "sha256=%s", mac);
    json_t *e = json_pack("{s:s, s:s, s:o, s:{s:s}, s:i}", "path", "/hooks/erp", "body", raw,
                          "json", doc, "headers", "x-akinon-signature", sig, "answered", answered);
    free(raw);
    return e;
}

struct outcome {
    struct crash_run run;
    struct crash_command commands[5];
    json_t *before, *after, *omnitron, *webhook;
};

/* The correct recovery: 1 answered 204 (applied); 2 in flight and applied; 3 in flight, not
 * applied; 4 answered 400 (already packed); 5 never sent. Calls of 1 and 2 arrived; 2's webhook
 * was delivered twice (a resend after the restart, same uuid). */
static void outcome_init(struct outcome *o)
{
    memset(o, 0, sizeof(*o));
    static const enum crash_fate fates[] = {CRASH_ANSWERED, CRASH_IN_FLIGHT, CRASH_IN_FLIGHT,
                                            CRASH_ANSWERED, CRASH_NOT_SENT};
    static const long statuses[] = {204, 0, 0, 400, 0};
    for (int i = 0; i < 5; i++) {
        o->commands[i].package = i + 1;
        o->commands[i].body = json_pack("{s:i, s:i}", "package", i + 1, "transition", 17);
        o->commands[i].fate = fates[i];
        o->commands[i].status = statuses[i];
    }
    o->run.commands = o->commands;
    o->run.count = 5;
    o->run.concurrent = 2;
    o->run.kill_after = 1;
    o->run.answered_at_kill = 1;
    o->before = before_state();
    o->after = json_deep_copy(o->before);
    apply(o->after, 1, 1);
    apply(o->after, 2, 2);
    o->omnitron = json_pack("[o, o]", omnitron_call(1, 200), omnitron_call(2, 200));
    o->webhook = json_pack("[o, o, o]", webhook_call(1, "u1", 200, NULL),
                           webhook_call(2, "u2", 200, NULL), webhook_call(2, "u2", 200, NULL));
}

static void outcome_cleanup(struct outcome *o)
{
    for (int i = 0; i < 5; i++)
        json_decref(o->commands[i].body);
    json_decref(o->before);
    json_decref(o->after);
    json_decref(o->omnitron);
    json_decref(o->webhook);
}

struct judged {
    struct result_check *checks;
    size_t count;
    json_t *figures;
};

static void judge(struct fixture *f, struct outcome *o, size_t step, int no_outbox,
                  struct judged *j)
{
    struct crash_span span = {
        .profile = support_profile,
        .scenario = f->sc,
        .step = &f->sc->steps[step],
        .run = &o->run,
        .before = o->before,
        .after = o->after,
        .omnitron_calls = o->omnitron,
        .webhook_calls = o->webhook,
        .webhook_prefix = "/hooks/",
        .no_outbox = no_outbox,
    };
    memset(j, 0, sizeof(*j));
    j->figures = crash_check(&span, &j->checks, &j->count);
}

/* The checks are freed as a run frees its scenarios' checks. */
static void judged_cleanup(struct judged *j)
{
    struct result_run run;
    result_run_init(&run);
    struct result_scenario *s = result_run_add(&run);
    s->checks = j->checks;
    s->check_count = j->count;
    result_run_cleanup(&run);
    json_decref(j->figures);
}

/* The check whose "what" starts with prefix (fails the test when there is none). */
static const struct result_check *check(const struct judged *j, const char *prefix)
{
    for (size_t i = 0; i < j->count; i++)
        if (strncmp(j->checks[i].what, prefix, strlen(prefix)) == 0)
            return &j->checks[i];
    fail_msg("no check \"%s...\"", prefix);
    return NULL;
}

static long long fig(const struct judged *j, const char *key)
{
    return (long long)json_integer_value(json_object_get(j->figures, key));
}

/* The first difference under rule whose message holds text (NULL when none). */
static const char *message_with(const struct result_check *c, const char *rule, const char *text)
{
    size_t i;
    json_t *d;
    json_array_foreach(c->mismatches, i, d)
    {
        const char *m = json_string_value(json_object_get(d, "message"));
        if (strcmp(json_string_value(json_object_get(d, "rule")), rule) == 0 && strstr(m, text))
            return m;
    }
    return NULL;
}

static void assert_passed(const struct judged *j)
{
    for (size_t i = 0; i < j->count; i++)
        if (j->checks[i].state != CHECK_PASSED)
            fail_msg("%s: %s", j->checks[i].what,
                     json_string_value(
                         json_object_get(json_array_get(j->checks[i].mismatches, 0), "message")));
}

static void test_correct_recovery_passes_with_its_figures(void **state)
{
    struct fixture *f = *state;
    struct outcome o;
    outcome_init(&o);
    struct judged j;
    judge(f, &o, 0, 0, &j);
    assert_int_equal(j.count, 4);
    assert_passed(&j);
    assert_string_equal(check(&j, "crash: commands answered 204")->rule, "C-6");
    assert_string_equal(check(&j, "crash: no package")->rule, "Q-4");
    assert_string_equal(check(&j, "crash: the calls of commands")->rule, "O-1");
    assert_string_equal(check(&j, "crash: every transition")->rule, "O-1");
    char where[160];
    snprintf(where, sizeof(where), "%s:3:21", f->file); /* $.when[0].crash: line 3 */
    assert_string_equal(check(&j, "crash: every transition")->where, where);
    assert_int_equal(fig(&j, "sent"), 4);
    assert_int_equal(fig(&j, "answered"), 1);
    assert_int_equal(fig(&j, "refused"), 1);
    assert_int_equal(fig(&j, "in_flight"), 2);
    assert_int_equal(fig(&j, "not_sent"), 1);
    assert_int_equal(fig(&j, "transitions"), 2);
    assert_int_equal(fig(&j, "applied_unanswered"), 1);
    assert_int_equal(fig(&j, "half_applied"), 0);
    /* Two transitions, each an Omnitron call and a webhook to erp. */
    assert_int_equal(fig(&j, "calls_expected"), 4);
    assert_int_equal(fig(&j, "calls_arrived"), 4);
    assert_int_equal(fig(&j, "calls_delivered"), 4);
    assert_int_equal(fig(&j, "lost"), 0);
    assert_int_equal(fig(&j, "duplicated"), 1);
    assert_int_equal(json_array_size(json_object_get(j.figures, "commands")), 5);
    judged_cleanup(&j);
    outcome_cleanup(&o);
}

/* The outbox written after the commit, the command's answer lost in the kill: its transition is
 * in the log, its calls never come. */
static void test_transition_of_command_in_flight_losing_its_calls_fails_o1(void **state)
{
    struct fixture *f = *state;
    struct outcome o;
    outcome_init(&o);
    json_array_remove(o.omnitron, 1);
    json_array_clear(o.webhook);
    json_array_append_new(o.webhook, webhook_call(1, "u1", 200, NULL));
    struct judged j;
    judge(f, &o, 0, 0, &j);
    /* Only the answered command's checks look at answers: they pass. */
    assert_int_equal(check(&j, "crash: the calls of commands")->state, CHECK_PASSED);
    const struct result_check *c = check(&j, "crash: every transition");
    assert_int_equal(c->state, CHECK_FAILED);
    assert_string_equal(c->rule, "O-1");
    const char *m = message_with(c, "O-1", "lost its webhook to \"erp\"");
    assert_non_null(m);
    assert_non_null(strstr(m, "O-1"));
    assert_non_null(strstr(m, "transition 2 (package 2"));
    assert_non_null(strstr(m, "in flight at the kill"));
    assert_non_null(message_with(c, "O-1", "lost its Omnitron call (order items 721"));
    assert_int_equal(fig(&j, "lost"), 2);
    assert_int_equal(fig(&j, "calls_arrived"), 2);
    judged_cleanup(&j);
    outcome_cleanup(&o);
}

static void test_answered_command_losing_its_calls_fails_o1(void **state)
{
    struct fixture *f = *state;
    struct outcome o;
    outcome_init(&o);
    json_array_remove(o.omnitron, 0);
    json_array_remove(o.webhook, 0);
    struct judged j;
    judge(f, &o, 0, 0, &j);
    const struct result_check *c = check(&j, "crash: the calls of commands");
    assert_int_equal(c->state, CHECK_FAILED);
    assert_non_null(message_with(c, "O-1", "package 1 (answered 204 before the kill) lost its"));
    c = check(&j, "crash: every transition");
    assert_int_equal(c->state, CHECK_FAILED);
    assert_non_null(message_with(c, "O-1", "answered 204 before the kill) lost its webhook"));
    judged_cleanup(&j);
    outcome_cleanup(&o);
}

static void test_half_applied_package_fails_q4(void **state)
{
    struct fixture *f = *state;
    struct outcome o;
    outcome_init(&o);
    /* Package 2's item stayed Waiting and its reservation stayed, though the package moved. */
    json_t *pkg = support_find_id(json_object_get(o.after, "packages"), 2);
    json_object_set_new(json_array_get(json_object_get(pkg, "items"), 0), "status",
                        json_integer(100));
    json_object_set_new(pkg, "reservations", json_pack("[{s:i}]", "id", 2));
    struct judged j;
    judge(f, &o, 0, 0, &j);
    const struct result_check *c = check(&j, "crash: no package");
    assert_int_equal(c->state, CHECK_FAILED);
    const char *m = message_with(c, "Q-4", "package 2 is half-applied");
    assert_non_null(m);
    assert_non_null(strstr(m, "item 21"));
    assert_non_null(strstr(m, "1 reservations left, expected 0"));
    assert_int_equal(fig(&j, "half_applied"), 1);
    /* The answered command (1) is whole. */
    assert_int_equal(check(&j, "crash: commands answered 204")->state, CHECK_PASSED);
    judged_cleanup(&j);
    outcome_cleanup(&o);
}

static void test_lost_commit_of_answered_command_fails_c6_and_c10(void **state)
{
    struct fixture *f = *state;
    struct outcome o;
    outcome_init(&o);
    /* After the restart package 1 is back in Waiting: its commit did not survive. */
    json_decref(o.after);
    o.after = json_deep_copy(o.before);
    apply(o.after, 2, 2);
    struct judged j;
    judge(f, &o, 0, 0, &j);
    const struct result_check *c = check(&j, "crash: commands answered 204");
    assert_int_equal(c->state, CHECK_FAILED);
    assert_string_equal(c->rule, "C-6");
    assert_non_null(message_with(c, "C-6",
                                 "package 1 (answered 204 before the kill): the "
                                 "package is in Waiting (100) after the restart"));
    assert_non_null(message_with(c, "C-7", "1 reservations left, expected 0"));
    assert_non_null(message_with(c, "C-10", "0 transition log entries for it, expected exactly 1"));
    /* 4 before, one transition kept (package 2): 3, and 3 it is. */
    assert_null(message_with(c, "Q-2", "location 1"));
    judged_cleanup(&j);
    outcome_cleanup(&o);
}

static void test_quota_moved_wrongly_fails_q2(void **state)
{
    struct fixture *f = *state;
    struct outcome o;
    outcome_init(&o);
    json_object_set_new(json_array_get(json_object_get(o.after, "locations"), 0), "quota",
                        json_integer(3));
    struct judged j;
    judge(f, &o, 0, 0, &j);
    const struct result_check *c = check(&j, "crash: commands answered 204");
    assert_int_equal(c->state, CHECK_FAILED);
    /* 4 before, two transitions from Waiting (-1 each) kept: 2. */
    assert_non_null(message_with(c, "Q-2", "location 1: quota 3 after the restart, expected 2"));
    judged_cleanup(&j);
    outcome_cleanup(&o);
}

static void test_new_uuid_and_bad_signature_fail_o2_and_o3(void **state)
{
    struct fixture *f = *state;
    struct outcome o;
    outcome_init(&o);
    json_array_append_new(o.webhook, webhook_call(1, "u1-again", 500, NULL));
    json_array_append_new(o.webhook, webhook_call(1, "u1", 200, "wrong-key"));
    struct judged j;
    judge(f, &o, 0, 0, &j);
    const struct result_check *c = check(&j, "crash: the calls of commands");
    assert_int_equal(c->state, CHECK_FAILED);
    assert_non_null(message_with(c, "O-2", "another event uuid (u1, then u1-again)"));
    assert_non_null(message_with(c, "O-3", "does not carry the HMAC-SHA256 signature"));
    judged_cleanup(&j);
    outcome_cleanup(&o);
}

static void test_call_for_refused_command_fails_o1(void **state)
{
    struct fixture *f = *state;
    struct outcome o;
    outcome_init(&o);
    json_array_append_new(o.webhook, webhook_call(4, "u4", 200, NULL));
    json_array_append_new(o.omnitron, omnitron_call(3, 200));
    struct judged j;
    judge(f, &o, 0, 0, &j);
    const struct result_check *c = check(&j, "crash: the calls of commands");
    assert_int_equal(c->state, CHECK_FAILED);
    assert_non_null(message_with(c, "O-1",
                                 "a webhook arrived at /hooks/erp for package 4, but its command "
                                 "was answered 400"));
    assert_non_null(message_with(c, "O-1",
                                 "an Omnitron call arrived for order item 731 of "
                                 "package 3, but its command was in flight"));
    judged_cleanup(&j);
    outcome_cleanup(&o);
}

/* Without a burst: nothing may change, and what was pending must arrive. */
static void test_kill_now_state_survives_and_pending_calls_arrive(void **state)
{
    struct fixture *f = *state;
    struct outcome o;
    outcome_init(&o);
    o.run.count = 0;
    json_decref(o.before);
    o.before = json_deep_copy(o.after);
    json_array_append_new(json_object_get(o.before, "outbox"),
                          json_pack("{s:i, s:s, s:s, s:s, s:s}", "id", 7, "state", "pending",
                                    "event_uuid", "u2", "url", "http://x/hooks/erp", "body", "{}"));
    json_array_append_new(json_object_get(o.before, "outbox"),
                          json_pack("{s:i, s:s, s:s, s:s}", "id", 8, "state", "pending", "url",
                                    "http://x/omnitron", "body", "{\"never\": true}"));
    json_array_append_new(
        json_object_get(o.before, "outbox"),
        json_pack("{s:i, s:s, s:s}", "id", 9, "state", "delivered", "event_uuid", "u-old"));
    struct judged j;
    judge(f, &o, 1, 0, &j);
    assert_int_equal(j.count, 3);
    assert_int_equal(check(&j, "crash: the state committed")->state, CHECK_PASSED);
    assert_int_equal(check(&j, "crash: every transition")->state, CHECK_PASSED);
    const struct result_check *c = check(&j, "crash: calls pending");
    assert_int_equal(c->state, CHECK_FAILED);
    assert_int_equal(json_array_size(c->mismatches), 1); /* row 7 arrived (uuid u2), 9 was done */
    assert_non_null(message_with(c, "O-1", "the Omnitron call of outbox row 8"));
    judged_cleanup(&j);

    /* A transition that appears across a restart, and a package that went back. */
    json_t *pkg = support_find_id(json_object_get(o.after, "packages"), 1);
    json_object_set_new(pkg, "status", json_integer(100));
    judge(f, &o, 1, 0, &j);
    c = check(&j, "crash: the state committed");
    assert_int_equal(c->state, CHECK_FAILED);
    assert_non_null(message_with(c, "C-6",
                                 "package 1 changed across the restart (Packed for "
                                 "Refund (1100) before the kill, Waiting (100) after)"));
    judged_cleanup(&j);

    /* A target that shows no outbox: the pending check is skipped, with the reason. */
    judge(f, &o, 1, 1, &j);
    c = check(&j, "crash: calls pending");
    assert_int_equal(c->state, CHECK_SKIPPED);
    assert_non_null(strstr(c->message, "\"outbox\""));
    judged_cleanup(&j);
    outcome_cleanup(&o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_correct_recovery_passes_with_its_figures),
        cmocka_unit_test(test_transition_of_command_in_flight_losing_its_calls_fails_o1),
        cmocka_unit_test(test_answered_command_losing_its_calls_fails_o1),
        cmocka_unit_test(test_half_applied_package_fails_q4),
        cmocka_unit_test(test_lost_commit_of_answered_command_fails_c6_and_c10),
        cmocka_unit_test(test_quota_moved_wrongly_fails_q2),
        cmocka_unit_test(test_new_uuid_and_bad_signature_fail_o2_and_o3),
        cmocka_unit_test(test_call_for_refused_command_fails_o1),
        cmocka_unit_test(test_kill_now_state_survives_and_pending_calls_arrive),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
