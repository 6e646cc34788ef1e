/* serve: the vendor sandbox and its journal. */
#include "serve.h"

#include "oms_json.h"
#include "oms_profile.h"
#include "oms_signal.h"
#include "oms_time.h"
#include "refcheck.h"
#include "runner.h"
#include "sandbox.h"
#include "scenario.h"
#include "target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int load_given(struct target *t, const char *file, struct schema *schema,
                      const json_t *rules, const struct oms_profile *profile)
{
    struct oms_err errs[16];
    struct scenario *sc = NULL;
    size_t n = scenario_load(file, schema, rules, &sc, errs, 16);
    if (n == 0 && profile) {
        n = refcheck_scenario(sc, profile, errs, 16);
        if (n) {
            scenario_destroy(sc);
            sc = NULL;
        }
    }
    if (n) {
        for (size_t i = 0; i < n && i < 16; i++) {
            char text[2048];
            fprintf(stderr, "invalid  %s\n", oms_err_format(&errs[i], text, sizeof(text)));
        }
        return 2;
    }
    struct runner_options ro = {0};
    json_t *fixture = runner_fixture(t, sc, &ro);
    struct oms_err err = {0};
    int rc = target_load(t, fixture, NULL, &err);
    json_decref(fixture);
    const json_t *behaviour = json_object_get(sc->given, "receivers");
    const char *which;
    json_t *b;
    json_object_foreach((json_t *)behaviour, which, b)
    {
        if (rc == 0)
            rc = target_receiver_configure(t, which, b, &err);
    }
    scenario_destroy(sc);
    if (rc != 0) {
        char text[2048];
        fprintf(stderr, "refund-harness: %s: %s\n", file, oms_err_format(&err, text, sizeof(text)));
        return 2;
    }
    return 0;
}

int serve_run(const struct serve_options *opt, struct schema *schema, const json_t *rules)
{
    struct oms_err err = {0};
    struct sandbox *box = NULL;
    struct sandbox_config sc = {
        .profile_path = opt->profile_path,
        .bind = opt->bind,
        .oms_port = opt->port,
        .db_path = opt->db_path,
        .threads = 4,
    };
    if (sandbox_start(&sc, &box, &err) != 0) {
        char text[2048];
        fprintf(stderr, "refund-harness: cannot start the sandbox: %s\n",
                oms_err_format(&err, text, sizeof(text)));
        return 3;
    }
    struct target_config tc = {
        .oms_url = sandbox_oms_url(box),
        .omnitron_url = sandbox_omnitron_url(box),
        .webhook_url = sandbox_webhook_url(box),
        .omnitron_control_url = sandbox_omnitron_control_url(box),
        .webhook_control_url = sandbox_webhook_control_url(box),
        .omnitron_recorder = sandbox_omnitron(box),
        .webhook_recorder = sandbox_webhook(box),
    };
    struct target *t = target_create(&tc);
    json_t *profile = NULL;
    struct oms_profile *model = NULL;
    int code = 0;
    if (target_profile(t, &profile, &err) != 0 ||
        oms_profile_from_json(profile, "the sandbox's profile", &model, &err) != 0) {
        char text[2048];
        fprintf(stderr, "refund-harness: %s\n", oms_err_format(&err, text, sizeof(text)));
        code = 3;
    }
    if (code == 0 && opt->given_file)
        code = load_given(t, opt->given_file, schema, rules, model);
    if (code == 0) {
        const char *token =
            json_string_value(json_array_get(json_object_get(profile, "tokens"), 0));
        const char *oms = sandbox_oms_url(box);
        printf("refund-harness sandbox (Ctrl-C stops it)\n\n"
               "  OMS command endpoint  %s/api/v1/oms/packages/{package_id}/command/\n"
               "  token                 Authorization: Token %s\n"
               "  webhook subscriptions %s/whisperer/hooks/\n"
               "  Omnitron (mock)       %s   journal: %s/__journal\n"
               "  webhooks (mock)       %s/hooks/<name> as target_url   journal: %s/__journal\n"
               "  state                 %s/_fixture/state%s\n"
               "  journal               refund-harness journal --url %s\n",
               oms, token ? token : "?", oms, sandbox_omnitron_url(box),
               sandbox_omnitron_control_url(box), sandbox_webhook_url(box),
               sandbox_webhook_control_url(box), oms,
               opt->db_path ? "   (kept in the database file)" : "", oms);
        if (opt->given_file)
            printf("\nloaded the initial state of %s\n", opt->given_file);
        fflush(stdout);
        oms_signal_wait_termination();
        printf("\nstopping\n");
    }
    json_decref(profile);
    oms_profile_unref(model);
    target_destroy(t);
    sandbox_stop(box);
    return code;
}

