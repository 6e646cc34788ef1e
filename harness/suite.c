/* suite: selection and parallel execution of scenarios. */
#include "suite.h"

#include "oms_alloc.h"
#include "oms_buf.h"
#include "oms_json.h"
#include "oms_profile.h"
#include "known.h"
#include "oms_time.h"
#include "profile_file.h"
#include "refcheck.h"
#include "report.h"
#include "repro.h"
#include "runner.h"
#include "sandbox.h"
#include "selection.h"
#include "launch.h"
#include "target.h"
#include "tier.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct suite *sorting; /* the suite compare_ids orders positions of */

/* By id, then by position, so the first of a duplicate pair is the earlier file. */
static int compare_ids(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = strcmp(sorting->items[x]->id, sorting->items[y]->id);
    return c ? c : (x > y) - (x < y);
}

/* Ids are unique in a run: a later file repeating an earlier file's id is reported naming both
 * and dropped. Returns how many were dropped. */
static size_t drop_duplicate_ids(struct suite *s)
{
    size_t n = s->count;
    size_t *order = oms_xcalloc(n + 1, sizeof(*order));
    unsigned char *drop = oms_xcalloc(n + 1, 1);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    sorting = s;
    qsort(order, n, sizeof(*order), compare_ids);
    size_t first = 0, dropped = 0;
    for (size_t k = 1; k < n; k++) {
        const struct scenario *a = s->items[order[first]], *b = s->items[order[k]];
        if (strcmp(a->id, b->id) != 0) {
            first = k;
            continue;
        }
        char here[OMS_ERR_SOURCE_MAX + 32], there[OMS_ERR_SOURCE_MAX + 32];
        scenario_where(b, "$.id", here, sizeof(here));
        scenario_where(a, "$.id", there, sizeof(there));
        fprintf(stderr,
                "invalid  %s: at %s: the id \"%s\"%s is also the id of %s; ids must be unique "
                "in a run: give one of them another \"id\"\n",
                here, b->id_from_file ? "$" : "$.id", b->id,
                b->id_from_file ? " (from the file name; the file has no \"id\")" : "", there);
        drop[order[k]] = 1;
        dropped++;
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (drop[i])
            scenario_destroy(s->items[i]);
        else
            s->items[kept++] = s->items[i];
    }
    s->count = kept;
    free(drop);
    free(order);
    return dropped;
}

size_t suite_load(char **files, size_t n, struct schema *schema, const json_t *rules,
                  const struct oms_profile *profile, struct suite *out, int quiet_ok)
{
    size_t bad = 0;
    out->items = oms_xcalloc(n + 1, sizeof(*out->items));
    out->count = 0;
    struct schema *profile_schema = schema_external(schema, PROFILE_FILE_SCHEMA);
    for (size_t i = 0; i < n; i++) {
        struct oms_err errs[16];
        struct scenario *sc = NULL;
        int is_profile = 0;
        size_t k = profile_schema
                       ? profile_file_check(files[i], profile_schema, &is_profile, errs, 16)
                       : 0;
        if (is_profile && k == 0 && quiet_ok) {
            /* run and list take scenarios; a profile among them is a mistaken path. */
            fprintf(stderr,
                    "invalid  %s: a profile (spec/profile.schema.json), not a scenario; "
                    "refund-harness validate checks it\n",
                    files[i]);
            bad++;
            continue;
        }
        if (is_profile && k == 0) {
            printf("ok       %s (profile)\n", files[i]);
            continue;
        }
        if (!is_profile)
            k = scenario_load(files[i], schema, rules, &sc, errs, 16);
        if (!is_profile && k == 0 && profile) {
            k = refcheck_scenario(sc, profile, errs, 16);
            if (k)
                scenario_destroy(sc);
        }
        if (k == 0) {
            out->items[out->count++] = sc;
            continue;
        }
        bad++;
        for (size_t j = 0; j < k && j < 16; j++) {
            char text[2048];
            fprintf(stderr, "invalid  %s\n", oms_err_format(&errs[j], text, sizeof(text)));
        }
        if (k > 16)
            fprintf(stderr, "invalid  %s: ... and %zu more error(s)\n", files[i], k - 16);
    }
    bad += drop_duplicate_ids(out);
    for (size_t i = 0; i < out->count && !quiet_ok; i++)
        printf("ok       %s\n", out->items[i]->file);
    return bad;
}

void suite_cleanup(struct suite *s)
{
    for (size_t i = 0; i < s->count; i++)
        scenario_destroy(s->items[i]);
    free(s->items);
    s->items = NULL;
    s->count = 0;
}

