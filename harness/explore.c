/* explore: the explore command - options, the cases in parallel, shrinking, reports. */
#include "explore.h"

#include "crash.h"
#include "explore_case.h"
#include "explore_gen.h"
#include "explore_report.h"
#include "explore_shrink.h"
#include "launch.h"
#include "oms_alloc.h"
#include "oms_buf.h"
#include "oms_cli.h"
#include "oms_json.h"
#include "oms_time.h"
#include "report.h"
#include "repro.h"
#include "result.h"
#include "scenario.h"
#include "schema.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { EXIT_NONE = 0, EXIT_FOUND = 1, EXIT_USAGE = 2, EXIT_ENV = 3 };

#define DEFAULT_CASES 200
#define DEFAULT_STEPS 8
#define DEFAULT_OUT   "reports/explore"
#define DEFAULT_CRASH 10
/* A difference that came from a kill inside a burst shows or not as the target's threads decide
 * (whether the kill lands in its window). A shrink candidate must show it in CRASH_HITS of up to
 * CRASH_RUNS runs - so shrinking keeps cases that show it about half the time or more, rather than
 * drifting to ones that show it rarely - and the file written is run CRASH_RUNS times, the runs
 * that showed it reported. */
#define CRASH_RUNS 4
#define CRASH_HITS 2

void explore_options_init(struct explore_options *o)
{
    memset(o, 0, sizeof(*o));
    o->steps = DEFAULT_STEPS;
    o->jobs = 1;
    o->out_dir = DEFAULT_OUT;
    o->crash_percent = DEFAULT_CRASH;
}

int explore_options_check(struct explore_options *o)
{
    if (o->cases_given && o->time_ms) {
        fprintf(stderr, "refund-harness explore: give --cases or --time, not both\n");
        return OMS_E_INVAL;
    }
    if (o->replay && (o->cases_given || o->time_ms)) {
        fprintf(stderr, "refund-harness explore: --replay runs one case: no --cases or --time\n");
        return OMS_E_INVAL;
    }
    if (!o->cases_given)
        o->cases = o->time_ms ? UINT64_MAX : DEFAULT_CASES;
    if (!o->seed_given)
        o->seed =
            ((uint64_t)oms_time_wall_ms() * 1000003u ^ (uint64_t)getpid()) & ((1ULL << 53) - 1);
    return 0;
}

/* ---- exploring ---- */

/* The first case that showed one kind of difference. */
struct found {
    char *kind;
    uint64_t index;
    json_t *probe;
};

struct slot {
    uint64_t index;
    int ready;
    json_t *probe;
    json_t *expected;
};

struct explorer {
    const struct explore_options *opt;
    int progress; /* a progress line on a terminal */
    const json_t *rules;
    struct schema *schema;
    struct explore_gen_config gen;
    json_t *replay_probe; /* --replay: the one case */
    int ids;              /* scenarios have an "id" (the schema says so) */
    regex_t id_pattern;   /* what an id must match, when ids and has_pattern */
    int has_pattern;
    struct explore_side *target;

    pthread_mutex_t lock;
    pthread_cond_t changed;
    uint64_t next;     /* the next case to claim */
    uint64_t consumed; /* with a target: cases it has run */
    int64_t started_us;
    int64_t deadline_us; /* 0: none */
    int stop;
    unsigned workers_alive;
    uint64_t cases_done, steps_done, invalid;
    uint64_t kills, bursts; /* crash steps run on the system judged, and those with a burst */
    char *invalid_why;      /* why the first case that could not run could not */
    struct found *found;
    size_t found_count;
    struct slot *slots;
    size_t slot_count;
    int env_failed;
    struct oms_err env_err;
    uint64_t env_case; /* the case the target stopped answering in; UINT64_MAX: none */
    int64_t last_progress_us;
};

static void env_failure(struct explorer *ex, const struct oms_err *err)
{
    pthread_mutex_lock(&ex->lock);
    if (!ex->env_failed) {
        ex->env_failed = 1;
        ex->env_err = *err;
    }
    ex->stop = 1;
    pthread_cond_broadcast(&ex->changed);
    pthread_mutex_unlock(&ex->lock);
}

static int claim(struct explorer *ex, uint64_t *index)
{
    int ok = 0;
    pthread_mutex_lock(&ex->lock);
    if (!ex->stop && ex->next < ex->opt->cases &&
        !(ex->deadline_us && oms_time_mono_us() >= ex->deadline_us)) {
        *index = ex->next++;
        ok = 1;
    }
    pthread_mutex_unlock(&ex->lock);
    return ok;
}

static json_t *probe_for(struct explorer *ex, uint64_t index)
{
    if (ex->replay_probe)
        return json_deep_copy(ex->replay_probe);
    return explore_gen_case(&ex->gen, ex->opt->seed, index);
}

/* With the lock held: notes each kind, keeping the lowest case that showed it (so the kind's
 * shrunk file does not depend on which job finished first). */
static void record(struct explorer *ex, uint64_t index, const json_t *probe, const json_t *kinds)
{
    size_t i;
    json_t *k;
    json_array_foreach((json_t *)kinds, i, k)
    {
        const char *kind = json_string_value(k);
        size_t f = 0;
        while (f < ex->found_count && strcmp(ex->found[f].kind, kind) != 0)
            f++;
        if (f == ex->found_count) {
            ex->found = oms_xrealloc(ex->found, (ex->found_count + 1) * sizeof(*ex->found));
            ex->found[f].kind = oms_xstrdup(kind);
            ex->found[f].probe = NULL;
            ex->found[f].index = UINT64_MAX;
            ex->found_count++;
        }
        if (index < ex->found[f].index) {
            json_decref(ex->found[f].probe);
            ex->found[f].probe = json_deep_copy(probe);
            ex->found[f].index = index;
        }
    }
}

