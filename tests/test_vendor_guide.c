/* test_vendor_guide: sections 1 and 2 of docs/vendor-guide.md done as a new user would - start
 * `refund-harness serve --given docs/examples/sandbox-state.json`, send the guide's command (204),
 * send it again (the 400 the guide shows, word for word), then read `refund-harness journal`: the
 * commands with their answers, the transition, and the Omnitron call and the webhook delivered;
 * Ctrl-C ends the sandbox with exit status 0. Only the port differs from the guide (0, not 8000,
 * so parallel test runs never collide). */
#include "capture.h"
#include "proc.h"
#include "support.h"

#include "oms_time.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define GUIDE_BODY  "{\"package\": 501, \"transition\": 17}"
#define GUIDE_TOKEN "Authorization: Token refund-harness-token"

/* The value printed after label on its own line of the banner, e.g. "OMS command endpoint", into
 * out; fails the test when the banner has no such line. */
static void banner_value(const char *banner, const char *label, char *out, size_t size)
{
    const char *at = strstr(banner, label);
    if (!at)
        fail_msg("the sandbox's banner has no \"%s\" line:\n%s", label, banner);
    at += strlen(label);
    at += strspn(at, " ");
    size_t n = strcspn(at, " \r\n");
    if (n == 0 || n >= size)
        fail_msg("the banner's \"%s\" line is strange:\n%s", label, banner);
    memcpy(out, at, n);
    out[n] = '\0';
}

/* POST the guide's command exactly as its curl line does. */
static long guide_command(struct oms_http_client *c, const char *base, struct oms_http_exchange *x)
{
    static const char *const headers[] = {GUIDE_TOKEN, "Content-Type: application/json", NULL};
    return support_http(c, x, "POST", base, "/api/v1/oms/packages/501/command/", headers,
                        GUIDE_BODY, strlen(GUIDE_BODY));
}

/* `refund-harness journal --url base [--json]`: its stdout (caller frees); fails unless exit 0. */
static char *journal(const char *base, int as_json)
{
    const char *argv[] = {proc_bin("refund-harness"), "journal", "--url", base,
                          as_json ? "--json" : NULL,  NULL};
    struct capture r;
    capture_run(argv, NULL, &r);
    if (r.code != 0) {
        char why[64];
        fail_msg("refund-harness journal --url %s: %s\n%s", base,
                 capture_describe(&r, why, sizeof(why)), r.err);
    }
    char *out = r.out;
    r.out = NULL;
    capture_cleanup(&r);
    return out;
}

/* The outbound entry of kind, or NULL. */
static json_t *outbound_of(const json_t *j, const char *kind)
{
    return support_find_string(json_object_get(j, "outbound"), "kind", kind);
}

static int delivered(const json_t *o)
{
    return o && strcmp(json_string_value(json_object_get(o, "state")), "delivered") == 0;
}

