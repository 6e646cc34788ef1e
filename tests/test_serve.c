/* test_serve: `refund-harness serve --db FILE` restarts where it stopped - the receivers come back
 * on the ports the database's stored URLs name (so a delivery after the restart arrives), and
 * --given seeds only the new database (the state changed before the restart is kept) - and
 * `refund-harness journal` warns about a body key the command does not read, a slug near a real
 * one and a subscription to an event type no transition sends. */
#include "capture.h"
#include "proc.h"
#include "support.h"

#include "oms_time.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TOKEN_HEADER "Authorization: Token refund-harness-token"

/* The value after label on its line of the banner (up to a space or the line's end). */
static void banner_value(const char *banner, const char *label, char *out, size_t size)
{
    const char *at = strstr(banner, label);
    if (!at)
        fail_msg("the banner has no \"%s\" line:\n%s", label, banner);
    at += strlen(label);
    at += strspn(at, " ");
    size_t n = strcspn(at, " \r\n");
    if (n == 0 || n >= size)
        fail_msg("the banner's \"%s\" line is strange:\n%s", label, banner);
    memcpy(out, at, n);
    out[n] = '\0';
}

struct sandbox_urls {
    char base[256];     /* the OMS */
    char omnitron[256]; /* the Omnitron mock */
    char webhook[256];  /* the webhook mock's base, from "<base>/hooks/<name>" */
};

/* Starts serve with --db and --given; waits for the banner's last line (until) and reads the
 * URLs. Returns the banner in banner. */
static void serve(struct proc *p, const char *until, char *banner, size_t size,
                  struct sandbox_urls *u)
{
    char given[1024];
    snprintf(given, sizeof(given), "%s", support_path("docs/examples/sandbox-state.json"));
    const char *const argv[] = {"refund-harness", "serve",   "--port", "0", "--db",
                                proc_temp_db,     "--given", given,    NULL};
    proc_spawn(p, argv, 0);
    banner[0] = '\0';
    if (proc_read_until(p->out_fd, banner, size, oms_time_mono_ms() + START_TIMEOUT_MS, until) != 2)
        fail_msg("serve did not print \"%s\" in time; stdout so far:\n%s", until, banner);
    char endpoint[512];
    banner_value(banner, "OMS command endpoint", endpoint, sizeof(endpoint));
    const char *api = strstr(endpoint, "/api/v1/oms/packages/");
    assert_non_null(api);
    snprintf(u->base, sizeof(u->base), "%.*s", (int)(api - endpoint), endpoint);
    banner_value(banner, "Omnitron (mock)", u->omnitron, sizeof(u->omnitron));
    char hooks[512];
    banner_value(banner, "webhooks (mock)", hooks, sizeof(hooks));
    const char *tail = strstr(hooks, "/hooks/");
    assert_non_null(tail);
    snprintf(u->webhook, sizeof(u->webhook), "%.*s", (int)(tail - hooks), hooks);
}

static void stop(struct proc *p)
{
    kill(p->pid, SIGINT);
    int status = 0;
    if (!proc_wait_exit(p->pid, STOP_TIMEOUT_MS, &status))
        fail_msg("serve did not stop within %d ms of SIGINT", STOP_TIMEOUT_MS);
    proc_forget(p->pid);
    close(p->out_fd);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("serve ended with status 0x%x, expected exit 0", status);
}

static long command(struct oms_http_client *c, const char *base, long long package,
                    const char *body)
{
    static const char *const headers[] = {TOKEN_HEADER, "Content-Type: application/json", NULL};
    char path[96];
    snprintf(path, sizeof(path), "/api/v1/oms/packages/%lld/command/", package);
    struct oms_http_exchange x = {0};
    long status = support_http(c, &x, "POST", base, path, headers, body, strlen(body));
    oms_http_exchange_cleanup(&x);
    return status;
}

/* The id an outbox row is about: the webhook payload's package id, or the first order item of
 * an Omnitron update. */
static long long row_subject(const json_t *row)
{
    json_t *body = json_loads(json_string_value(json_object_get(row, "body")), 0, NULL);
    const json_t *id =
        strcmp(json_string_value(json_object_get(row, "kind")), "webhook") == 0
            ? json_object_get(json_object_get(body, "payload"), "id")
            : json_object_get(json_array_get(json_object_get(body, "orderitem_set"), 0), "id");
    long long v = json_is_integer(id) ? (long long)json_integer_value(id) : -1;
    json_decref(body);
    return v;
}

/* The outbox row of kind about id (a package, or an order item for Omnitron), borrowed. */
static const json_t *row_for(const json_t *state, const char *kind, long long id)
{
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(state, "outbox"), i, row)
    {
        if (strcmp(json_string_value(json_object_get(row, "kind")), kind) == 0 &&
            row_subject(row) == id)
            return row;
    }
    return NULL;
}

static void expect_delivered(const json_t *state, const char *kind, long long package)
{
    const json_t *row = row_for(state, kind, package);
    if (!row)
        fail_msg("no %s row for package %lld in the outbox", kind, package);
    const char *st = json_string_value(json_object_get(row, "state"));
    if (strcmp(st, "delivered") != 0)
        fail_msg("the %s row for package %lld is %s (%s), not delivered", kind, package, st,
                 json_string_value(json_object_get(row, "last_error")));
}