static void progress_line(struct explorer *ex, int final)
{
    if (!ex->progress)
        return;
    int64_t now = oms_time_mono_us();
    if (!final && now - ex->last_progress_us < 200000)
        return;
    ex->last_progress_us = now;
    double s = (double)(now - ex->started_us) / 1e6;
    printf("\r\033[Kexplore: %" PRIu64 " cases, %" PRIu64 " steps, %.0f steps/s, %zu "
           "difference kind%s",
           ex->cases_done, ex->steps_done, s > 0 ? (double)ex->steps_done / s : 0.0,
           ex->found_count, ex->found_count == 1 ? "" : "s");
    if (final)
        fputs("\r\033[K", stdout);
    fflush(stdout);
}

/* The result of one run of one case: a run holding one scenario, dropped after use. */
struct one {
    struct result_run run;
    struct result_scenario *r;
};

static void one_init(struct one *o)
{
    result_run_init(&o->run);
    o->r = result_run_add(&o->run);
}

static void one_cleanup(struct one *o)
{
    result_run_cleanup(&o->run);
}

/* Moves o's result into run (o keeps an empty one); the new slot, borrowed as result_run_add's. */
static struct result_scenario *keep_result(struct result_run *run, struct one *o)
{
    struct result_scenario *slot = result_run_add(run);
    json_decref(slot->calls);
    json_decref(slot->notes);
    *slot = *o->r;
    memset(o->r, 0, sizeof(*o->r));
    return slot;
}

/* Why the reference could not give a case's expectations: its error, or the first check of its
 * own it failed. A new string. */
static char *why_not_run(const struct result_scenario *r)
{
    struct oms_buf b;
    oms_buf_init(&b, 0);
    if (r->error) {
        oms_buf_puts(&b, r->error);
    } else {
        const struct result_check *c = result_first_failure(r);
        if (c)
            oms_buf_printf(&b, "the reference failed its own check \"%s\" [%s] in %s", c->what,
                           c->rule ? c->rule : "?", r->name ? r->name : "a case");
        else
            oms_buf_puts(&b, "it did not run to its end");
    }
    return oms_buf_take(&b, NULL);
}

static void *worker(void *arg)
{
    struct explorer *ex = arg;
    struct explore_side *ref = NULL;
    struct oms_err err = {0};
    struct explore_side_config cfg = {.profile_path = ex->opt->profile_path, .rules = ex->rules};
    if (explore_side_open(&cfg, &ref, &err) != 0) {
        env_failure(ex, &err);
    } else {
        uint64_t i;
        while (claim(ex, &i)) {
            json_t *probe = probe_for(ex, i), *expected = NULL;
            struct one o;
            one_init(&o);
            int rc = explore_case_observe(ref, probe, ex->target == NULL, &expected, o.r, &err);
            if (rc != 0) {
                env_failure(ex, &err);
                json_decref(probe);
                one_cleanup(&o);
                break;
            }
            if (!ex->target) {
                json_t *kinds = explore_case_kinds(o.r);
                pthread_mutex_lock(&ex->lock);
                record(ex, i, probe, kinds);
                ex->cases_done++;
                ex->steps_done += explore_case_steps(probe);
                ex->kills += explore_case_kills(probe);
                ex->bursts += explore_case_bursts(probe);
                pthread_mutex_unlock(&ex->lock);
                json_decref(kinds);
                json_decref(probe);
                json_decref(expected);
            } else {
                /* Into its slot once the case slot_count before it has been run. */
                pthread_mutex_lock(&ex->lock);
                struct slot *s = &ex->slots[i % ex->slot_count];
                while (!ex->stop && (s->ready || i >= ex->consumed + ex->slot_count))
                    pthread_cond_wait(&ex->changed, &ex->lock);
                if (ex->stop) {
                    pthread_mutex_unlock(&ex->lock);
                    json_decref(probe);
                    json_decref(expected);
                    one_cleanup(&o);
                    break;
                }
                if (!expected && !ex->invalid_why)
                    ex->invalid_why = why_not_run(o.r);
                s->index = i;
                s->probe = probe;
                s->expected = expected;
                s->ready = 1;
                pthread_cond_broadcast(&ex->changed);
                pthread_mutex_unlock(&ex->lock);
            }
            one_cleanup(&o);
        }
    }
    explore_side_close(ref);
    pthread_mutex_lock(&ex->lock);
    ex->workers_alive--;
    pthread_cond_broadcast(&ex->changed);
    pthread_mutex_unlock(&ex->lock);
    return NULL;
}

/* With a target: its cases in order, as the workers make their expectations. */
static void run_target(struct explorer *ex)
{
    for (uint64_t c = 0;; c++) {
        pthread_mutex_lock(&ex->lock);
        struct slot *s = &ex->slots[c % ex->slot_count];
        while (!(s->ready && s->index == c) && !ex->stop && (ex->workers_alive > 0 || c < ex->next))
            pthread_cond_wait(&ex->changed, &ex->lock);
        if (!(s->ready && s->index == c)) {
            pthread_mutex_unlock(&ex->lock);
            return;
        }
        json_t *probe = s->probe, *expected = s->expected;
        s->ready = 0;
        s->probe = s->expected = NULL;
        ex->consumed = c + 1;
        pthread_cond_broadcast(&ex->changed);
        pthread_mutex_unlock(&ex->lock);

        json_t *kinds = NULL;
        if (expected) {
            struct one o;
            struct oms_err err = {0};
            one_init(&o);
            if (explore_case_check(ex->target, expected,
                                   json_string_value(json_object_get(expected, "name")), o.r,
                                   &err) != 0) {
                ex->env_case = c;
                env_failure(ex, &err);
                one_cleanup(&o);
                json_decref(probe);
                json_decref(expected);
                return;
            }
            kinds = explore_case_kinds(o.r);
            one_cleanup(&o);
        }
        pthread_mutex_lock(&ex->lock);
        if (kinds) {
            record(ex, c, probe, kinds);
            ex->kills += explore_case_kills(probe);
            ex->bursts += explore_case_bursts(probe);
        } else {
            ex->invalid++;
        }
        ex->cases_done++;
        ex->steps_done += explore_case_steps(probe);
        progress_line(ex, 0);
        pthread_mutex_unlock(&ex->lock);
        json_decref(kinds);
        json_decref(probe);
        json_decref(expected);
    }
}