size_t suite_select(struct suite *s, const struct suite_options *opt)
{
    size_t kept = 0, position = 0;
    for (size_t i = 0; i < s->count; i++) {
        struct scenario *sc = s->items[i];
        int selected = selection_keeps(sc, opt), keep = selected;
        /* Shards take every N-th selected scenario, so each shard gets a mix of folders. */
        if (keep && opt->shard_count > 0)
            keep = position % opt->shard_count == opt->shard_index - 1;
        position += (size_t)selected;
        if (keep)
            s->items[kept++] = sc;
        else
            scenario_destroy(sc);
    }
    s->count = kept;
    return position;
}

/* ---- running ---- */

struct shared {
    const struct suite *suite;
    const struct suite_options *opt;
    struct result_run *run;
    const struct tier *tier;
    atomic_size_t next;
    atomic_int stop;
    pthread_mutex_t print;
    size_t done;
    int env_failed;
    struct oms_err env_err;
};

static const char *colour(const struct suite_options *opt, enum result_outcome o)
{
    if (!opt->color)
        return "";
    switch (o) {
    case RESULT_PASS:
        return "\033[32m";
    case RESULT_FAIL:
        return "\033[31m";
    case RESULT_ERROR:
        return "\033[33m";
    case RESULT_SKIP:
        return "\033[90m";
    case RESULT_NOTED:
        return "\033[36m";
    }
    return "";
}

/* The line under a scenario that did not simply pass: its first difference or error, and what
 * the known-failure list makes of it. */
static void print_reason(const struct suite_options *opt, const struct result_scenario *r)
{
    if (r->known == RESULT_KNOWN_FIXED) {
        printf("       listed in %s as a known failure (%s) but it passed: remove \"%s\" from "
               "the list\n",
               opt->known->file, r->known_reason, r->id);
        return;
    }
    struct oms_buf reason;
    oms_buf_init(&reason, 0);
    report_scenario_reason(r, &reason);
    if (r->known == RESULT_KNOWN_FAILING)
        printf("       known failure: %s%s%s%s\n       %s\n", r->known_reason,
               r->known_issue ? " (" : "", r->known_issue ? r->known_issue : "",
               r->known_issue ? ")" : "", oms_buf_str(&reason));
    else
        printf("       %s\n", oms_buf_str(&reason));
    if (r->rerun && r->outcome != RESULT_SKIP)
        printf("       rerun: %s\n", r->rerun);
    oms_buf_cleanup(&reason);
}

static void print_line(struct shared *sh, const struct result_scenario *r)
{
    const struct suite_options *opt = sh->opt;
    pthread_mutex_lock(&sh->print);
    sh->done++;
    if (opt->progress)
        fputs("\r\033[K", stdout);
    int bad = r->outcome == RESULT_FAIL || r->outcome == RESULT_ERROR;
    int show = opt->verbosity >= 1 || bad || r->known == RESULT_KNOWN_FIXED;
    if (show) {
        static const char *const word[] = {"PASS ", "FAIL ", "ERROR", "SKIP ", "NOTE "};
        const char *w = r->known == RESULT_KNOWN_FAILING ? "KNOWN"
                        : r->known == RESULT_KNOWN_FIXED ? "FIXED"
                                                         : word[r->outcome];
        const char *c = r->known == RESULT_KNOWN_FAILING ? colour(opt, RESULT_SKIP)
                        : r->known == RESULT_KNOWN_FIXED ? colour(opt, RESULT_FAIL)
                                                         : colour(opt, r->outcome);
        printf("%s%s%s  %s  %s (%.1f ms)\n", c, w, opt->color ? "\033[0m" : "", r->file, r->name,
               (double)r->duration_us / 1000.0);
        if (r->outcome != RESULT_PASS || r->known != RESULT_KNOWN_NONE)
            print_reason(opt, r);
        if (opt->verbosity >= 2 && r->outcome != RESULT_PASS) {
            struct oms_buf detail;
            oms_buf_init(&detail, 0);
            report_scenario_text(r, &detail);
            fputs(oms_buf_str(&detail), stdout);
            oms_buf_cleanup(&detail);
        }
    }
    if (opt->progress && sh->done < sh->suite->count)
        printf("[%zu/%zu] running...", sh->done, sh->suite->count);
    fflush(stdout);
    pthread_mutex_unlock(&sh->print);
}

/* The fixture-protocol handshake; with opt->wait_ms, tried again every 250 ms while the target
 * is still starting (nothing answers, or a proxy in front of it answers 502, 503 or 504) until it
 * answers or the time is up. Returns 0 or the last attempt's code with err. */