static void test_sandbox_as_the_guide_says(void **state)
{
    (void)state;
    char given[1024];
    snprintf(given, sizeof(given), "%s", support_path("docs/examples/sandbox-state.json"));
    const char *const argv[] = {"refund-harness", "serve", "--port", "0", "--given", given, NULL};
    struct proc p;
    proc_spawn(&p, argv, 0);
    char banner[4096] = "";
    if (proc_read_until(p.out_fd, banner, sizeof(banner), oms_time_mono_ms() + START_TIMEOUT_MS,
                        "loaded the initial state") != 2)
        fail_msg("serve did not report loading %s in time; stdout so far:\n%s", given, banner);
    char endpoint[512], base[512];
    banner_value(banner, "OMS command endpoint", endpoint, sizeof(endpoint));
    const char *api = strstr(endpoint, "/api/v1/oms/packages/{package_id}/command/");
    if (!api)
        fail_msg("the command endpoint is not the OMS path: %s", endpoint);
    snprintf(base, sizeof(base), "%.*s", (int)(api - endpoint), endpoint);
    if (!strstr(banner, GUIDE_TOKEN))
        fail_msg("the banner does not show the token header the guide uses:\n%s", banner);
    char journal_hint[600];
    snprintf(journal_hint, sizeof(journal_hint), "refund-harness journal --url %s", base);
    if (!strstr(banner, journal_hint))
        fail_msg("the banner does not show \"%s\":\n%s", journal_hint, banner);

    /* Section 2: the command, then the same command again. */
    struct oms_http_client *c = oms_http_client_create();
    struct oms_http_exchange x = {0};
    assert_int_equal(guide_command(c, base, &x), 204);
    oms_http_exchange_cleanup(&x);
    assert_int_equal(guide_command(c, base, &x), 400);
    support_assert_envelope(&x, 400, "non_field_errors");
    json_t *envelope = support_json(&x);
    oms_http_exchange_cleanup(&x);
    const char *message = support_error_message(envelope, "non_field_errors");
    char *guide = capture_read_file(support_path("docs/vendor-guide.md"), NULL);
    assert_non_null(guide);
    /* The guide quotes the message inside a JSON block, so its quotes are escaped there. */
    struct oms_buf quoted;
    oms_buf_init(&quoted, 0);
    for (const char *m = message; *m; m++) {
        if (*m == '"')
            oms_buf_append(&quoted, "\\", 1);
        oms_buf_append(&quoted, m, 1);
    }
    if (!strstr(guide, oms_buf_str(&quoted)))
        fail_msg("docs/vendor-guide.md does not show the message the sandbox answers:\n%s",
                 message);
    oms_buf_cleanup(&quoted);
    free(guide);

    /* The journal, once the two deliveries are done (a user reads it a moment later). */
    json_t *j = NULL;
    int64_t deadline = oms_time_mono_ms() + 20000;
    for (;;) {
        char *text = journal(base, 1);
        json_decref(j);
        j = support_parse(text);
        free(text);
        if (delivered(outbound_of(j, "omnitron")) && delivered(outbound_of(j, "webhook")))
            break;
        if (oms_time_mono_ms() > deadline)
            fail_msg("the journal never showed both calls delivered");
        oms_time_sleep_ms(50);
    }
    json_t *commands = json_object_get(j, "commands");
    assert_int_equal(json_array_size(commands), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(commands, 0), "status")),
                     204);
    json_t *second = json_array_get(commands, 1);
    assert_int_equal(json_integer_value(json_object_get(second, "status")), 400);
    support_assert_json_equal(json_object_get(second, "answer"), envelope);
    json_decref(envelope);

    json_t *expected =
        json_pack("[{s:i, s:i, s:s, s:i, s:i}]", "package", 501, "transition", 17, "slug",
                  "packed-for-refund", "old_status", 100, "new_status", 1100);
    json_t *got = json_array();
    size_t i;
    json_t *t;
    json_array_foreach(json_object_get(j, "transitions"), i, t)
    {
        json_array_append_new(got, json_pack("{s:O?, s:O?, s:O?, s:O?, s:O?}", "package",
                                             json_object_get(t, "package"), "transition",
                                             json_object_get(t, "transition"), "slug",
                                             json_object_get(t, "slug"), "old_status",
                                             json_object_get(t, "old_status"), "new_status",
                                             json_object_get(t, "new_status")));
    }
    support_assert_json_equal(got, expected);
    json_decref(got);
    json_decref(expected);

    /* The subscriber "erp" of the example state got the event; Omnitron got the PATCH. */
    json_t *hook = outbound_of(j, "webhook");
    const char *url = json_string_value(json_object_get(hook, "url"));
    if (strlen(url) < 10 || strcmp(url + strlen(url) - 10, "/hooks/erp") != 0)
        fail_msg("the webhook went to %s, not the example's /hooks/erp subscriber", url);
    assert_int_equal(json_integer_value(json_object_get(hook, "last_status")), 200);
    json_t *event = support_parse(json_string_value(json_object_get(hook, "body")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(event, "event"), "type")),
                        "package.status.packed_for_refund");
    json_decref(event);
    assert_string_equal(json_string_value(json_object_get(outbound_of(j, "omnitron"), "method")),
                        "PATCH");
    json_decref(j);

    /* The table form says the same for a person. */
    char *table = journal(base, 0);
    static const char *const lines[] = {"Commands received (2)", "Transitions made (1)",
                                        "packed-for-refund", "/hooks/erp", "delivered"};
    for (size_t k = 0; k < sizeof(lines) / sizeof(lines[0]); k++)
        if (!strstr(table, lines[k]))
            fail_msg("the journal table lacks \"%s\":\n%s", lines[k], table);
    free(table);
    oms_http_client_destroy(c);

    /* Ctrl-C stops everything cleanly. */
    kill(p.pid, SIGINT);
    int status = 0;
    if (!proc_wait_exit(p.pid, STOP_TIMEOUT_MS, &status))
        fail_msg("serve did not stop within %d ms of SIGINT", STOP_TIMEOUT_MS);
    proc_forget(p.pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("serve ended with status 0x%x after SIGINT, expected exit 0", status);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_sandbox_as_the_guide_says, proc_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