static void explore_cases(struct explorer *ex)
{
    unsigned jobs = ex->opt->jobs;
    if (ex->replay_probe)
        jobs = 1;
    ex->slot_count = 2 * (size_t)jobs + 1;
    ex->slots = oms_xcalloc(ex->slot_count, sizeof(*ex->slots));
    ex->workers_alive = jobs;
    pthread_t *threads = oms_xcalloc(jobs, sizeof(*threads));
    for (unsigned j = 0; j < jobs; j++)
        if (pthread_create(&threads[j], NULL, worker, ex) != 0)
            oms_fatal("cannot start a job thread");
    if (ex->target) {
        run_target(ex);
        pthread_mutex_lock(&ex->lock);
        ex->stop = 1; /* workers waiting for a slot give up */
        pthread_cond_broadcast(&ex->changed);
        pthread_mutex_unlock(&ex->lock);
    } else {
        pthread_mutex_lock(&ex->lock);
        while (ex->workers_alive > 0) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 200000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            pthread_cond_timedwait(&ex->changed, &ex->lock, &ts);
            progress_line(ex, 0);
        }
        pthread_mutex_unlock(&ex->lock);
    }
    for (unsigned j = 0; j < jobs; j++)
        pthread_join(threads[j], NULL);
    free(threads);
    for (size_t i = 0; i < ex->slot_count; i++) {
        json_decref(ex->slots[i].probe);
        json_decref(ex->slots[i].expected);
    }
    free(ex->slots);
    ex->slots = NULL;
    progress_line(ex, 1);
}

/* ---- shrinking ---- */

struct shrink_ctx {
    struct explorer *ex;
    struct explore_side *ref;
    const char *kind;
    int allow_strays; /* the difference needs what an earlier case left in the target */
    int env_failed;
    struct oms_err err;
};

static int has_kind(const json_t *kinds, const char *kind)
{
    size_t i;
    json_t *k;
    json_array_foreach((json_t *)kinds, i, k)
    {
        if (strcmp(json_string_value(k), kind) == 0)
            return 1;
    }
    return 0;
}

/* Whether kind, shown by probe, depends on timing: a difference the crash checks or the
 * invariants found in a case with a kill inside a burst. */
static int timed(const json_t *probe, const char *kind)
{
    if (!kind || explore_case_bursts(probe) == 0)
        return 0;
    return strncmp(kind, "crash: ", 7) == 0 || strncmp(kind, "invariant ", 10) == 0;
}

/* Runs probe (reference, then target) into o, the target's run repeated until want has shown
 * `need` times or cannot any more in `runs` runs (want NULL: once); *hits (may be NULL) gets how
 * many runs showed want. Returns the kinds of the last run (new array), or NULL when the case
 * could not run. *expected gets the expectations (may be NULL); *strays (when not NULL) the
 * receivers called that the case does not name. */
static json_t *run_case(struct shrink_ctx *sc, const json_t *probe, const char *file,
                        const char *want, unsigned need, unsigned runs, unsigned *hits,
                        struct one *o, json_t **expected, json_t **strays)
{
    struct explorer *ex = sc->ex;
    *expected = NULL;
    if (strays)
        *strays = NULL;
    if (hits)
        *hits = 0;
    unsigned shown = 0;
    json_t *kinds = NULL;
    for (unsigned t = 0; t < runs && shown < need && need - shown <= runs - t; t++) {
        json_decref(kinds);
        kinds = NULL;
        if (!ex->target || t == 0) {
            /* The reference derives the expectations once; without a target it is the subject. */
            json_decref(*expected);
            *expected = NULL;
            one_cleanup(o);
            one_init(o);
            if (explore_case_observe(sc->ref, probe, ex->target == NULL, expected, o->r,
                                     &sc->err) != 0) {
                sc->env_failed = 1;
                return NULL;
            }
            if (ex->target && !*expected)
                return NULL;
        }
        if (ex->target) {
            one_cleanup(o);
            one_init(o);
            if (explore_case_check(ex->target, *expected, file, o->r, &sc->err) != 0) {
                sc->env_failed = 1;
                return NULL;
            }
        }
        kinds = explore_case_kinds(o->r);
        shown += want && has_kind(kinds, want);
        if (!want)
            break;
    }
    if (hits)
        *hits = shown;
    if (strays && ex->target)
        *strays = explore_case_strays(probe, o->r);
    return kinds;
}

static int still_fails(void *arg, const json_t *candidate)
{
    struct shrink_ctx *sc = arg;
    if (sc->env_failed)
        return 0;
    struct one o;
    one_init(&o);
    json_t *expected = NULL, *strays = NULL;
    int timing = timed(candidate, sc->kind);
    unsigned hits = 0;
    json_t *kinds =
        run_case(sc, candidate, json_string_value(json_object_get(candidate, "name")), sc->kind,
                 timing ? CRASH_HITS : 1, timing ? CRASH_RUNS : 1, &hits, &o, &expected, &strays);
    int same = kinds && hits >= (timing ? CRASH_HITS : 1u) &&
               (sc->allow_strays || json_array_size(strays) == 0);
    json_decref(kinds);
    json_decref(strays);
    json_decref(expected);
    one_cleanup(&o);
    return same;
}

/* probe with a subscription for each stray receiver, to an event type other than the command's:
 * the receiver's URL then comes from the case's own fixture. New reference. */
