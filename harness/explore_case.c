/* explore_case: running explore cases on the reference and on the target. */
#include "explore_case.h"

#include "explore_oracle.h"
#include "launch.h"
#include "oms_alloc.h"
#include "oms_buf.h"
#include "oms_json.h"
#include "runner.h"
#include "sandbox.h"
#include "scenario.h"
#include "target.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct explore_side {
    struct sandbox *box;
    struct target *t; /* owned, unless it is the launched target */
    /* What crash steps kill: the --target-cmd target (every case runs on it), or the reference's
     * oms-reference child (started for the first case with a crash step). */
    struct launch *launch;
    struct target_config receivers; /* the launched target's receivers and tokens */
    int launched;                   /* every case runs on the launched target */
    struct oms_profile *profile;
    json_t *profile_json;
    json_t *hello;
    struct tier *tier;
    const json_t *rules;
    const char *token;
    int reference; /* the embedded reference (no target_url) */
};

int explore_side_open(const struct explore_side_config *cfg, struct explore_side **out,
                      struct oms_err *err)
{
    struct explore_side *s = oms_xcalloc(1, sizeof(*s));
    const struct suite_receivers *given = cfg->receivers;
    int own_receivers = !given || !given->webhook_url;
    struct sandbox_config sc = {
        .profile_path = cfg->profile_path,
        .receivers_only = cfg->target_url != NULL || cfg->target_cmd != NULL,
    };
    s->rules = cfg->rules;
    s->token = cfg->token;
    s->reference = cfg->target_url == NULL && cfg->target_cmd == NULL;
    if (own_receivers && sandbox_start(&sc, &s->box, err) != 0) {
        free(s);
        return OMS_E_ENV;
    }
    struct target_config tc = {
        .oms_url = !s->reference ? cfg->target_url : sandbox_oms_url(s->box),
        .omnitron_url = s->box ? sandbox_omnitron_url(s->box) : given->omnitron_url,
        .webhook_url = s->box ? sandbox_webhook_url(s->box) : given->webhook_url,
        .omnitron_control_url =
            s->box ? sandbox_omnitron_control_url(s->box) : given->omnitron_control_url,
        .webhook_control_url =
            s->box ? sandbox_webhook_control_url(s->box) : given->webhook_control_url,
        .omnitron_recorder = s->box ? sandbox_omnitron(s->box) : NULL,
        .webhook_recorder = s->box ? sandbox_webhook(s->box) : NULL,
        /* The embedded sandbox's own tokens; the user's for a target. */
        .fixture_token =
            !s->reference || !s->box ? cfg->fixture_token : sandbox_fixture_token(s->box),
        .api_token = !s->reference || !s->box ? cfg->token : sandbox_api_token(s->box),
    };
    s->receivers = tc;
    /* The target --target-cmd starts; or, for the reference's crash steps, an oms-reference child
     * on the sandbox's receivers and fixture token. */
    struct launch_config lc = {
        .target_cmd = cfg->target_cmd,
        .url = cfg->target_cmd ? cfg->target_url : NULL,
        .profile_path = cfg->profile_path,
        .embedded = s->reference,
        .fixture_token = s->reference && s->box ? sandbox_fixture_token(s->box) : NULL,
    };
    if (cfg->target_cmd || s->reference)
        s->launch = launch_create(&lc);
    if (cfg->target_cmd) {
        s->launched = 1;
        if (launch_ready(s->launch, &s->receivers, err) != 0) {
            err->code = OMS_E_ENV;
            explore_side_close(s);
            return OMS_E_ENV;
        }
        s->t = launch_target(s->launch);
    } else {
        s->t = target_create(&tc);
    }
    /* An empty state first: the profile in force is then the target's own, not the overrides
     * the last fixture it was given left behind. */
    json_t *empty = json_object();
    if (target_capabilities(s->t, &s->hello, err) != 0 ||
        target_load(s->t, empty, NULL, err) != 0 ||
        target_profile(s->t, &s->profile_json, err) != 0 ||
        oms_profile_from_json(s->profile_json, "the target's profile", &s->profile, err) != 0) {
        json_decref(empty);
        err->code = OMS_E_ENV;
        explore_side_close(s);
        return OMS_E_ENV;
    }
    json_decref(empty);
    s->tier = tier_create(cfg->rules, s->reference || cfg->strict_reference);
    *out = s;
    return 0;
}

void explore_side_close(struct explore_side *s)
{
    if (!s)
        return;
    tier_destroy(s->tier);
    oms_profile_unref(s->profile);
    json_decref(s->profile_json);
    json_decref(s->hello);
    if (!s->launched)
        target_destroy(s->t);
    launch_destroy(s->launch);
    sandbox_stop(s->box);
    free(s);
}

const struct oms_profile *explore_side_profile(const struct explore_side *s)
{
    return s->profile;
}

const json_t *explore_side_profile_json(const struct explore_side *s)
{
    return s->profile_json;
}

const json_t *explore_side_capabilities(const struct explore_side *s)
{
    return json_object_get(s->hello, "capabilities");
}

