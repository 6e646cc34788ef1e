/* test_target: the harness's side of the wire reads whatever valid JSON a target or a receiver
 * answers. A body with NUL bytes is journaled as "\u0000", which is valid JSON (RFC 8259): one
 * such request must not make the reference's journal or a receiver's journal unreadable (found
 * by fuzz-command: `refund-harness journal` failed with "the body is not JSON"). */
#include "support.h"

#include "oms_recorder.h"
#include "reference.h"
#include "target.h"

#include <string.h>

static const char NUL_BODY[] = "{\"package\": 501\0, \"transition\": 17}";

static void test_target_journal_with_nul_in_a_body(void **state)
{
    (void)state;
    struct support_ref r;
    support_ref_start(&r);
    struct oms_http_exchange x = {0};
    const char *headers[] = {SUPPORT_AUTH, SUPPORT_JSON_CTYPE, NULL};
    support_http(r.client, &x, "POST", r.base, "/api/v1/oms/packages/501/command/", headers,
                 NUL_BODY, sizeof(NUL_BODY) - 1);
    /* SPEC E-2 does not matter here, only that an answer came and was journaled. */
    assert_int_equal(x.result, 0);
    oms_http_exchange_cleanup(&x);

    struct target_config cfg = {.oms_url = r.base};
    struct target *t = target_create(&cfg);
    json_t *doc = NULL;
    struct oms_err err = {0};
    if (target_journal(t, &doc, &err) != 0)
        fail_msg("target_journal: %s", err.message);
    const json_t *entry = json_array_get(json_object_get(doc, "commands"), 0);
    const json_t *body = json_object_get(entry, "body");
    assert_true(json_is_string(body));
    /* The NUL and what follows it are kept. */
    assert_int_equal(json_string_length(body), sizeof(NUL_BODY) - 1);
    assert_memory_equal(json_string_value(body), NUL_BODY, sizeof(NUL_BODY) - 1);
    json_decref(doc);
    target_destroy(t);
    support_ref_stop(&r);
}

static void test_target_receiver_journal_with_nul_in_a_body(void **state)
{
    (void)state;
    struct oms_recorder_config rc = {.name = "webhook", .status = 200};
    struct oms_recorder *rec = NULL;
    struct oms_err err = {0};
    if (oms_recorder_start(&rc, &rec, &err) != 0)
        fail_msg("cannot start a receiver: %s", err.message);
    struct oms_http_client *c = oms_http_client_create();
    struct oms_http_exchange x = {0};
    const char *headers[] = {SUPPORT_JSON_CTYPE, NULL};
    assert_int_equal(support_http(c, &x, "POST", oms_recorder_url(rec), "/hooks/erp", headers,
                                  NUL_BODY, sizeof(NUL_BODY) - 1),
                     200);
    oms_http_exchange_cleanup(&x);

    /* The receiver as a separate program: reached over its control listener. */
    struct target_config cfg = {.oms_url = "http://127.0.0.1:9",
                                .omnitron_url = oms_recorder_url(rec),
                                .webhook_url = oms_recorder_url(rec),
                                .omnitron_control_url = oms_recorder_control_url(rec),
                                .webhook_control_url = oms_recorder_control_url(rec)};
    struct target *t = target_create(&cfg);
    json_t *requests = NULL;
    if (target_receiver_journal(t, "webhook", &requests, &err) != 0)
        fail_msg("target_receiver_journal: %s", err.message);
    assert_int_equal(json_array_size(requests), 1);
    const json_t *body = json_object_get(json_array_get(requests, 0), "body");
    assert_int_equal(json_string_length(body), sizeof(NUL_BODY) - 1);
    json_decref(requests);
    target_destroy(t);
    oms_http_client_destroy(c);
    oms_recorder_stop(rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_target_journal_with_nul_in_a_body),
        cmocka_unit_test(test_target_receiver_journal_with_nul_in_a_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