static json_t *with_receivers(const json_t *probe, const json_t *strays,
                              const struct oms_profile *p)
{
    const struct oms_profile_transition *cmd = explore_command_transition(p);
    const char *type = "package.status.other";
    for (size_t i = 0; i < oms_profile_transition_count(p); i++) {
        const struct oms_profile_transition *t = oms_profile_transition_at(p, i);
        if (t->event_type && (!cmd || !cmd->event_type || strcmp(t->event_type, cmd->event_type))) {
            type = t->event_type;
            break;
        }
    }
    json_t *copy = json_deep_copy(probe);
    json_t *given = json_object_get(copy, "given");
    json_t *subs = json_object_get(given, "subscriptions");
    if (!subs) {
        subs = json_array();
        json_object_set_new(given, "subscriptions", subs);
    }
    size_t i;
    json_t *name;
    json_array_foreach((json_t *)strays, i, name)
    {
        json_array_append_new(subs, json_pack("{s:s, s:O}", "event_type", type, "receiver", name));
    }
    return copy;
}

/* The rule of a kind: the text inside its last "[...]", unless it is an error. */
static char *kind_rule(const char *kind)
{
    if (strncmp(kind, "error [", 7) == 0)
        return NULL;
    const char *open = strrchr(kind, '[');
    const char *close = open ? strchr(open, ']') : NULL;
    if (!close)
        return NULL;
    return oms_xstrndup(open + 1, (size_t)(close - open - 1));
}

/* A case file written in this run, and every kind its final run showed. */
struct written {
    char *file;
    json_t *kinds;
};

/* Shrinks one kind, writes its files, adds its final run to run and its account to list; a kind
 * that a file written before already shows is listed as covered by it instead. Returns 0, or
 * OMS_E_ENV / OMS_E_IO with err set. */
static int shrink_one(struct explorer *ex, struct explore_side *ref, struct found *f,
                      struct tier *tier, json_t *ids, struct result_run *run, json_t *list,
                      struct written *done, size_t *done_count, struct oms_err *err)
{
    const struct explore_options *opt = ex->opt;
    char *rule = kind_rule(f->kind);
    for (size_t i = 0; i < *done_count; i++) {
        if (!has_kind(done[i].kinds, f->kind))
            continue;
        json_array_append_new(list, json_pack("{s:s, s:s?, s:s?, s:I, s:s}", "kind", f->kind,
                                              "rule", rule, "basis", tier_basis(tier, rule), "case",
                                              (json_int_t)f->index, "covered_by", done[i].file));
        printf("difference: %s\n  first in case %" PRIu64 "; %s shows it too\n", f->kind, f->index,
               done[i].file);
        free(rule);
        return 0;
    }
    struct shrink_ctx sc = {.ex = ex, .ref = ref, .kind = f->kind};
    struct explore_shrink_stats stats = {0};
    const struct oms_profile *p = explore_side_profile(ex->target ? ex->target : ref);

    /* A call to a receiver the case does not name means the target remembered an earlier case:
     * name the receiver in this case, so that the file shows the difference on its own. */
    json_t *start = json_incref(f->probe), *expected = NULL, *strays = NULL;
    struct one o;
    one_init(&o);
    json_decref(run_case(&sc, start, json_string_value(json_object_get(start, "name")), f->kind, 1,
                         timed(start, f->kind) ? CRASH_RUNS : 1, NULL, &o, &expected, &strays));
    json_decref(expected);
    one_cleanup(&o);
    if (json_array_size(strays)) {
        json_t *more = NULL, *aug = with_receivers(start, strays, p);
        one_init(&o);
        unsigned hits = 0;
        json_t *kinds =
            run_case(&sc, aug, json_string_value(json_object_get(aug, "name")), f->kind, 1,
                     timed(aug, f->kind) ? CRASH_RUNS : 1, &hits, &o, &expected, &more);
        json_decref(expected);
        one_cleanup(&o);
        if (kinds && hits > 0 && json_array_size(more) == 0) {
            json_decref(start);
            start = json_incref(aug);
        } else {
            sc.allow_strays = 1;
        }
        json_decref(kinds);
        json_decref(more);
        json_decref(aug);
    }
    json_decref(strays);
    json_t *small = sc.env_failed
                        ? json_incref(start)
                        : explore_shrink(start, p, still_fails, &sc, &opt->shrink, &stats);
    json_decref(start);
    if (sc.env_failed) {
        json_decref(small);
        free(rule);
        *err = sc.err;
        return OMS_E_ENV;
    }
    struct explore_finding finding = {
        .kind = f->kind,
        .rule = rule,
        .seed = opt->seed,
        .case_index = f->index,
        .replayed = opt->replay != NULL,
        .replay_file = opt->replay,
        .steps_before = explore_case_steps(f->probe),
        .packages_before = explore_case_packages(f->probe),
        .target = ex->target != NULL,
        .history = sc.allow_strays,
    };
    char *id = explore_report_id(f->kind, ids);
    char scenario_id[128];
    snprintf(scenario_id, sizeof(scenario_id), "explore-%s", id);
    if (ex->ids && (!ex->has_pattern || regexec(&ex->id_pattern, scenario_id, 0, NULL, 0) == 0))
        finding.id = scenario_id;
    char file[4096], script[4096];
    snprintf(file, sizeof(file), "%s/%s.json", opt->out_dir, id);
    snprintf(script, sizeof(script), "%s/%s.sh", opt->out_dir, id);