int explore_side_has(const struct explore_side *s, const char *capability)
{
    size_t i;
    json_t *c;
    json_array_foreach(explore_side_capabilities(s), i, c)
    {
        if (json_is_string(c) && strcmp(json_string_value(c), capability) == 0)
            return 1;
    }
    return 0;
}

const char *explore_side_url(const struct explore_side *s)
{
    return target_oms_url(s->t);
}

const char *explore_side_omnitron_url(const struct explore_side *s)
{
    return target_omnitron_url(s->t);
}

const char *explore_side_webhook_url(const struct explore_side *s)
{
    return target_webhook_url(s->t);
}

int explore_side_killable(const struct explore_side *s, const char **why)
{
    *why = NULL;
    if (s->launch && launch_possible(s->launch))
        return 1;
    *why = s->launch ? launch_why(s->launch) : RUNNER_NO_SUT;
    return 0;
}

char *explore_reference_unkillable(void)
{
    struct launch_config lc = {.embedded = 1};
    struct launch *l = launch_create(&lc);
    char *why = launch_possible(l) ? NULL : oms_xstrdup(launch_why(l) ? launch_why(l) : "?");
    launch_destroy(l);
    return why;
}

static size_t crash_steps(const json_t *probe, int bursts)
{
    size_t n = 0, i;
    json_t *step;
    json_array_foreach(json_object_get(probe, "when"), i, step)
    {
        const json_t *crash = json_object_get(step, "crash");
        n += crash && (!bursts || json_object_get(crash, "burst"));
    }
    return n;
}

size_t explore_case_kills(const json_t *probe)
{
    return crash_steps(probe, 0);
}

size_t explore_case_bursts(const json_t *probe)
{
    return crash_steps(probe, 1);
}

char *explore_case_text(const json_t *doc)
{
    char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (!text)
        oms_fatal("cannot serialise a case");
    return text;
}

/* doc as a loaded scenario named file, positions into explore_case_text(doc). */
static struct scenario *as_scenario(const json_t *doc, const char *file, const json_t *rules,
                                    struct result_scenario *out)
{
    char *text = explore_case_text(doc);
    struct oms_err errs[4];
    struct scenario *sc = NULL;
    size_t n = scenario_load_text(file, text, strlen(text), NULL, rules, &sc, errs, 4);
    free(text);
    if (n) {
        char msg[2048];
        out->outcome = RESULT_ERROR;
        out->file = oms_xstrdup(file);
        out->name = oms_xstrdup(file);
        out->error = oms_xstrdup(oms_err_format(&errs[0], msg, sizeof(msg)));
        return NULL;
    }
    return sc;
}

static int run(struct explore_side *s, const json_t *doc, const char *file,
               const struct runner_observer *observer, struct result_scenario *out,
               struct oms_err *err)
{
    struct scenario *sc = as_scenario(doc, file, s->rules, out);
    if (!sc)
        return 0;
    struct runner_options ro = {
        .token = s->token,
        .capabilities = explore_side_capabilities(s),
        .tier = s->tier,
        .observer = observer,
    };
    struct target *on = s->t;
    if (s->launch && launch_possible(s->launch) && (s->launched || scenario_kills_target(sc))) {
        /* A process crash steps can kill; one a case left dead is started again. */
        if (launch_ready(s->launch, &s->receivers, err) != 0) {
            scenario_destroy(sc);
            err->code = OMS_E_ENV;
            return OMS_E_ENV;
        }
        ro.sut = launch_sut(s->launch);
        on = launch_target(s->launch);
    } else if (s->launch) {
        ro.no_sut_reason = launch_why(s->launch);
    }
    runner_run(on, s->profile, sc, &ro, out);
    scenario_destroy(sc);
    if (out->environment) {
        oms_err_set(err, OMS_E_ENV, explore_side_url(s), 0, 0, NULL, "%s",
                    out->error ? out->error : "no answer");
        return OMS_E_ENV;
    }
    return 0;
}

int explore_case_observe(struct explore_side *ref, const json_t *probe, int invariants,
                         json_t **expected, struct result_scenario *out, struct oms_err *err)
{
    *expected = NULL;
    struct oms_profile *p = NULL;
    const json_t *patch = json_object_get(json_object_get(probe, "given"), "profile");
    if (patch) {
        struct oms_err perr = {0};
        if (oms_profile_with_overrides(ref->profile, patch, &p, &perr) != 0)
            p = NULL; /* the run reports it as the case's error */
    } else {
        p = oms_profile_ref(ref->profile);
    }
    struct explore_oracle *o = p ? explore_oracle_create(probe, p, invariants) : NULL;
    int rc = run(ref, probe, json_string_value(json_object_get(probe, "name")),
                 o ? explore_oracle_observer(o) : NULL, out, err);
    /* Judging a target, the reference must pass its own checks: a crash check it fails (calls
     * that died while a receiver stayed down, say) would fail a correct target too. */
    int usable = out->outcome != RESULT_ERROR && out->outcome != RESULT_SKIP &&
                 (invariants || out->outcome != RESULT_FAIL);
    if (rc == 0 && o && usable)
        *expected = explore_oracle_expected(o);
    explore_oracle_destroy(o);
    oms_profile_unref(p);
    return rc;
}

