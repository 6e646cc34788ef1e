/* serve: the vendor sandbox and its journal. */
#include "serve.h"

#include "oms_alloc.h"
#include "oms_json.h"
#include "oms_profile.h"
#include "oms_signal.h"
#include "oms_time.h"
#include "refcheck.h"
#include "runner.h"
#include "sandbox.h"
#include "scenario.h"
#include "suggest.h"
#include "target.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* ---- a --db sandbox keeps its receivers' ports ---- */

/* The receivers' ports of a sandbox. A --db sandbox keeps them in "<db>.ports.json" and starts
 * its receivers on them again, so the receiver URLs its database holds (subscriptions' target
 * URLs, the Omnitron URL, deliveries still queued) stay right across restarts. */
struct kept_ports {
    unsigned omnitron, omnitron_control, webhook, webhook_control;
};

static const char *const PORT_KEYS[] = {"omnitron", "omnitron_control", "webhook",
                                        "webhook_control"};

static unsigned *port_slot(struct kept_ports *k, size_t i)
{
    unsigned *slots[] = {&k->omnitron, &k->omnitron_control, &k->webhook, &k->webhook_control};
    return slots[i];
}

static void ports_path(const char *db, char *out, size_t size)
{
    snprintf(out, size, "%s.ports.json", db);
}

/* Reads the kept ports of db. Returns 0, or -1 when there are none (or they are unreadable). */
static int ports_read(const char *db, struct kept_ports *k)
{
    char path[4200];
    ports_path(db, path, sizeof(path));
    json_t *doc = json_load_file(path, 0, NULL);
    int rc = json_is_object(doc) ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < 4; i++) {
        json_t *v = json_object_get(doc, PORT_KEYS[i]);
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 65535)
            rc = -1;
        else
            *port_slot(k, i) = (unsigned)json_integer_value(v);
    }
    json_decref(doc);
    return rc;
}

/* The port of a URL such as "http://127.0.0.1:41234". */
static unsigned port_of(const char *url)
{
    const char *colon = url ? strrchr(url, ':') : NULL;
    return colon ? (unsigned)strtoul(colon + 1, NULL, 10) : 0;
}