    /* The expectations of the smallest case, then the file, then its run as `run` would. */
    one_init(&o);
    expected = NULL;
    json_decref(run_case(&sc, small, json_string_value(json_object_get(small, "name")), NULL, 1, 1,
                         NULL, &o, &expected, NULL));
    one_cleanup(&o);
    int rc = 0;
    if (sc.env_failed || !expected) {
        rc = sc.env_failed ? OMS_E_ENV : OMS_E_INVAL;
        if (sc.env_failed)
            *err = sc.err;
        else
            oms_err_set(err, OMS_E_INVAL, file, 0, 0, NULL,
                        "the reference could not run the shrunk case of %s", f->kind);
    }
    json_t *doc = rc == 0 ? explore_report_case(expected, &finding, tier) : NULL;
    char *text = doc ? explore_case_text(doc) : NULL;
    if (rc == 0) {
        /* The file must load as any scenario does. */
        struct oms_err errs[4];
        struct scenario *check = NULL;
        size_t bad =
            scenario_load_text(file, text, strlen(text), ex->schema, ex->rules, &check, errs, 4);
        scenario_destroy(check);
        if (bad) {
            char msg[2048];
            fprintf(stderr, "refund-harness explore: the case file would be invalid: %s\n",
                    oms_err_format(&errs[0], msg, sizeof(msg)));
        }
        struct oms_buf b;
        oms_buf_init(&b, 0);
        oms_buf_printf(&b, "%s\n", text);
        rc = report_make_dirs(opt->out_dir, err) != 0
                 ? OMS_E_IO
                 : explore_report_write(opt->out_dir, strrchr(file, '/') + 1, oms_buf_str(&b), err);
        oms_buf_cleanup(&b);
    }
    struct result_scenario *r = NULL;
    int reproduced = 0;
    unsigned runs = timed(doc, f->kind) ? CRASH_RUNS : 1, showed = 0, ran = 0;
    json_t *also = NULL;
    if (rc == 0) {
        /* The file as `run` runs it; when the kind depends on timing, CRASH_RUNS times, the
         * result kept that of the first run that showed it (else of the last). */
        json_t *final = NULL;
        for (unsigned t = 0; t < runs && rc == 0; t++) {
            struct one again;
            one_init(&again);
            if (ex->target) {
                rc = explore_case_check(ex->target, doc, file, again.r, err);
            } else {
                json_t *derived = NULL;
                rc = explore_case_observe(ref, doc, 1, &derived, again.r, err) ? OMS_E_ENV : 0;
                json_decref(derived);
            }
            json_t *kinds = explore_case_kinds(again.r);
            int shows = has_kind(kinds, f->kind);
            ran++;
            showed += shows;
            if ((shows && !reproduced) || (!reproduced && (t + 1 == runs || rc != 0))) {
                r = keep_result(run, &again);
                json_decref(final);
                final = json_incref(kinds);
            }
            reproduced |= shows;
            json_decref(kinds);
            one_cleanup(&again);
        }
        also = json_array();
        size_t k;
        json_t *other;
        json_array_foreach(final, k, other)
        {
            if (strcmp(json_string_value(other), f->kind) != 0)
                json_array_append(also, other);
        }
        done[*done_count].file = oms_xstrdup(file);
        done[*done_count].kinds = final;
        (*done_count)++;
        r->rerun = launch_rerun(file, opt->target_cmd, opt->target_url, opt->strict_reference,
                                explore_case_kills(doc) > 0, opt->seed);
        if (!reproduced && rc == 0) {
            explore_report_not_reproduced(doc);
            free(text);
            text = explore_case_text(doc);
            struct oms_buf b;
            oms_buf_init(&b, 0);
            oms_buf_printf(&b, "%s\n", text);
            rc = explore_report_write(opt->out_dir, strrchr(file, '/') + 1, oms_buf_str(&b), err);
            oms_buf_cleanup(&b);
        }
    }
    if (rc == 0) {
        char *sh = explore_report_shell(doc, file, r);
        rc = explore_report_write(opt->out_dir, strrchr(script, '/') + 1, sh, err);
        if (rc == 0)
            chmod(script, 0755);
        free(sh);
    }
    if (rc == 0) {
        size_t steps = explore_case_steps(doc), packages = explore_case_packages(doc);
        json_array_append_new(
            list,
            json_pack("{s:s, s:s?, s:s?, s:I, s:s, s:s, s:i, s:i, s:i, s:i, s:b, s:{s:i, s:i}, "
                      "s:b, s:O, s:b, s:{s:i, s:i, s:f, s:b}}",
                      "kind", f->kind, "rule", rule, "basis", tier_basis(tier, rule), "case",
                      (json_int_t)f->index, "file", file, "script", script, "steps_before",
                      (int)finding.steps_before, "packages_before", (int)finding.packages_before,
                      "steps", (int)steps, "packages", (int)packages, "reproduced", reproduced,
                      "final_runs", "runs", (int)ran, "showed", (int)showed, "timing", runs > 1,
                      "also", also, "depends_on_earlier_cases", sc.allow_strays, "shrink",
                      "candidates", (int)stats.candidates, "accepted", (int)stats.accepted, "ms",
                      (double)stats.elapsed_us / 1000.0, "exhausted", stats.exhausted));
        printf("difference: %s\n  first in case %" PRIu64 " (%zu step%s, %zu package%s); shrunk "
               "to %zu step%s, %zu package%s in %zu candidates (%.0f ms)%s\n",
               f->kind, f->index, finding.steps_before, finding.steps_before == 1 ? "" : "s",
               finding.packages_before, finding.packages_before == 1 ? "" : "s", steps,
               steps == 1 ? "" : "s", packages, packages == 1 ? "" : "s", stats.candidates,
               (double)stats.elapsed_us / 1000.0, stats.exhausted ? " (shrink limit reached)" : "");
        struct oms_buf reason;
        oms_buf_init(&reason, 0);
        report_scenario_reason(r, &reason);
        printf("  %s\n", oms_buf_str(&reason));
        oms_buf_cleanup(&reason);
        if (json_array_size(also)) {
            printf("  the case also differs on:");
            size_t k;
            json_t *other;
            json_array_foreach(also, k, other)
            {
                printf("%s %s", k ? "," : "", json_string_value(other));
            }
            printf("\n");
        }
        printf("  case: %s (replay by hand: %s)\n  rerun: %s\n", file, script, r->rerun);
        if (sc.allow_strays)
            printf("  note: the target called a receiver this case does not subscribe: the "
                   "difference depends on what earlier cases left in it\n");
        if (runs > 1 && reproduced)
            printf("  note: a kill inside a burst lands in the target's window or not as its "
                   "threads decide: the case showed it in %u of %u runs\n",
                   showed, ran);
        if (!reproduced)
            printf("  note: the written case did not show the difference again on its final "
                   "run%s (it depends on timing or on what ran before it)\n",
                   ran > 1 ? "s" : "");
    }
    json_decref(also);
    json_decref(doc);
    free(text);
    json_decref(expected);
    free(id);
    free(rule);
    json_decref(small);
    return rc;
}