static int handshake(struct target *t, const struct suite_options *opt, json_t **hello,
                     struct oms_err *err)
{
    int64_t started = oms_time_mono_ms();
    for (unsigned attempt = 1;; attempt++) {
        oms_err_clear(err);
        int rc = target_capabilities(t, hello, err);
        long status = target_last_status(t);
        int starting = rc == OMS_E_ENV || status == 502 || status == 503 || status == 504;
        int64_t waited = oms_time_mono_ms() - started;
        if (rc == 0 || !starting || waited >= opt->wait_ms) {
            size_t used = strlen(err->message);
            if (rc != 0 && starting && used < sizeof(err->message)) {
                if (opt->wait_ms > 0)
                    snprintf(err->message + used, sizeof(err->message) - used,
                             " (still so after waiting %.1f s, %u attempts)",
                             (double)waited / 1000.0, attempt);
                else
                    snprintf(err->message + used, sizeof(err->message) - used,
                             " (--wait-for-target 30s waits while it starts)");
            }
            return rc;
        }
        if (attempt == 1)
            fprintf(stderr, "refund-harness: waiting up to %.1f s for %s to answer the handshake\n",
                    (double)opt->wait_ms / 1000.0, target_oms_url(t));
        int64_t left = opt->wait_ms - waited;
        oms_time_sleep_ms(left < 250 ? left : 250);
    }
}

/* Records the first environment failure of the run and stops it. */
static void env_failed(struct shared *sh, const struct oms_err *err)
{
    pthread_mutex_lock(&sh->print);
    if (!sh->env_failed) {
        sh->env_failed = 1;
        sh->env_err = *err;
    }
    pthread_mutex_unlock(&sh->print);
    atomic_store(&sh->stop, 1);
}

/* One job thread: its sandbox, its launched target and its share of the scenarios. Longer than
 * 80 lines on purpose: setup, the loop and teardown of one worker, whose resources are released
 * in the reverse order they were made. */
static void *job(void *arg)
{
    struct shared *sh = arg;
    struct sandbox *box = NULL;
    struct oms_err err = {0};
    const struct suite_options *opt = sh->opt;
    struct sandbox_config sc = {
        .profile_path = opt->profile_path,
        .receivers_only = opt->target_url != NULL || opt->target_cmd != NULL,
    };
    /* Receivers the user runs (their URLs given) replace the ones a sandbox would start. */
    const struct suite_receivers *given = &opt->receivers;
    if (!given->webhook_url && sandbox_start(&sc, &box, &err) != 0) {
        env_failed(sh, &err);
        return NULL;
    }
    int embedded = !opt->target_url && !opt->target_cmd;
    /* The target crash steps kill: the one --target-cmd starts (every scenario runs on it), or
     * an oms-reference child for the embedded reference's crash scenarios (given the sandbox's
     * fixture token, so one token serves the child and the receivers). */
    struct launch_config lc = {
        .target_cmd = opt->target_cmd,
        .url = opt->target_cmd ? opt->target_url : NULL,
        .profile_path = opt->profile_path,
        .embedded = !opt->target_url,
        .fixture_token = embedded && box ? sandbox_fixture_token(box) : NULL,
    };
    struct launch *launched = launch_create(&lc);
    struct target_config tc = {
        .oms_url = opt->target_url ? opt->target_url
                   : box           ? sandbox_oms_url(box)
                                   : NULL,
        .omnitron_url = box ? sandbox_omnitron_url(box) : given->omnitron_url,
        .webhook_url = box ? sandbox_webhook_url(box) : given->webhook_url,
        .omnitron_control_url =
            box ? sandbox_omnitron_control_url(box) : given->omnitron_control_url,
        .webhook_control_url = box ? sandbox_webhook_control_url(box) : given->webhook_control_url,
        .omnitron_recorder = box ? sandbox_omnitron(box) : NULL,
        .webhook_recorder = box ? sandbox_webhook(box) : NULL,
        /* An embedded reference's tokens are known here; a target's come from the user. */
        .fixture_token = !embedded || !box ? opt->fixture_token : sandbox_fixture_token(box),
        .api_token = !embedded || !box ? opt->token : sandbox_api_token(box),
    };
    struct target *t = NULL;
    json_t *doc = NULL, *hello = NULL;
    struct oms_profile *base = NULL;
    if (opt->target_cmd && launch_ready(launched, &tc, &err) != 0) {
        env_failed(sh, &err);
    } else {
        t = opt->target_cmd ? launch_target(launched) : target_create(&tc);
        if (handshake(t, opt, &hello, &err) != 0 || target_profile(t, &doc, &err) != 0 ||
            oms_profile_from_json(doc, "the target's profile", &base, &err) != 0)
            env_failed(sh, &err);
    }
    pthread_mutex_lock(&sh->print);
    if (!sh->run->profile && doc)
        sh->run->profile = json_incref(doc);
    pthread_mutex_unlock(&sh->print);
    json_decref(doc);

    while (base && !atomic_load(&sh->stop)) {
        size_t i = atomic_fetch_add(&sh->next, 1);
        if (i >= sh->suite->count)
            break;
        const struct scenario *scn = sh->suite->items[i];
        struct result_scenario *r = &sh->run->scenarios[i];
        struct runner_options ro = {
            .token = opt->token,
            .capabilities = json_object_get(hello, "capabilities"),
            .tier = sh->tier,
            .no_sut_reason = launch_why(launched),
            .seed = opt->seed,
        };
        struct target *on = t;
        int killer = scenario_kills_target(scn);
        if (launch_possible(launched) && (killer || opt->target_cmd)) {
            /* A started target: crash steps may kill it; one left dead is started again. */
            struct oms_err start_err = {0};
            if (launch_ready(launched, &tc, &start_err) == 0) {
                ro.sut = launch_sut(launched);
                on = launch_target(launched);
            } else if (opt->target_cmd) {
                /* The target the run was told to start does not start: as a dead --target. */
                env_failed(sh, &start_err);
                break;
            } else {
                /* The embedded reference's child: this scenario errors, the others go on. */
                char text[2048];
                ro.no_sut_reason = oms_err_format(&start_err, text, sizeof(text));
                runner_run(on, base, scn, &ro, r);
                r->outcome = RESULT_ERROR;
                r->environment = 1;
                print_line(sh, r);
                continue;
            }
        }
        runner_run(on, base, scn, &ro, r);
        r->rerun = launch_rerun(r->file, opt->target_cmd, opt->target_url, opt->strict_reference,
                                killer, opt->seed);
        known_mark(opt->known, r);
        /* A known failure does not fail the run, so it does not stop it either; nor does a
         * note. */
        int failing = r->outcome == RESULT_FAIL || r->outcome == RESULT_ERROR;
        int stops = (failing && r->known != RESULT_KNOWN_FAILING) || r->known == RESULT_KNOWN_FIXED;
        if (stops && opt->fail_fast)
            atomic_store(&sh->stop, 1);
        print_line(sh, r);
    }
    oms_profile_unref(base);
    json_decref(hello);
    if (t != launch_target(launched))
        target_destroy(t);
    launch_destroy(launched);
    sandbox_stop(box);
    return NULL;
}