/* Writes the running sandbox's receiver ports beside db (through a temporary file). */
static void ports_write(const char *db, const struct sandbox *box)
{
    char path[4200], tmp[4300];
    ports_path(db, path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s.tmp", path);
    json_t *doc =
        json_pack("{s:i, s:i, s:i, s:i}", PORT_KEYS[0], (int)port_of(sandbox_omnitron_url(box)),
                  PORT_KEYS[1], (int)port_of(sandbox_omnitron_control_url(box)), PORT_KEYS[2],
                  (int)port_of(sandbox_webhook_url(box)), PORT_KEYS[3],
                  (int)port_of(sandbox_webhook_control_url(box)));
    if (json_dump_file(doc, tmp, JSON_INDENT(2)) != 0 || rename(tmp, path) != 0)
        fprintf(stderr,
                "refund-harness: warning: cannot write %s; after a restart the receivers will "
                "listen on other ports than the URLs the database keeps\n",
                path);
    json_decref(doc);
}

/* 1 when path is a file with something in it (a database an earlier sandbox wrote). */
static int has_content(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && st.st_size > 0;
}

/* ---- serve ---- */

static void print_banner(const struct serve_options *opt, const struct sandbox *box,
                         const json_t *profile)
{
    (void)profile;
    const char *token = sandbox_api_token(box);
    const char *oms = sandbox_oms_url(box);
    oms_server_announce("refund-harness serve", opt->server.bind ? opt->server.bind : "127.0.0.1",
                        sandbox_fixture_token(box), sandbox_fixture_token_generated(box),
                        "the OMS command endpoint and hooks API (with the API token), the "
                        "fixture protocol that replaces all state, and both receivers with "
                        "their journals and control endpoints (with the fixture token)");
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
}

/* Starts the sandbox; a --db sandbox that ran before gets its receivers' ports back. Returns 0,
 * or 3 after printing why. */
static int start(const struct serve_options *opt, int fresh, struct sandbox **box)
{
    struct kept_ports kept = {0};
    int have_ports = !fresh && ports_read(opt->db_path, &kept) == 0;
    struct sandbox_config sc = {
        .profile_path = opt->profile_path,
        .bind = opt->server.bind,
        .oms_port = opt->port,
        .db_path = opt->db_path,
        .threads = 4,
        .fixture_token = opt->server.fixture_token,
        .limits = opt->server.limits,
        .omnitron_port = kept.omnitron,
        .omnitron_control_port = kept.omnitron_control,
        .webhook_port = kept.webhook,
        .webhook_control_port = kept.webhook_control,
    };
    struct oms_err err = {0};
    if (sandbox_start(&sc, box, &err) != 0) {
        char text[2048], path[4200] = "";
        if (have_ports)
            ports_path(opt->db_path, path, sizeof(path));
        fprintf(stderr, "refund-harness: cannot start the sandbox: %s%s%s%s\n",
                oms_err_format(&err, text, sizeof(text)),
                have_ports ? " (the receivers' ports are the ones kept in " : "", path,
                have_ports ? " for this database, so that its stored URLs still reach them)" : "");
        return 3;
    }
    if (!fresh && !have_ports)
        fprintf(stderr,
                "refund-harness: warning: %s has no kept receiver ports (no %s.ports.json): "
                "receiver URLs stored in it may name ports nothing listens on now\n",
                opt->db_path, opt->db_path);
    if (opt->db_path)
        ports_write(opt->db_path, *box);
    return 0;
}

int serve_run(const struct serve_options *opt, struct schema *schema, const json_t *rules)
{
    /* --given seeds only a new database: a restart continues where the sandbox stopped. */
    int fresh = !opt->db_path || !has_content(opt->db_path);
    struct sandbox *box = NULL;
    if (start(opt, fresh, &box) != 0)
        return 3;
    struct target_config tc = {
        .oms_url = sandbox_oms_url(box),
        .omnitron_url = sandbox_omnitron_url(box),
        .webhook_url = sandbox_webhook_url(box),
        .omnitron_control_url = sandbox_omnitron_control_url(box),
        .webhook_control_url = sandbox_webhook_control_url(box),
        .omnitron_recorder = sandbox_omnitron(box),
        .webhook_recorder = sandbox_webhook(box),
        .fixture_token = sandbox_fixture_token(box),
        .api_token = sandbox_api_token(box),
    };
    struct target *t = target_create(&tc);
    json_t *profile = NULL;
    struct oms_profile *model = NULL;
    struct oms_err err = {0};
    int code = 0;
    if (target_profile(t, &profile, &err) != 0 ||
        oms_profile_from_json(profile, "the sandbox's profile", &model, &err) != 0) {
        char text[2048];
        fprintf(stderr, "refund-harness: %s\n", oms_err_format(&err, text, sizeof(text)));
        code = 3;
    }
    if (code == 0 && opt->given_file && fresh)
        code = load_given(t, opt->given_file, schema, rules, model);
    if (code == 0) {
        print_banner(opt, box, profile);
        if (opt->given_file && fresh)
            printf("\nloaded the initial state of %s\n", opt->given_file);
        else if (opt->given_file)
            printf("\nkept the state of %s; %s was not loaded: --given seeds only a new database "
                   "(delete %s to start from it again)\n",
                   opt->db_path, opt->given_file, opt->db_path);
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

/* ---- warnings: what an ERP probably got wrong ---- */

/* The keys the command endpoint reads; any other is ignored by the OMS, so a typo there never
 * gets an error of its own. */
static const char *const COMMAND_KEYS[] = {"package", "transition", "slug",
                                           "sync_remote_order_status"};

static void warn(json_t *warnings, const char *where, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void warn(json_t *warnings, const char *where, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    json_array_append_new(warnings, json_pack("{s:s, s:s}", "where", where, "message", text));
}

/* "; did you mean \"X\"?" or "". */
static const char *mean(const struct suggest *s, char *out, size_t size)
{
    out[0] = '\0';
    if (s->best)
        snprintf(out, size, "; did you mean \"%s\"?", s->best);
    return out;
}

/* A command body's keys the OMS ignores, and a slug no transition has. */
static void command_warnings(const json_t *entry, const struct oms_profile *p, json_t *warnings)
{
    const char *text = json_string_value(json_object_get(entry, "body"));
    json_t *body = text ? json_loads(text, 0, NULL) : NULL;
    char where[64], hint[160];
    snprintf(where, sizeof(where), "command #%lld",
             (long long)json_integer_value(json_object_get(entry, "seq")));
    const char *key;
    json_t *v;
    json_object_foreach(json_is_object(body) ? body : NULL, key, v)
    {
        struct suggest s;
        suggest_init(&s, key);
        int known = 0;
        for (size_t i = 0; i < OMS_ARRAY_LEN(COMMAND_KEYS); i++) {
            known |= strcmp(key, COMMAND_KEYS[i]) == 0;
            suggest_consider(&s, COMMAND_KEYS[i]);
        }
        if (!known)
            warn(warnings, where,
                 "the body's key \"%s\" is none the command reads (package, transition, slug, "
                 "sync_remote_order_status), so the OMS ignored it%s",
                 key, mean(&s, hint, sizeof(hint)));
    }
    const char *slug = json_string_value(json_object_get(body, "slug"));
    if (slug && !oms_profile_transition_by_slug(p, slug)) {
        struct suggest s;
        suggest_init(&s, slug);
        for (size_t i = 0; i < oms_profile_transition_count(p); i++)
            suggest_consider(&s, oms_profile_transition_at(p, i)->slug);
        if (s.best)
            warn(warnings, where, "the slug \"%s\" is no transition's%s", slug,
                 mean(&s, hint, sizeof(hint)));
    }
    json_decref(body);
}

/* A subscription to an event type no transition sends is never called. */
static void subscription_warnings(const json_t *sub, const struct oms_profile *p, json_t *warnings)
{
    const char *type = json_string_value(json_object_get(sub, "event_type"));
    struct suggest s;
    suggest_init(&s, type);
    for (size_t i = 0; type && i < oms_profile_transition_count(p); i++) {
        const char *known = oms_profile_transition_at(p, i)->event_type;
        if (known && strcmp(known, type) == 0)
            return;
        suggest_consider(&s, known);
    }
    char where[64], hint[200];
    snprintf(where, sizeof(where), "subscription #%lld",
             (long long)json_integer_value(json_object_get(sub, "id")));
    warn(warnings, where, "the event type \"%s\" is no transition's, so nothing will call %s%s",
         type ? type : "", json_string_value(json_object_get(sub, "target_url")),
         mean(&s, hint, sizeof(hint)));
}

/* Every warning about what the sandbox received, as [{"where", "message"}] (new reference). */
static json_t *journal_warnings(const json_t *commands, const json_t *state,
                                const struct oms_profile *p)
{
    json_t *warnings = json_array();
    size_t i;
    json_t *e;
    json_array_foreach(commands, i, e)
    {
        command_warnings(e, p, warnings);
    }
    json_array_foreach(json_object_get(state, "subscriptions"), i, e)
    {
        subscription_warnings(e, p, warnings);
    }
    return warnings;
}

static void print_warnings(const json_t *warnings)
{
    printf("\nWarnings (%zu)\n", json_array_size(warnings));
    size_t i;
    json_t *w;
    json_array_foreach(warnings, i, w)
    {
        printf("  %-16s %s\n", json_string_value(json_object_get(w, "where")),
               json_string_value(json_object_get(w, "message")));
    }
}

/* The journal, state and profile of the sandbox at t. Returns 0 or 3 (printed). */
static int fetch(struct target *t, json_t **journal, json_t **state, struct oms_profile **p)
{
    struct oms_err err = {0};
    json_t *profile = NULL;
    int rc = target_journal(t, journal, &err);
    if (rc == 0)
        rc = target_state(t, state, &err);
    if (rc == 0)
        rc = target_profile(t, &profile, &err);
    if (rc == 0)
        rc = oms_profile_from_json(profile, "the sandbox's profile", p, &err);
    json_decref(profile);
    if (rc == 0)
        return 0;
    char text[2048];
    fprintf(stderr, "refund-harness: %s\n", oms_err_format(&err, text, sizeof(text)));
    return 3;
}

int serve_journal(const char *url, const char *fixture_token, int as_json)
{
    /* The journal sends no command: the profile is read for its catalogue and transitions,
     * whatever its (hidden) tokens are. */
    struct target_config tc = {
        .oms_url = url, .fixture_token = fixture_token, .api_token = "unused-by-journal"};
    struct target *t = target_create(&tc);
    json_t *journal = NULL, *state = NULL;
    struct oms_profile *p = NULL;
    int code = fetch(t, &journal, &state, &p);
    if (code == 0) {
        json_t *commands = json_object_get(journal, "commands");
        json_t *warnings = journal_warnings(commands, state, p);
        if (as_json) {
            json_t *doc = json_pack("{s:O, s:O, s:O, s:O}", "commands", commands, "transitions",
                                    json_object_get(state, "transition_log"), "outbound",
                                    json_object_get(state, "outbox"), "warnings", warnings);
            char *text = oms_json_dumps_pretty(doc);
            puts(text);
            free(text);
            json_decref(doc);
        } else {
            print_tables(commands, state);
            print_warnings(warnings);
        }
        json_decref(warnings);
    }
    oms_profile_unref(p);
    json_decref(journal);
    json_decref(state);
    target_destroy(t);
    return code;
}