static void test_db_sandbox_restarts_where_it_stopped(void **state)
{
    (void)state;
    proc_make_temp_db();
    struct proc p;
    char banner[4096];
    struct sandbox_urls first, second;
    serve(&p, "loaded the initial state", banner, sizeof(banner), &first);
    struct oms_http_client *c = oms_http_client_create();
    assert_int_equal(command(c, first.base, 501, "{\"package\": 501, \"transition\": 17}"), 204);
    json_t *drained = support_drain(c, first.base, 10000);
    json_decref(drained);
    json_t *st = support_get_state(c, first.base);
    expect_delivered(st, "webhook", 501);
    json_decref(st);
    stop(&p);
    char *ports = support_printf("%s.ports.json", proc_temp_db);
    assert_true(capture_exists(ports));

    /* The restart: the same receivers' URLs, the state kept, the given not loaded again. */
    serve(&p, "was not loaded: --given seeds only a new database", banner, sizeof(banner), &second);
    if (strstr(banner, "loaded the initial state"))
        fail_msg("the restart loaded --given again:\n%s", banner);
    assert_string_equal(second.omnitron, first.omnitron);
    assert_string_equal(second.webhook, first.webhook);
    st = support_get_state(c, second.base);
    json_t *pkg = support_find_id(json_object_get(st, "packages"), 501);
    assert_int_equal(json_integer_value(json_object_get(pkg, "status")), 1100);
    json_decref(st);

    /* A command after the restart: its webhook (to the stored subscription's URL) and its
     * Omnitron call (to the stored Omnitron URL) reach the receivers running now. */
    assert_int_equal(command(c, second.base, 502, "{\"package\": 502, \"transition\": 17}"), 204);
    drained = support_drain(c, second.base, 10000);
    json_decref(drained);
    st = support_get_state(c, second.base);
    expect_delivered(st, "webhook", 502);
    expect_delivered(st, "omnitron", 7003);
    json_decref(st);
    oms_http_client_destroy(c);
    stop(&p);
    unlink(ports);
    free(ports);
}

/* `refund-harness journal --url base [--json]`: its stdout (caller frees); fails unless exit 0. */
static char *journal(const char *base, int as_json)
{
    const char *argv[] = {proc_bin("refund-harness"), "journal", "--url", base,
                          as_json ? "--json" : NULL,  NULL};
    struct capture r;
    capture_run(argv, NULL, &r);
    if (r.code != 0)
        fail_msg("refund-harness journal --url %s: exit %d\n%s", base, r.code, r.err);
    char *out = r.out;
    r.out = NULL;
    capture_cleanup(&r);
    return out;
}

static void test_journal_warns_about_likely_mistakes(void **state)
{
    (void)state;
    proc_make_temp_db();
    struct proc p;
    char banner[4096];
    struct sandbox_urls u;
    serve(&p, "loaded the initial state", banner, sizeof(banner), &u);
    struct oms_http_client *c = oms_http_client_create();
    /* A misspelt key (ignored: the command lacks a transition), a slug near a real one, a good
     * command, and a subscription to an event type with the wrong separator. */
    assert_int_equal(command(c, u.base, 501, "{\"package\": 501, \"slugg\": \"pack\"}"), 400);
    assert_int_equal(command(c, u.base, 501, "{\"package\": 501, \"slug\": \"packed_for_refund\"}"),
                     400);
    assert_int_equal(command(c, u.base, 501, "{\"package\": 501, \"transition\": 17}"), 204);
    static const char *const headers[] = {TOKEN_HEADER, "Content-Type: application/json", NULL};
    const char *sub = "{\"event_type\": \"package.status.packed-for-refund\", \"target_url\": "
                      "\"https://erp.example/hooks\"}";
    struct oms_http_exchange x = {0};
    assert_int_equal(
        support_http(c, &x, "POST", u.base, "/whisperer/hooks/", headers, sub, strlen(sub)), 201);
    oms_http_exchange_cleanup(&x);
    oms_http_client_destroy(c);

    char *table = journal(u.base, 0);
    static const char *const lines[] = {
        "Warnings (3)",
        "command #1       the body's key \"slugg\" is none the command reads (package, "
        "transition, slug, sync_remote_order_status), so the OMS ignored it; did you mean "
        "\"slug\"?",
        "command #2       the slug \"packed_for_refund\" is no transition's; did you mean "
        "\"packed-for-refund\"?",
        "the event type \"package.status.packed-for-refund\" is no transition's, so nothing will "
        "call https://erp.example/hooks; did you mean \"package.status.packed_for_refund\"?",
    };
    for (size_t k = 0; k < sizeof(lines) / sizeof(lines[0]); k++)
        if (!strstr(table, lines[k]))
            fail_msg("the journal lacks \"%s\":\n%s", lines[k], table);
    if (strstr(table, "command #3"))
        fail_msg("the good command got a warning:\n%s", table);
    free(table);
    char *text = journal(u.base, 1);
    json_t *doc = support_parse(text);
    free(text);
    json_t *warnings = json_object_get(doc, "warnings");
    assert_int_equal(json_array_size(warnings), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(warnings, 0), "where")),
                        "command #1");
    json_decref(doc);
    stop(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_db_sandbox_restarts_where_it_stopped, proc_teardown),
        cmocka_unit_test_teardown(test_journal_warns_about_likely_mistakes, proc_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