static int compare_found(const void *a, const void *b)
{
    const struct found *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index ? 1 : strcmp(x->kind, y->kind);
}

/* ---- the command ---- */

static int load_spec(const char *dir, struct schema **schema, json_t **rules)
{
    struct oms_err err = {0};
    char text[2048];
    int rc = scenario_spec_load(dir, schema, rules, &err);
    if (rc != 0)
        fprintf(stderr, "refund-harness explore: %s\n", oms_err_format(&err, text, sizeof(text)));
    return rc;
}

/* The target's profile into a temporary file (its name into path) for the reference sandboxes.
 * Returns 0, or -1 when it cannot be written (the reference keeps its own profile). */
static int write_profile(const json_t *profile, char *path, size_t size)
{
    snprintf(path, size, "/tmp/refund-explore-profile-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) {
        path[0] = '\0';
        return OMS_E_IO;
    }
    FILE *f = fdopen(fd, "w");
    int rc = f && json_dumpf(profile, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ? 0 : -1;
    if (f && fclose(f) != 0)
        rc = -1;
    else if (!f)
        close(fd);
    if (rc != 0) {
        unlink(path);
        path[0] = '\0';
    }
    return rc;
}

/* Whether the scenario schema gives scenarios an "id" (and what it must match): explore then
 * writes one into each case file. */
static void schema_ids(const char *dir, struct explorer *ex)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/scenario.schema.json", dir);
    json_t *doc = json_load_file(path, 0, NULL);
    const json_t *id = json_object_get(json_object_get(doc, "properties"), "id");
    ex->ids = id != NULL;
    const char *pattern = json_string_value(json_object_get(id, "pattern"));
    if (pattern) {
        ex->has_pattern = regcomp(&ex->id_pattern, pattern, REG_EXTENDED | REG_NOSUB) == 0;
        if (!ex->has_pattern)
            ex->ids = 0; /* a pattern this library cannot read: no id rather than a bad one */
    }
    json_decref(doc);
}

/* --replay FILE: the scenario's given and when, its expectations dropped; a random crash moment
 * without a seed of its own gets the one `run FILE --seed seed` would draw, written in the step
 * so that the case files replay it wherever they go. */
static json_t *load_replay(const char *file, struct schema *schema, const json_t *rules,
                           uint64_t seed)
{
    struct oms_err errs[8];
    struct scenario *sc = NULL;
    size_t bad = scenario_load(file, schema, rules, &sc, errs, 8);
    if (bad) {
        for (size_t i = 0; i < bad && i < 8; i++) {
            char text[2048];
            fprintf(stderr, "invalid  %s\n", oms_err_format(&errs[i], text, sizeof(text)));
        }
        return NULL;
    }
    json_t *probe = json_object();
    json_object_set_new(probe, "name", json_string(sc->name));
    json_t *list = json_array();
    for (size_t i = 0; EXPLORE_RULES[i]; i++)
        json_array_append_new(list, json_string(EXPLORE_RULES[i]));
    json_object_set_new(probe, "rules", list);
    json_object_set(probe, "given", (json_t *)sc->given);
    json_t *when = json_deep_copy(json_object_get(sc->doc, "when"));
    size_t i;
    json_t *step;
    json_array_foreach(when, i, step)
    {
        json_object_del(step, "then");
        json_object_del(step, "name");
        json_t *crash = json_object_get(step, "crash");
        if (json_object_get(crash, "at") && !json_object_get(crash, "seed"))
            json_object_set_new(
                crash, "seed", json_integer((json_int_t)crash_step_seed(crash, seed, sc->name, i)));
    }
    json_object_set_new(probe, "when", when);
    scenario_destroy(sc);
    return probe;
}

static int shrink_all(struct explorer *ex, struct result_run *run, json_t *list)
{
    if (ex->found_count == 0)
        return 0;
    struct explore_side *ref = NULL;
    struct oms_err err = {0};
    char text[2048];
    struct explore_side_config cfg = {.profile_path = ex->opt->profile_path, .rules = ex->rules};
    if (explore_side_open(&cfg, &ref, &err) != 0) {
        fprintf(stderr, "refund-harness explore: environment failure: %s\n",
                oms_err_format(&err, text, sizeof(text)));
        return EXIT_ENV;
    }
    struct tier *tier = tier_create(ex->rules, !ex->target || ex->opt->strict_reference);
    json_t *ids = json_object();
    qsort(ex->found, ex->found_count, sizeof(*ex->found), compare_found);
    struct written *done = oms_xcalloc(ex->found_count, sizeof(*done));
    size_t done_count = 0;
    int code = 0;
    for (size_t i = 0; i < ex->found_count && code == 0; i++) {
        int rc = shrink_one(ex, ref, &ex->found[i], tier, ids, run, list, done, &done_count, &err);
        if (rc == OMS_E_ENV) {
            fprintf(stderr, "refund-harness explore: environment failure: %s\n",
                    oms_err_format(&err, text, sizeof(text)));
            code = EXIT_ENV;
        } else if (rc != 0) {
            fprintf(stderr, "refund-harness explore: %s\n",
                    oms_err_format(&err, text, sizeof(text)));
        }
    }
    for (size_t i = 0; i < done_count; i++) {
        free(done[i].file);
        json_decref(done[i].kinds);
    }
    free(done);
    json_decref(ids);
    tier_destroy(tier);
    explore_side_close(ref);
    return code;
}