int explore_case_check(struct explore_side *side, const json_t *doc, const char *file,
                       struct result_scenario *out, struct oms_err *err)
{
    return run(side, doc, file, NULL, out, err);
}

/* "packages.501.status" -> "packages.*.status"; "webhooks.erp" -> "webhooks";
 * "invariant Q-4 at location 1 after when[2]" -> "invariant Q-4". */
static void normalise(const char *what, char *out, size_t size)
{
    size_t used = 0;
    if (strncmp(what, "invariant ", 10) == 0 || strncmp(what, "explore invariant: ", 19) == 0) {
        const char *cut = strstr(what, " at location ");
        if (!cut)
            cut = strstr(what, " after when[");
        snprintf(out, size, "%.*s", cut ? (int)(cut - what) : (int)strlen(what), what);
        return;
    }
    if (strncmp(what, "webhooks.", 9) == 0) {
        /* One receiver's calls or everyone's: the same check of C-9. */
        snprintf(out, size, "webhooks");
        return;
    }
    for (const char *p = what; *p && used + 2 < size;) {
        if (isdigit((unsigned char)*p) && (p == what || p[-1] == '.')) {
            out[used++] = '*';
            while (isdigit((unsigned char)*p))
                p++;
        } else {
            out[used++] = *p++;
        }
    }
    out[used] = '\0';
}

static void add_kind(json_t *kinds, const char *kind)
{
    size_t i;
    json_t *k;
    json_array_foreach(kinds, i, k)
    {
        if (strcmp(json_string_value(k), kind) == 0)
            return;
    }
    json_array_append_new(kinds, json_string(kind));
}

static void kinds_of(const struct result_check *checks, size_t n, json_t *kinds)
{
    for (size_t i = 0; i < n; i++) {
        if (checks[i].state != CHECK_FAILED)
            continue;
        char what[256], kind[320];
        normalise(checks[i].what, what, sizeof(what));
        snprintf(kind, sizeof(kind), "%s [%s]", what, checks[i].rule ? checks[i].rule : "?");
        add_kind(kinds, kind);
    }
}

json_t *explore_case_kinds(const struct result_scenario *r)
{
    json_t *kinds = json_array();
    if (r->outcome == RESULT_ERROR) {
        /* The first words say what went wrong without the values that vary (ids, paths). */
        char words[96];
        size_t n = 0;
        const char *e = r->error ? r->error : "error";
        size_t flen = r->file ? strlen(r->file) : 0;
        if (flen && strncmp(e, r->file, flen) == 0 && e[flen] == ':') {
            const char *rest = strstr(e + flen, ": ");
            e = rest ? rest + 2 : e; /* after "file:line:column: " */
        }
        for (; *e && n + 1 < sizeof(words) && *e != ':' && *e != '"'; e++)
            words[n++] = isdigit((unsigned char)*e) ? '#' : *e;
        words[n] = '\0';
        char kind[160];
        snprintf(kind, sizeof(kind), "error [%s]", words);
        add_kind(kinds, kind);
    }
    for (size_t i = 0; i < r->step_count; i++)
        kinds_of(r->steps[i].checks, r->steps[i].check_count, kinds);
    kinds_of(r->checks, r->check_count, kinds);
    return kinds;
}

size_t explore_case_steps(const json_t *probe)
{
    return json_array_size(json_object_get(probe, "when"));
}

size_t explore_case_packages(const json_t *probe)
{
    size_t n = json_array_size(json_object_get(json_object_get(probe, "given"), "packages"));
    size_t i;
    json_t *step;
    json_array_foreach(json_object_get(probe, "when"), i, step)
    {
        n += json_object_get(json_object_get(step, "lifecycle"), "plan") != NULL;
    }
    return n;
}

json_t *explore_case_strays(const json_t *probe, const struct result_scenario *r)
{
    json_t *strays = json_array();
    const json_t *subs = json_object_get(json_object_get(probe, "given"), "subscriptions");
    size_t i;
    json_t *call;
    json_array_foreach(r->calls, i, call)
    {
        const char *receiver = json_string_value(json_object_get(call, "receiver"));
        const char *path = json_string_value(json_object_get(call, "path"));
        if (!receiver || strcmp(receiver, "webhook") != 0 || !path)
            continue;
        const char *name = strncmp(path, "/hooks/", 7) == 0 ? path + 7 : path;
        int known = 0;
        size_t k;
        json_t *sub;
        json_array_foreach((json_t *)subs, k, sub)
        {
            const char *n = json_string_value(json_object_get(sub, "receiver"));
            known |= n && strcmp(n, name) == 0;
        }
        int listed = 0;
        json_t *s;
        json_array_foreach(strays, k, s)
        {
            listed |= strcmp(json_string_value(s), name) == 0;
        }
        if (!known && !listed)
            json_array_append_new(strays, json_string(name));
    }
    return strays;
}