int suite_run(const struct suite *s, const struct suite_options *opt, struct result_run *run,
              struct oms_err *err)
{
    int64_t started = oms_time_mono_us();
    run->started_ms = oms_time_wall_ms();
    if (opt->target_cmd) {
        struct oms_buf b;
        oms_buf_init(&b, 0);
        oms_buf_printf(&b, "started by the harness: %s", opt->target_cmd);
        run->target = oms_buf_take(&b, NULL);
    } else {
        run->target = oms_xstrdup(
            opt->target_url ? opt->target_url
                            : "embedded reference implementation (oms-reference in-process)");
    }
    /* Results go to fixed slots, so reports keep the suite's order whatever finishes first. */
    for (size_t i = 0; i < s->count; i++) {
        struct result_scenario *r = result_run_add(run);
        (void)r;
    }
    /* The embedded reference must match itself in full; another target is judged on what the
     * contract decides, with reference-only differences as notes unless asked otherwise. */
    run->strict_reference = (!opt->target_url && !opt->target_cmd) || opt->strict_reference;
    struct tier *tier = tier_create(run->rules, run->strict_reference);
    struct shared sh = {.suite = s, .opt = opt, .run = run, .tier = tier};
    atomic_init(&sh.next, 0);
    atomic_init(&sh.stop, 0);
    pthread_mutex_init(&sh.print, NULL);
    unsigned jobs = opt->jobs ? opt->jobs : 1;
    if (opt->target_url && !opt->target_cmd && jobs > 1) {
        fprintf(stderr,
                "refund-harness: an external target has one state: running with --jobs 1\n");
        jobs = 1;
    }
    if (jobs > s->count && s->count > 0)
        jobs = (unsigned)s->count;
    pthread_t *threads = oms_xcalloc(jobs, sizeof(*threads));
    for (unsigned j = 0; j < jobs; j++)
        if (pthread_create(&threads[j], NULL, job, &sh) != 0)
            oms_fatal("cannot start a job thread");
    for (unsigned j = 0; j < jobs; j++)
        pthread_join(threads[j], NULL);
    free(threads);
    tier_destroy(tier);
    pthread_mutex_destroy(&sh.print);
    if (opt->progress)
        fputs("\r\033[K", stdout);

    /* Scenarios never started (fail-fast) are dropped from the result. */
    size_t kept = 0;
    for (size_t i = 0; i < run->count; i++) {
        if (run->scenarios[i].name) {
            run->scenarios[kept++] = run->scenarios[i];
        } else {
            json_decref(run->scenarios[i].calls);
            json_decref(run->scenarios[i].notes);
        }
    }
    run->count = kept;
    result_run_tally(run);
    run->duration_us = oms_time_mono_us() - started;
    if (sh.env_failed) {
        *err = sh.env_err;
        return OMS_E_ENV;
    }
    return 0;
}