/* Why the cases can have no crash step (a new string), or NULL when they can: the system judged
 * must be one explore can kill and restart (--target-cmd; for the embedded reference its
 * oms-reference child), and with a target, so must the reference the expectations come from. */
static char *crash_blocker(const struct explore_side *side, int judged)
{
    const char *why = NULL;
    char *own = NULL;
    if (!explore_side_killable(side, &why)) {
        if (judged)
            why = "the harness can kill and restart only a target it starts itself: give "
                  "--target-cmd 'COMMAND' instead of --target URL alone";
    } else if (judged) {
        own = explore_reference_unkillable();
        why = own;
    }
    char *out = why ? oms_xstrdup(why) : NULL;
    free(own);
    return out;
}

/* Longer than 80 lines on purpose: explore's phases (spec, sides, profile file, workers, shrink,
 * reports) in the order they run, with the one cleanup label they share. */
int explore_run(const struct explore_options *options, const char *spec_dir)
{
    struct explore_options opt = *options; /* --replay and --target adjust a few */
    printf("explore: seed %" PRIu64 "\n", opt.seed);
    fflush(stdout);

    struct explorer ex = {.opt = &opt, .env_case = UINT64_MAX};
    ex.progress = isatty(STDOUT_FILENO) && !opt.quiet;
    pthread_mutex_init(&ex.lock, NULL);
    pthread_cond_init(&ex.changed, NULL);
    json_t *rules = NULL;
    int code = EXIT_NONE;
    char text[2048];
    if (load_spec(spec_dir, &ex.schema, &rules) != 0) {
        code = EXIT_ENV;
        goto out;
    }
    ex.rules = rules;
    schema_ids(spec_dir, &ex);
    if (opt.replay) {
        ex.replay_probe = load_replay(opt.replay, ex.schema, rules, opt.seed);
        if (!ex.replay_probe) {
            code = EXIT_USAGE;
            goto out;
        }
        opt.cases = 1;
    }

    /* The generator follows the profile and capabilities of the system the cases run on. */
    struct explore_side *gen_side = NULL;
    struct oms_err err = {0};
    struct explore_side_config tcfg = {
        .profile_path = opt.profile_path,
        .target_url = opt.target_url,
        .target_cmd = opt.target_cmd,
        .token = opt.token,
        .fixture_token = opt.fixture_token,
        .receivers = &opt.receivers,
        .rules = rules,
        .strict_reference = opt.strict_reference,
    };
    if (explore_side_open(&tcfg, &gen_side, &err) != 0) {
        fprintf(stderr, "refund-harness explore: environment failure: %s\n",
                oms_err_format(&err, text, sizeof(text)));
        code = EXIT_ENV;
        goto out;
    }
    char profile_file[64] = "";
    int judged = opt.target_url || opt.target_cmd; /* a system under test, not the reference */
    if (judged) {
        ex.target = gen_side;
        /* The reference runs each case under the target's own profile (its statuses, transitions,
         * tokens, limits), unless --profile names one. */
        if (!opt.profile_path && write_profile(explore_side_profile_json(gen_side), profile_file,
                                               sizeof(profile_file)) == 0)
            opt.profile_path = profile_file;
    }
    /* Crash steps need both sides killable: the target explore started, and the reference's
     * oms-reference child. Said once here, not per case. */
    char *crash_off = crash_blocker(gen_side, judged);
    if (ex.replay_probe && explore_case_kills(ex.replay_probe) && crash_off) {
        fprintf(stderr, "refund-harness explore: %s has crash steps, and %s\n", opt.replay,
                crash_off);
        free(crash_off);
        explore_side_close(gen_side);
        if (profile_file[0])
            unlink(profile_file);
        code = EXIT_USAGE;
        goto out;
    }
    ex.gen = (struct explore_gen_config){
        .profile = explore_side_profile(gen_side),
        .max_steps = opt.steps,
        .plan = explore_side_has(gen_side, "plan"),
        .clock = explore_side_has(gen_side, "clock"),
        .profile_overrides = explore_side_has(gen_side, "profile-overrides"),
        .crash_percent = crash_off ? 0 : opt.crash_percent,
    };
    char against[4096];
    if (opt.target_cmd)
        snprintf(against, sizeof(against), "the target it starts (%s) at %s", opt.target_cmd,
                 explore_side_url(gen_side));
    else
        snprintf(against, sizeof(against), "%s",
                 opt.target_url ? opt.target_url : "the embedded reference (invariants)");
    if (!opt.quiet) {
        if (opt.replay)
            printf("explore: replaying %s against %s\n", opt.replay, against);
        else if (opt.time_ms)
            printf("explore: cases for %.1f s, up to %u steps each, %u job%s, against %s\n",
                   (double)opt.time_ms / 1000.0, opt.steps, opt.jobs, opt.jobs == 1 ? "" : "s",
                   against);
        else
            printf("explore: %" PRIu64 " cases, up to %u steps each, %u job%s, against %s\n",
                   opt.cases, opt.steps, opt.jobs, opt.jobs == 1 ? "" : "s", against);
        if (!opt.replay && crash_off && opt.crash_percent)
            printf("explore: no crash steps: %s\n", crash_off);
        else if (!opt.replay && opt.crash_percent)
            printf("explore: a crash step (kill -9, restart) in %u%% of the cases\n",
                   opt.crash_percent);
        fflush(stdout);
    }

    ex.started_us = oms_time_mono_us();
    ex.deadline_us = opt.time_ms ? ex.started_us + opt.time_ms * 1000 : 0;
    explore_cases(&ex);
    int64_t explored_us = oms_time_mono_us() - ex.started_us;
    if (ex.env_failed) {
        fprintf(stderr, "refund-harness explore: environment failure: %s\n",
                oms_err_format(&ex.env_err, text, sizeof(text)));
        if (ex.env_case != UINT64_MAX)
            fprintf(stderr,
                    "refund-harness explore: the target stopped answering in case %" PRIu64
                    " (SPEC E-3: no input may crash it); the same cases again: --seed %" PRIu64
                    " --cases %" PRIu64 "\n",
                    ex.env_case, opt.seed, ex.env_case + 1);
        code = EXIT_ENV;
    }

    struct result_run run;
    result_run_init(&run);
    run.rules = json_incref(rules);
    run.started_ms = oms_time_wall_ms();
    if (opt.target_cmd) {
        struct oms_buf b;
        oms_buf_init(&b, 0);
        oms_buf_printf(&b, "started by the harness: %s", opt.target_cmd);
        run.target = oms_buf_take(&b, NULL);
    } else {
        run.target = oms_xstrdup(opt.target_url ? opt.target_url
                                                : "embedded reference implementation "
                                                  "(oms-reference in-process)");
    }
    run.profile = json_incref((json_t *)explore_side_profile_json(gen_side));
    run.strict_reference = !judged || opt.strict_reference;
    json_t *differences = json_array();
    if (code == EXIT_NONE) {
        int rc = shrink_all(&ex, &run, differences);
        if (rc)
            code = rc;
    }
    if (run.count == 0 && code == EXIT_NONE) {
        struct result_scenario *r = result_run_add(&run);
        char name[160];
        snprintf(name, sizeof(name), "explore seed %" PRIu64 ": %" PRIu64 " cases, no difference",
                 opt.seed, ex.cases_done);
        r->file = oms_xstrdup(opt.replay ? opt.replay : "explore");
        r->name = oms_xstrdup(name);
        r->rules = oms_xcalloc(1, sizeof(char *));
        r->tags = oms_xcalloc(1, sizeof(char *));
        r->duration_us = explored_us;
    }
    result_run_tally(&run);
    run.duration_us = oms_time_mono_us() - ex.started_us;
    double secs = (double)explored_us / 1e6;
    json_t *crash = json_pack("{s:i, s:s?, s:I, s:I}", "percent", (int)ex.gen.crash_percent, "off",
                              opt.crash_percent ? crash_off : "--crash-rate 0", "kills",
                              (json_int_t)ex.kills, "kills_in_bursts", (json_int_t)ex.bursts);
    json_t *info = json_pack(
        "{s:I, s:I, s:I, s:I, s:s?, s:I, s:i, s:f, s:f, s:f, s:o, s:s?, s:o}", "seed",
        (json_int_t)opt.seed, "cases", (json_int_t)ex.cases_done, "steps",
        (json_int_t)ex.steps_done, "cases_not_run", (json_int_t)ex.invalid, "not_run_why",
        ex.invalid_why, "max_steps", (json_int_t)opt.steps, "jobs", (int)opt.jobs, "explore_ms",
        (double)explored_us / 1000.0, "cases_per_s", secs > 0 ? (double)ex.cases_done / secs : 0.0,
        "steps_per_s", secs > 0 ? (double)ex.steps_done / secs : 0.0, "crash", crash, "replay",
        opt.replay, "differences", differences);
    if (code != EXIT_ENV && json_array_size(differences) > 0)
        code = EXIT_FOUND;
    if (!opt.no_reports && code != EXIT_ENV) {
        if (explore_report_all(&run, info, opt.out_dir, &err) != 0) {
            fprintf(stderr, "refund-harness explore: %s\n",
                    oms_err_format(&err, text, sizeof(text)));
            code = EXIT_ENV;
        } else if (!opt.quiet) {
            printf("reports: %s/junit.xml, %s/results.json, %s/report.html\n", opt.out_dir,
                   opt.out_dir, opt.out_dir);
        }
    }
    char kills[96] = "";
    if (ex.kills)
        snprintf(kills, sizeof(kills), ", %" PRIu64 " kill%s (%" PRIu64 " inside bursts)", ex.kills,
                 ex.kills == 1 ? "" : "s", ex.bursts);
    printf("explore: %" PRIu64 " cases, %" PRIu64 " steps%s in %.1f s (%.0f cases/s, %.0f "
           "steps/s); %zu difference kind%s%s (seed %" PRIu64 ")\n",
           ex.cases_done, ex.steps_done, kills, secs, secs > 0 ? (double)ex.cases_done / secs : 0.0,
           secs > 0 ? (double)ex.steps_done / secs : 0.0, json_array_size(differences),
           json_array_size(differences) == 1 ? "" : "s",
           ex.invalid ? " (some cases could not run on the reference)" : "", opt.seed);
    if (ex.invalid && ex.invalid_why)
        printf("explore: %" PRIu64 " case%s could not run on the reference, the first because: "
               "%s\n",
               ex.invalid, ex.invalid == 1 ? "" : "s", ex.invalid_why);
    json_decref(info);
    result_run_cleanup(&run);
    free(crash_off);
    explore_side_close(gen_side);
    if (profile_file[0])
        unlink(profile_file);
out:
    for (size_t i = 0; i < ex.found_count; i++) {
        free(ex.found[i].kind);
        json_decref(ex.found[i].probe);
    }
    free(ex.found);
    free(ex.invalid_why);
    json_decref(ex.replay_probe);
    if (ex.has_pattern)
        regfree(&ex.id_pattern);
    json_decref(rules);
    schema_destroy(ex.schema);
    pthread_cond_destroy(&ex.changed);
    pthread_mutex_destroy(&ex.lock);
    return code;
}
