/* runner: one scenario, end to end over HTTP. */
#include "runner.h"

#include "crash.h"
#include "crash_check.h"
#include "expect.h"
#include "repro.h"
#include "oms_alloc.h"
#include "oms_buf.h"
#include "oms_http_client.h"
#include "oms_json.h"
#include "oms_str.h"
#include "oms_time.h"
#include "oms_limits.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define WEBHOOK_PREFIX         "/hooks/"
#define DEFAULT_OMNITRON_TOKEN "omnitron-test-token"
#define DEFAULT_DRAIN_MS       OMS_DRAIN_DEFAULT_MS

static void fail_error(struct result_scenario *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int has_capability(const json_t *caps, const char *name);

static void fail_error(struct result_scenario *out, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (out->outcome == RESULT_PASS || out->outcome == RESULT_FAIL) {
        out->outcome = RESULT_ERROR;
        free(out->error);
        out->error = oms_xstrdup(msg);
    }
}

/* The target or a receiver did not answer: an environment failure, not a verdict on the target. */
static void env_error(struct result_scenario *out, const struct oms_err *err, const char *what)
{
    char text[2048];
    fail_error(out, "%s: %s", what, oms_err_format(err, text, sizeof(text)));
    if (err->code == OMS_E_ENV || err->code == OMS_E_TIMEOUT || err->code == OMS_E_HTTP)
        out->environment = 1;
}

json_t *runner_fixture_for(const json_t *given, const char *omnitron_url, const char *webhook_url,
                           const char *omnitron_token)
{
    json_t *fx = json_deep_copy(given);
    json_object_del(fx, "receivers");
    const char *token =
        json_string_value(json_object_get(json_object_get(given, "omnitron"), "token"));
    if (!token)
        token = omnitron_token ? omnitron_token : DEFAULT_OMNITRON_TOKEN;
    json_object_set_new(fx, "omnitron",
                        json_pack("{s:s, s:s}", "url", omnitron_url, "token", token));
    size_t i;
    json_t *sub;
    json_array_foreach(json_object_get(fx, "subscriptions"), i, sub)
    {
        const char *name = json_string_value(json_object_get(sub, "receiver"));
        if (!name)
            continue;
        char url[1024];
        snprintf(url, sizeof(url), "%s%s%s", webhook_url, WEBHOOK_PREFIX, name);
        json_object_set_new(sub, "target_url", json_string(url));
        json_object_del(sub, "receiver");
    }
    return fx;
}

json_t *runner_fixture(struct target *t, const struct scenario *sc,
                       const struct runner_options *opt)
{
    return runner_fixture_for(sc->given, target_omnitron_url(t), target_webhook_url(t),
                              opt->omnitron_token);
}

/* Headers and body of a step's request; fills x (whose strings live in the returned arrays). */
struct built_request {
    char method[16];
    char url[2048];
    char path[1024];
    char **lines;
    size_t line_count;
    char *body;
    size_t body_len;
    json_t *shown;      /* for the report */
    size_t secret_line; /* the line carrying the run's own API token, or (size_t)-1 */
};

static char *built_curl(const struct built_request *b, unsigned copies)
{
    return repro_curl(b->method, b->path, b->lines, b->line_count, b->secret_line, b->body,
                      b->body_len, copies);
}

static void built_cleanup(struct built_request *b)
{
    for (size_t i = 0; i < b->line_count; i++)
        free(b->lines[i]);
    free(b->lines);
    free(b->body);
    json_decref(b->shown);
}

static void build_request(struct target *t, const struct oms_profile *p, const char *token_override,
                          const json_t *r, enum scenario_step_kind kind, struct built_request *b)
{
    memset(b, 0, sizeof(*b));
    b->secret_line = (size_t)-1;
    const char *method = json_string_value(json_object_get(r, "method"));
    snprintf(b->method, sizeof(b->method), "%s",
             method ? method : (kind == STEP_HTTP ? "GET" : "POST"));
    const char *path = json_string_value(json_object_get(r, "path"));
    if (path)
        snprintf(b->path, sizeof(b->path), "%s", path);
    else
        snprintf(b->path, sizeof(b->path), "/api/v1/oms/packages/%lld/command/",
                 (long long)json_integer_value(json_object_get(r, "package")));
    snprintf(b->url, sizeof(b->url), "%s%s", target_oms_url(t), b->path);

    /* Defaults first, then the step's own headers (null removes one). */
    json_t *headers = json_object();
    json_t *token = json_object_get(r, "token");
    char auth[512] = "";
    if (!token || json_is_string(token)) {
        snprintf(auth, sizeof(auth), "Token %s",
                 token            ? json_string_value(token)
                 : token_override ? token_override
                                  : oms_profile_default_token(p));
        json_object_set_new(headers, "Authorization", json_string(auth));
    }
    /* Fixture-protocol steps (a plan) carry the target's fixture token. */
    if (strncmp(b->path, "/_fixture", 9) == 0 && target_fixture_token(t))
        json_object_set_new(headers, "X-Fixture-Token", json_string(target_fixture_token(t)));
    json_t *body = json_object_get(r, "body");
    const char *raw = json_string_value(json_object_get(r, "raw_body"));
    if (body || raw)
        json_object_set_new(headers, "Content-Type", json_string("application/json"));
    const char *name;
    json_t *v;
    json_object_foreach(json_object_get(r, "headers"), name, v)
    {
        /* Replace case-insensitively, so "content-type" overrides the default. */
        const char *k;
        json_t *old;
        void *tmp;
        json_object_foreach_safe(headers, tmp, k, old)
        {
            if (strcasecmp(k, name) == 0)
                json_object_del(headers, k);
        }
        if (!json_is_null(v))
            json_object_set(headers, name, v);
    }
    b->lines = oms_xcalloc(json_object_size(headers) + 1, sizeof(char *));
    json_object_foreach(headers, name, v)
    {
        /* The run's token (not one the scenario wrote) stays out of reproducers. */
        if (!token && strcasecmp(name, "Authorization") == 0 &&
            strcmp(json_string_value(v), auth) == 0)
            b->secret_line = b->line_count;
        struct oms_buf line;
        oms_buf_init(&line, 0);
        if (json_string_length(v) == 0)
            oms_buf_printf(&line, "%s;", name); /* curl's way to send an empty header */
        else
            oms_buf_printf(&line, "%s: %s", name, json_string_value(v));
        b->lines[b->line_count++] = oms_buf_take(&line, NULL);
    }
    if (body) {
        b->body = oms_json_dumps(body);
        b->body_len = strlen(b->body);
    } else if (raw) {
        b->body = oms_xstrdup(raw);
        b->body_len = strlen(raw);
    }
    /* Reports never show a secret: the token part of credentials reads "***". */
    json_object_foreach(headers, name, v)
    {
        const char *text = json_string_value(v);
        if (strcasecmp(name, "X-Fixture-Token") == 0 && text)
            json_object_set_new(headers, name, json_string("***"));
        else if (strcasecmp(name, "Authorization") == 0 && text && strchr(text, ' ')) {
            char shown[80];
            snprintf(shown, sizeof(shown), "%.*s ***", (int)(strchr(text, ' ') - text), text);
            json_object_set_new(headers, name, json_string(shown));
        }
    }
    b->shown = json_pack("{s:s, s:s, s:o, s:O?}", "method", b->method, "path", b->path, "headers",
                         headers, "body", body ? body : json_object_get(r, "raw_body"));
}

static json_t *response_json(const struct oms_http_exchange *x)
{
    json_t *headers = json_object();
    for (size_t i = 0; i < x->resp_header_count; i++) {
        char lower[128];
        json_object_set_new(headers, oms_str_lower(lower, sizeof(lower), x->resp_headers[i].name),
                            json_string(x->resp_headers[i].value));
    }
    json_t *parsed = x->resp_body.len ? json_loadb(oms_buf_str(&x->resp_body), x->resp_body.len,
                                                   JSON_ALLOW_NUL, NULL)
                                      : NULL;
    return json_pack("{s:I, s:o, s:o, s:o, s:f}", "status", (json_int_t)x->status, "headers",
                     headers, "body",
                     oms_json_string_lossy(oms_buf_str(&x->resp_body), x->resp_body.len), "json",
                     parsed ? parsed : json_null(), "elapsed_ms", (double)x->elapsed_us / 1000.0);
}

/* Journal entries recorded after the first `seen` ones. */
static json_t *tail(const json_t *all, size_t seen)
{
    json_t *t = json_array();
    for (size_t i = seen; i < json_array_size(all); i++)
        json_array_append(t, json_array_get(all, i));
    return t;
}

struct observation {
    json_t *state;
    json_t *omnitron; /* whole journals */
    json_t *webhook;
};

static void observation_cleanup(struct observation *o)
{
    json_decref(o->state);
    json_decref(o->omnitron);
    json_decref(o->webhook);
    memset(o, 0, sizeof(*o));
}

/* Drains the outbox, then reads state and journals. Returns 0, or OMS_E_ENV after recording the
 * error. */
static int observe(struct target *t, const struct runner_options *opt, struct observation *o,
                   struct result_scenario *out, const char *when)
{
    struct oms_err err = {0};
    json_t *drained = NULL;
    int64_t timeout = opt->drain_timeout_ms > 0 ? opt->drain_timeout_ms : DEFAULT_DRAIN_MS;
    if (target_drain(t, timeout, &drained, &o->state, &err) != 0 ||
        target_receiver_journal(t, "omnitron", &o->omnitron, &err) != 0 ||
        target_receiver_journal(t, "webhook", &o->webhook, &err) != 0) {
        json_decref(drained);
        env_error(out, &err, when);
        return OMS_E_ENV;
    }
    if (!json_is_true(json_object_get(drained, "drained"))) {
        char note[256];
        snprintf(note, sizeof(note), "%s: the outbox still held %lld pending row(s) after %lld ms",
                 when, (long long)json_integer_value(json_object_get(drained, "pending")),
                 (long long)timeout);
        json_array_append_new(out->notes, json_string(note));
    }
    json_decref(drained);
    return 0;
}

/* Sends one built request n times at once (n = 1: once, on the kept-alive connection); appends
 * every answer to responses. Returns 0, or OMS_E_HTTP after recording a transport failure. */
static int send_built(struct target *t, const struct built_request *b, unsigned n, long timeout_ms,
                      const char *label, json_t *responses, struct result_scenario *out)
{
    struct oms_http_exchange *xs = oms_xcalloc(n, sizeof(*xs));
    for (unsigned k = 0; k < n; k++) {
        xs[k].method = b->method;
        xs[k].url = b->url;
        xs[k].headers = (const char *const *)b->lines;
        xs[k].header_count = b->line_count;
        xs[k].body = b->body;
        xs[k].body_len = b->body_len;
        xs[k].timeout_ms = timeout_ms;
    }
    if (n == 1)
        oms_http_client_perform(target_client(t), &xs[0]);
    else
        oms_http_client_perform_many(target_client(t), xs, n);
    int rc = 0;
    for (unsigned k = 0; k < n; k++) {
        if (xs[k].result != 0 && rc == 0) {
            fail_error(out, "%s: the target did not answer: %s", label, xs[k].error);
            out->environment = 1;
            rc = OMS_E_HTTP;
        } else if (xs[k].result == 0) {
            json_array_append_new(responses, response_json(&xs[k]));
        }
        oms_http_exchange_cleanup(&xs[k]);
    }
    free(xs);
    return rc;
}

static long step_timeout(struct target *t, const json_t *request)
{
    json_t *v = json_object_get(request, "timeout_ms");
    return json_is_integer(v) ? (long)json_integer_value(v) : target_timeout_ms(t);
}

/* Appends a line to *text (a new string, or NULL). */
static void append_line(char **text, const char *line)
{
    struct oms_buf b;
    oms_buf_init(&b, 0);
    if (*text)
        oms_buf_printf(&b, "%s\n", *text);
    oms_buf_puts(&b, line);
    free(*text);
    *text = oms_buf_take(&b, NULL);
}

/* SPEC P-2: planning through the fixture protocol, or a lifecycle action as the commands of its
 * transition slugs (stopping at the first that is refused). */
static int execute_lifecycle(struct target *t, const struct oms_profile *p,
                             const struct runner_options *opt, const struct scenario *sc,
                             const struct scenario_step *st, size_t index, struct result_step *rs,
                             json_t *responses, struct result_scenario *out)
{
    char label[1200];
    const json_t *plan = json_object_get(st->request, "plan");
    if (plan) {
        json_t *req =
            json_pack("{s:s, s:{s:O}}", "path", "/_fixture/plan", "body", "package", plan);
        json_object_set_new(req, "method", json_string("POST"));
        struct built_request b;
        build_request(t, p, opt->token, req, STEP_HTTP, &b);
        snprintf(label, sizeof(label), "when[%zu]%s%s: plan package %lld", index,
                 st->name ? " " : "", st->name ? st->name : "",
                 (long long)json_integer_value(json_object_get(plan, "id")));
        rs->label = oms_xstrdup(label);
        rs->request = json_incref(b.shown);
        rs->curl = built_curl(&b, 1);
        int rc = send_built(t, &b, 1, step_timeout(t, st->request), label, responses, out);
        built_cleanup(&b);
        json_decref(req);
        return rc;
    }
    const char *action = json_string_value(json_object_get(st->request, "action"));
    json_int_t package = json_integer_value(json_object_get(st->request, "package"));
    snprintf(label, sizeof(label), "when[%zu]%s%s: %s package %lld", index, st->name ? " " : "",
             st->name ? st->name : "", action, (long long)package);
    rs->label = oms_xstrdup(label);
    rs->request = json_array();
    const json_t *slugs = oms_profile_lifecycle(p, action);
    if (!slugs) {
        char where[OMS_ERR_SOURCE_MAX + 32], path[96];
        snprintf(path, sizeof(path), "%s.lifecycle.action", st->path);
        fail_error(out,
                   "%s: the profile defines no lifecycle action \"%s\" (see its \"lifecycle\")",
                   scenario_where(sc, path, where, sizeof(where)), action);
        return OMS_E_INVAL;
    }
    size_t i;
    json_t *slug;
    json_array_foreach(slugs, i, slug)
    {
        json_t *req = json_pack("{s:I, s:{s:I, s:O}}", "package", package, "body", "package",
                                package, "slug", slug);
        struct built_request b;
        build_request(t, p, opt->token, req, STEP_COMMAND, &b);
        json_array_append(rs->request, b.shown);
        char *curl = built_curl(&b, 1);
        append_line(&rs->curl, curl);
        free(curl);
        size_t before = json_array_size(responses);
        int rc = send_built(t, &b, 1, step_timeout(t, st->request), label, responses, out);
        built_cleanup(&b);
        json_decref(req);
        if (rc != 0)
            return rc;
        json_t *last = json_array_get(responses, before);
        /* A refusal ends the action; the remaining transitions would only be refused too. */
        json_int_t status = json_integer_value(json_object_get(last, "status"));
        if (status >= 400) {
            if (i + 1 < json_array_size(slugs)) {
                char note[1600];
                snprintf(note, sizeof(note),
                         "%s: stopped after \"%s\" was refused with %lld; the rest of the action "
                         "was not sent",
                         label, json_string_value(slug), (long long)status);
                json_array_append_new(out->notes, json_string(note));
            }
            break;
        }
    }
    return 0;
}

/* Runs one step; fills rs and sets *responses (a new array of every answer). Returns 0, or a
 * negative OMS_E_* when the scenario cannot go on (recorded in out). */
static int execute_step(struct target *t, const struct oms_profile *p,
                        const struct runner_options *opt, const struct scenario *sc,
                        const struct scenario_step *st, size_t index, struct result_step *rs,
                        json_t **responses, struct result_scenario *out)
{
    *responses = json_array();
    if (st->kind == STEP_RECEIVERS) {
        char label[1200];
        snprintf(label, sizeof(label), "when[%zu]%s%s: receivers change their behaviour", index,
                 st->name ? " " : "", st->name ? st->name : "");
        rs->label = oms_xstrdup(label);
        rs->request = json_incref((json_t *)st->request);
        char *behaviour_text = oms_json_dumps(st->request);
        struct oms_buf note;
        oms_buf_init(&note, 0);
        oms_buf_printf(&note,
                       "# the receivers change (their control API, see "
                       "docs/scenario-format.md): %s",
                       behaviour_text);
        rs->curl = oms_buf_take(&note, NULL);
        free(behaviour_text);
        const char *which;
        json_t *behaviour;
        json_object_foreach((json_t *)st->request, which, behaviour)
        {
            struct oms_err err = {0};
            if (target_receiver_configure(t, which, behaviour, &err) != 0) {
                env_error(out, &err, label);
                return OMS_E_ENV;
            }
        }
        return 0;
    }
    if (st->kind == STEP_LIFECYCLE) {
        int rc = execute_lifecycle(t, p, opt, sc, st, index, rs, *responses, out);
        json_array_extend(rs->responses, *responses);
        return rc;
    }
    struct built_request b;
    build_request(t, p, opt->token, st->request, st->kind, &b);
    char label[1200], copies[32] = "";
    if (st->concurrent > 1)
        snprintf(copies, sizeof(copies), " (x%u at once)", st->concurrent);
    snprintf(label, sizeof(label), "when[%zu]%s%s: %s %s%s", index, st->name ? " " : "",
             st->name ? st->name : "", b.method, b.path, copies);
    rs->label = oms_xstrdup(label);
    rs->request = json_incref(b.shown);
    rs->curl = built_curl(&b, st->concurrent);
    int rc =
        send_built(t, &b, st->concurrent, step_timeout(t, st->request), label, *responses, out);
    built_cleanup(&b);
    json_array_extend(rs->responses, *responses);
    return rc;
}

/* A crash step: the burst, the kill and the restart (crash.h). Fills rs and run. Returns 0, or
 * OMS_E_ENV after recording why the target could not be killed or restarted. */
static int execute_crash(struct target *t, const struct oms_profile *p,
                         const struct runner_options *opt, const struct scenario *sc,
                         const struct scenario_step *st, size_t index, struct result_step *rs,
                         struct crash_run *run, struct result_scenario *out)
{
    struct oms_err err = {0};
    uint64_t seed = crash_step_seed(st->request, opt->seed, sc->name, index);
    int rc = crash_execute(t, opt->sut, opt->token ? opt->token : oms_profile_default_token(p), st,
                           seed, run, &err);
    char what[256], label[1200];
    crash_describe(run, what, sizeof(what));
    snprintf(label, sizeof(label), "when[%zu]%s%s: %s", index, st->name ? " " : "",
             st->name ? st->name : "", what);
    rs->label = oms_xstrdup(label);
    rs->request = json_incref((json_t *)st->request);
    rs->curl = oms_xstrdup("# the harness kills the target here (SIGKILL to its process group) "
                           "and starts it again on the same port and data");
    if (rc != 0) {
        env_error(out, &err, label);
        return OMS_E_ENV;
    }
    return 0;
}

/* The checks after a crash step (crash_check.h), its figures on the step and a note. */
static void check_crash(const struct oms_profile *p, const struct runner_options *opt,
                        const struct scenario *sc, const struct scenario_step *st,
                        const struct crash_run *run, const struct observation *prev,
                        const struct observation *cur, struct result_step *rs,
                        struct result_scenario *out)
{
    json_t *om = tail(cur->omnitron, json_array_size(prev->omnitron));
    json_t *wh = tail(cur->webhook, json_array_size(prev->webhook));
    struct crash_span span = {
        .profile = p,
        .scenario = sc,
        .step = st,
        .run = run,
        .before = prev->state,
        .after = cur->state,
        .omnitron_calls = om,
        .webhook_calls = wh,
        .webhook_prefix = WEBHOOK_PREFIX,
        .no_outbox = opt->capabilities && !has_capability(opt->capabilities, "outbox"),
    };
    rs->crash = crash_check(&span, &rs->checks, &rs->check_count);
    const json_t *f = rs->crash;
#define FIG(key) ((long long)json_integer_value(json_object_get(f, key)))
    char note[1024], seed[64] = "";
    if (run->random)
        snprintf(seed, sizeof(seed), " (seed %llu)", (unsigned long long)run->seed);
    snprintf(note, sizeof(note),
             "%s: killed%s after %lld answer(s), restarted in %.0f ms: %lld answered 204, %lld "
             "refused, %lld in flight, %lld not sent; %lld transition(s) kept (%lld unanswered), "
             "%lld half-applied; calls %lld expected, %lld delivered, %lld lost, %lld duplicated",
             rs->label, seed, FIG("answered_at_kill"), run->restart_ms, FIG("answered"),
             FIG("refused"), FIG("in_flight"), FIG("not_sent"), FIG("transitions"),
             FIG("applied_unanswered"), FIG("half_applied"), FIG("calls_expected"),
             FIG("calls_delivered"), FIG("lost"), FIG("duplicated"));
#undef FIG
    json_array_append_new(out->notes, json_string(note));
    json_decref(om);
    json_decref(wh);
}

/* The state right after loading: the outbox was emptied by the load and the journals by the
 * reset, so only the state itself needs reading. */
/* The initial observation: the state prepare() read back, and no calls yet. */
static void observe_initial(json_t *state, struct observation *o)
{
    o->state = state;
    o->omnitron = json_array();
    o->webhook = json_array();
}

static void copy_identity(const struct scenario *sc, struct result_scenario *out)
{
    out->file = oms_xstrdup(sc->file);
    out->id = oms_xstrdup(sc->id);
    out->name = oms_xstrdup(sc->name);
    out->rule_count = sc->rule_count;
    out->rules = oms_xcalloc(sc->rule_count + 1, sizeof(char *));
    for (size_t i = 0; i < sc->rule_count; i++)
        out->rules[i] = oms_xstrdup(sc->rules[i]);
    out->tag_count = sc->tag_count;
    out->tags = oms_xcalloc(sc->tag_count + 1, sizeof(char *));
    for (size_t i = 0; i < sc->tag_count; i++)
        out->tags[i] = oms_xstrdup(sc->tags[i]);
}

/* Loads the initial state (*state gets it as the target reads it back), then resets and
 * configures the receivers. In this order a delivery still in flight from an earlier scenario has
 * ended (the target finishes or abandons it before replacing its state) by the time the journals
 * are cleared. */
static int prepare(struct target *t, const struct scenario *sc, const struct runner_options *opt,
                   json_t **state, struct result_scenario *out)
{
    struct oms_err err = {0};
    json_t *fixture = runner_fixture(t, sc, opt);
    out->seed = repro_seed(fixture);
    int rc = target_load(t, fixture, state, &err);
    json_decref(fixture);
    if (rc != 0 && err.code != OMS_E_INVAL) {
        env_error(out, &err, "loading the initial state");
        return OMS_E_ENV;
    }
    if (rc != 0) {
        char where[OMS_ERR_SOURCE_MAX + 32] = "";
        if (err.path[0] == '$') {
            char path[OMS_ERR_PATH_MAX];
            snprintf(path, sizeof(path), "$.given%.480s", err.path + 1);
            scenario_where(sc, path, where, sizeof(where));
        }
        fail_error(out, "%s%sthe target refused the initial state: %s", where, where[0] ? ": " : "",
                   err.message);
        return OMS_E_INVAL;
    }
    const char *which[] = {"omnitron", "webhook"};
    for (size_t i = 0; i < 2; i++) {
        json_t *behaviour = json_object_get(json_object_get(sc->given, "receivers"), which[i]);
        if (target_receiver_reset(t, which[i], &err) != 0 ||
            (behaviour && target_receiver_configure(t, which[i], behaviour, &err) != 0)) {
            char what[64];
            snprintf(what, sizeof(what), "cannot prepare the %s receiver", which[i]);
            env_error(out, &err, what);
            return OMS_E_ENV;
        }
    }
    return 0;
}

/* Hands the observer what one step did: its answers, the states around it and its calls. */
static void observe_step(const struct runner_observer *obs, size_t index,
                         const struct scenario_step *st, const json_t *responses,
                         const struct observation *prev, const struct observation *cur,
                         struct result_step *rs)
{
    json_t *om = tail(cur->omnitron, json_array_size(prev->omnitron));
    json_t *wh = tail(cur->webhook, json_array_size(prev->webhook));
    struct runner_step_view view = {
        .index = index,
        .step = st,
        .responses = responses,
        .before = prev->state,
        .after = cur->state,
        .omnitron_calls = om,
        .webhook_calls = wh,
    };
    obs->step(obs->arg, &view, rs);
    json_decref(om);
    json_decref(wh);
}

static int has_capability(const json_t *caps, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach((json_t *)caps, i, c)
    {
        if (json_is_string(c) && strcmp(json_string_value(c), name) == 0)
            return 1;
    }
    return 0;
}

/* The optional parts of the fixture protocol a scenario needs (docs/fixture-protocol.md). */
static const char *missing_capability(const struct scenario *sc, const json_t *caps)
{
    const char *needed[4];
    size_t n = 0;
    if (json_object_get(sc->given, "profile"))
        needed[n++] = "profile-overrides";
    const char *mode =
        json_string_value(json_object_get(json_object_get(sc->given, "clock"), "mode"));
    if (mode && strcmp(mode, "virtual") == 0)
        needed[n++] = "clock";
    for (size_t i = 0; i < sc->step_count; i++)
        if (sc->steps[i].kind == STEP_LIFECYCLE && json_object_get(sc->steps[i].request, "plan")) {
            needed[n++] = "plan";
            break;
        }
    for (size_t k = 0; k < n; k++)
        if (!has_capability(caps, needed[k]))
            return needed[k];
    return NULL;
}

void runner_run(struct target *t, const struct oms_profile *base, const struct scenario *sc,
                const struct runner_options *opt, struct result_scenario *out)
{
    int64_t started = oms_time_mono_us();
    copy_identity(sc, out);
    out->target_url = oms_xstrdup(target_oms_url(t));
    const char *missing = opt->capabilities ? missing_capability(sc, opt->capabilities) : NULL;
    if (!opt->sut && scenario_kills_target(sc)) {
        out->outcome = RESULT_SKIP;
        out->error = oms_xstrdup(opt->no_sut_reason ? opt->no_sut_reason : RUNNER_NO_SUT);
        out->duration_us = oms_time_mono_us() - started;
        return;
    }
    if (missing) {
        out->outcome = RESULT_SKIP;
        char why[256];
        snprintf(why, sizeof(why),
                 "the target does not implement the fixture capability \"%s\" this scenario "
                 "needs",
                 missing);
        out->error = oms_xstrdup(why);
        out->duration_us = oms_time_mono_us() - started;
        return;
    }
    struct oms_profile *p = NULL;
    struct oms_err err = {0};
    const json_t *patch = json_object_get(sc->given, "profile");
    if (patch) {
        if (oms_profile_with_overrides(base, patch, &p, &err) != 0) {
            char path[OMS_ERR_PATH_MAX], where[OMS_ERR_SOURCE_MAX + 32];
            snprintf(path, sizeof(path), "$.given.profile%.480s",
                     err.path[0] == '$' ? err.path + 1 : "");
            fail_error(out, "%s: the profile overrides are invalid: %s",
                       scenario_where(sc, path, where, sizeof(where)), err.message);
            out->duration_us = oms_time_mono_us() - started;
            return;
        }
    } else {
        p = oms_profile_ref((struct oms_profile *)base);
    }

    int no_outbox = opt->capabilities && !has_capability(opt->capabilities, "outbox");
    struct observation first = {0}, prev = {0}, cur = {0};
    json_t *last_response = NULL, *last_responses = NULL;
    json_t *captures = json_object();
    json_t *initial = NULL;
    if (prepare(t, sc, opt, &initial, out) != 0) {
        json_decref(initial);
        goto done;
    }
    observe_initial(initial, &first);
    expect_invariants(p, first.state, "in the initial state", &out->checks, &out->check_count,
                      out->notes);
    prev.state = json_incref(first.state);
    prev.omnitron = json_incref(first.omnitron);
    prev.webhook = json_incref(first.webhook);

    for (size_t i = 0; i < sc->step_count; i++) {
        const struct scenario_step *st = &sc->steps[i];
        struct result_step *rs = result_scenario_add_step(out);
        json_decref(last_response);
        last_response = NULL;
        json_decref(last_responses);
        last_responses = NULL;
        struct crash_run crash = {0};
        int rc = st->kind == STEP_CRASH
                     ? execute_crash(t, p, opt, sc, st, i, rs, &crash, out)
                     : execute_step(t, p, opt, sc, st, i, rs, &last_responses, out);
        if (!last_responses)
            last_responses = json_array();
        if (rc != 0) {
            crash_run_cleanup(&crash);
            goto done;
        }
        last_response =
            json_incref(json_array_get(last_responses, json_array_size(last_responses) - 1));
        char when[64];
        snprintf(when, sizeof(when), "after when[%zu]", i);
        if (observe(t, opt, &cur, out, when) != 0) {
            crash_run_cleanup(&crash);
            goto done;
        }
        if (st->kind == STEP_CRASH)
            check_crash(p, opt, sc, st, &crash, &prev, &cur, rs, out);
        crash_run_cleanup(&crash);
        /* The step's own expectations first: they say what the step was for; the harness's
         * invariants after them. */
        if (st->then) {
            char then_path[96];
            snprintf(then_path, sizeof(then_path), "%s.then", st->path);
            json_t *om = tail(cur.omnitron, json_array_size(prev.omnitron));
            json_t *wh = tail(cur.webhook, json_array_size(prev.webhook));
            struct expect_span span = {
                .profile = p,
                .scenario = sc,
                .then_path = then_path,
                .response = last_response,
                .responses = last_responses,
                .before = prev.state,
                .after = cur.state,
                .omnitron_calls = om,
                .webhook_calls = wh,
                .webhook_prefix = WEBHOOK_PREFIX,
                .captures = captures,
                .tier = opt->tier,
                .no_outbox = no_outbox,
            };
            expect_check(&span, st->then, &rs->checks, &rs->check_count);
            json_decref(om);
            json_decref(wh);
        }
        expect_invariants(p, cur.state, when, &rs->checks, &rs->check_count, out->notes);
        if (opt->observer)
            observe_step(opt->observer, i, st, last_responses, &prev, &cur, rs);
        observation_cleanup(&prev);
        prev = cur;
        memset(&cur, 0, sizeof(cur));
    }

    if (sc->then) {
        struct expect_span span = {
            .profile = p,
            .scenario = sc,
            .then_path = "$.then",
            .response = last_response,
            .responses = last_responses,
            .before = first.state,
            .after = prev.state,
            .omnitron_calls = prev.omnitron,
            .webhook_calls = prev.webhook,
            .webhook_prefix = WEBHOOK_PREFIX,
            .captures = captures,
            .tier = opt->tier,
            .no_outbox = no_outbox,
        };
        expect_check(&span, sc->then, &out->checks, &out->check_count);
    }
    /* The timeline of outbound calls, for the reports. */
    size_t i;
    json_t *e;
    json_array_foreach(prev.omnitron, i, e)
    {
        json_array_append(out->calls, e);
    }
    json_array_foreach(prev.webhook, i, e)
    {
        json_array_append(out->calls, e);
    }

done:
    json_decref(captures);
    json_decref(last_response);
    json_decref(last_responses);
    observation_cleanup(&first);
    observation_cleanup(&prev);
    observation_cleanup(&cur);
    oms_profile_unref(p);
    tier_settle_scenario(opt->tier, out);
    out->duration_us = oms_time_mono_us() - started;
}