/* ---- journal ---- */

static const char *error_summary(const json_t *answer, char *out, size_t size)
{
    json_t *error = json_object_get(answer, "error");
    void *it = json_object_iter(error);
    out[0] = '\0';
    if (!it)
        return out;
    const char *field = json_object_iter_key(it);
    const char *msg = json_string_value(json_array_get(json_object_iter_value(it), 0));
    snprintf(out, size, "%s: %s", field, msg ? msg : "");
    return out;
}

static void print_tables(const json_t *commands, const json_t *state)
{
    char when[40], summary[512];
    size_t i;
    json_t *e;
    printf("Commands received (%zu)\n", json_array_size(commands));
    printf("  %-4s %-24s %-6s %-44s %-6s %s\n", "#", "at", "method", "path", "answer", "error");
    json_array_foreach((json_t *)commands, i, e)
    {
        printf(
            "  %-4lld %-24s %-6s %-44s %-6lld %s\n",
            (long long)json_integer_value(json_object_get(e, "seq")),
            oms_time_iso8601(json_integer_value(json_object_get(e, "at_ms")), when, sizeof(when)),
            json_string_value(json_object_get(e, "method")),
            json_string_value(json_object_get(e, "path")),
            (long long)json_integer_value(json_object_get(e, "status")),
            error_summary(json_object_get(e, "answer"), summary, sizeof(summary)));
    }
    json_t *log = json_object_get(state, "transition_log");
    printf("\nTransitions made (%zu)\n", json_array_size(log));
    printf("  %-8s %-10s %-6s %-20s %s\n", "package", "transition", "from", "to", "slug");
    json_array_foreach(log, i, e)
    {
        printf("  %-8lld %-10lld %-6lld %-20lld %s\n",
               (long long)json_integer_value(json_object_get(e, "package")),
               (long long)json_integer_value(json_object_get(e, "transition")),
               (long long)json_integer_value(json_object_get(e, "old_status")),
               (long long)json_integer_value(json_object_get(e, "new_status")),
               json_string_value(json_object_get(e, "slug")));
    }
    json_t *outbox = json_object_get(state, "outbox");
    printf("\nSent to Omnitron and webhook receivers (%zu)\n", json_array_size(outbox));
    printf("  %-9s %-6s %-60s %-10s %-8s %s\n", "kind", "method", "url", "state", "attempts",
           "last answer");
    json_array_foreach(outbox, i, e)
    {
        json_t *last = json_object_get(e, "last_status");
        const char *err = json_string_value(json_object_get(e, "last_error"));
        char answer[320];
        if (json_is_integer(last))
            snprintf(answer, sizeof(answer), "%lld", (long long)json_integer_value(last));
        else
            snprintf(answer, sizeof(answer), "%s", err ? err : "-");
        printf("  %-9s %-6s %-60s %-10s %-8lld %s\n", json_string_value(json_object_get(e, "kind")),
               json_string_value(json_object_get(e, "method")),
               json_string_value(json_object_get(e, "url")),
               json_string_value(json_object_get(e, "state")),
               (long long)json_integer_value(json_object_get(e, "attempts")), answer);
    }
}

int serve_journal(const char *url, int as_json)
{
    struct target_config tc = {.oms_url = url};
    struct target *t = target_create(&tc);
    struct oms_err err = {0};
    json_t *journal = NULL, *state = NULL;
    int code = 0;
    if (target_journal(t, &journal, &err) != 0 || target_state(t, &state, &err) != 0) {
        char text[2048];
        fprintf(stderr, "refund-harness: %s\n", oms_err_format(&err, text, sizeof(text)));
        code = 3;
    } else if (as_json) {
        json_t *doc = json_pack("{s:O, s:O, s:O}", "commands", json_object_get(journal, "commands"),
                                "transitions", json_object_get(state, "transition_log"), "outbound",
                                json_object_get(state, "outbox"));
        char *text = oms_json_dumps_pretty(doc);
        puts(text);
        free(text);
        json_decref(doc);
    } else {
        print_tables(json_object_get(journal, "commands"), state);
    }
    json_decref(journal);
    json_decref(state);
    target_destroy(t);
    return code;
}
