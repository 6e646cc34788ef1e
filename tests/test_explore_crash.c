/* test_explore_crash: explore's crash steps as a vendor uses them (--target-cmd). Against
 * tests/planted's oms-planted-late (it answers before its outbox is written), a fixed seed finds
 * the lost call (SPEC O-1) within LATE_BUDGET cases and writes a shrunk case with a crash step that
 * `run --target-cmd` replays and fails, and that passes against oms-reference started by
 * --target-cmd and against the embedded reference; against oms-planted-split (it loses the calls of
 * commands in flight at the kill) a fixed seed finds it within SPLIT_BUDGET cases. Against
 * oms-reference started by --target-cmd, REF_CASES cases with crash steps find no difference. Two
 * runs with one seed write byte-identical case files, crash steps and the expectations after them
 * included, although what the target's threads did at each kill differs between them. --target URL
 * alone gets no crash steps (said once) and cannot replay a file that has them; the embedded
 * reference runs its crash cases on an oms-reference child. */
#include "capture.h"
#include "proc.h"
#include "support.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef REFUND_SOURCE_DIR
#error "REFUND_SOURCE_DIR must name the repository"
#endif

/* The seeds and case budgets (half the cases with a crash step, 4 in 5 of those inside a burst).
 * Measured (docs/explore.md): of the cases with a kill inside a burst, the late target fails about
 * 7 in 10; seeds 1 to 5 find the split target (its window is the 1 ms between its two writes) in
 * case 0 to 26, so its budget leaves it about 40 kills inside bursts, enough on a loaded machine.
 */
#define CRASH_RATE   "50"
#define LATE_SEED    "17"
#define LATE_BUDGET  "30"
#define SPLIT_SEED   "1"
#define SPLIT_BUDGET "100"
/* The shrunk late case (one command killed right after its answer) shows its difference in about
 * half the runs (measured: 8, 11 of 20); replayed up to this many times, it must fail at least
 * once (all passing at that rate: about 1 in 50,000). */
#define LATE_REPLAYS 16
/* No difference in this many cases against oms-reference (a kill in every other one). */
#define REF_CASES_N 80
#define STR_(x)     #x
#define STR(x)      STR_(x)
#define REF_CASES   STR(REF_CASES_N)

#define RUN_MAX_MS 240000

/* Runs refund-harness with args (NULL-terminated) from the repository; fills out. */
static void harness(const char *const *args, struct capture *out)
{
    capture_harness(args, REFUND_SOURCE_DIR, RUN_MAX_MS, out);
}

/* The --target-cmd of a built program: a new string. */
static char *target_cmd(const char *program)
{
    return support_printf("%s --port {port} --db {dir}/oms.db", proc_bin(program));
}

/* The crash step of a case file with a burst, or NULL. */
static const json_t *burst_step(const json_t *doc)
{
    size_t i;
    json_t *step;
    json_array_foreach(json_object_get(doc, "when"), i, step)
    {
        const json_t *crash = json_object_get(step, "crash");
        if (json_object_get(crash, "burst"))
            return crash;
    }
    return NULL;
}

/* Runs a case file with `run` and the extra arguments (NULL-terminated); its exit code, and in
 * *o1 whether a failed check names O-1. */
static int replay(const char *file, const char *const *extra, int *o1)
{
    char *dir = capture_temp_dir("explore-crash-replay");
    const char *args[16] = {"run", file, "--report-dir", dir, "--no-color", "--quiet"};
    size_t n = 6;
    for (size_t i = 0; extra && extra[i] && n < 15; i++)
        args[n++] = extra[i];
    args[n] = NULL;
    struct capture out;
    harness(args, &out);
    int code = out.code;
    *o1 = 0;
    if (code == 1) {
        json_t *doc = capture_results(dir);
        const json_t *sc = json_array_get(json_object_get(doc, "scenarios"), 0);
        size_t i, k;
        json_t *step, *chk;
        json_array_foreach(json_object_get(sc, "steps"), i, step)
        {
            json_array_foreach(json_object_get(step, "checks"), k, chk)
            {
                *o1 |= strcmp(json_string_value(json_object_get(chk, "state")), "failed") == 0 &&
                       strcmp(json_string_value(json_object_get(chk, "rule")), "O-1") == 0;
            }
        }
        json_decref(doc);
    } else if (code != 0) {
        fail_msg("run %s exited %d:\n%s%s", file, code, out.out, out.err);
    }
    capture_cleanup(&out);
    capture_remove_tree(dir);
    free(dir);
    return code;
}

/* The case file of the first difference of results whose kind is a crash check under O-1 (a new
 * string), with its kind in *kind (borrowed from doc). */
static char *crash_finding(const json_t *doc, const char **kind)
{
    const json_t *diffs = json_object_get(json_object_get(doc, "explore"), "differences");
    size_t i;
    json_t *d;
    json_array_foreach(diffs, i, d)
    {
        const char *k = json_string_value(json_object_get(d, "kind"));
        const char *rule = json_string_value(json_object_get(d, "rule"));
        const char *file = json_string_value(json_object_get(d, "file"));
        if (file && strncmp(k, "crash: ", 7) == 0 && rule && strcmp(rule, "O-1") == 0) {
            *kind = k;
            return support_printf("%s", file);
        }
    }
    return NULL;
}

/* explore against a planted target; returns its results and the case file of the lost call. */
static json_t *explore_planted(const char *program, const char *seed, const char *budget,
                               const char *shrink_time, const char *dir, char **file,
                               const char **kind)
{
    char *cmd = target_cmd(program);
    const char *args[] = {"explore",
                          "--target-cmd",
                          cmd,
                          "--token",
                          "refund-harness-token",
                          "--seed",
                          seed,
                          "--cases",
                          budget,
                          "--crash-rate",
                          CRASH_RATE,
                          "--shrink-time",
                          shrink_time,
                          "--out",
                          dir,
                          "--quiet",
                          NULL};
    struct capture out;
    harness(args, &out);
    if (out.code != 1)
        fail_msg("%s: explore exited %d, expected 1 (a difference):\n%s%s", program, out.code,
                 out.out, out.err);
    json_t *doc = capture_results(dir);
    *file = crash_finding(doc, kind);
    if (!*file)
        fail_msg("%s: seed %s in %s cases found no lost call (a crash check under O-1):\n%s",
                 program, seed, budget, out.out);
    const json_t *crash = json_object_get(json_object_get(doc, "explore"), "crash");
    assert_true(json_integer_value(json_object_get(crash, "kills_in_bursts")) > 0);
    assert_null(json_string_value(json_object_get(crash, "off")));
    /* The run's target and rerun lines say the harness starts it. */
    assert_non_null(strstr(json_string_value(json_object_get(doc, "target")), "started by"));
    capture_cleanup(&out);
    free(cmd);
    return doc;
}

static void test_planted_late_found_shrunk_and_replayed(void **state)
{
    (void)state;
    char *dir = capture_temp_dir("explore-crash-late");
    char *file = NULL;
    const char *kind = NULL;
    json_t *doc =
        explore_planted("oms-planted-late", LATE_SEED, LATE_BUDGET, "60s", dir, &file, &kind);
    json_t *sc = json_load_file(file, 0, NULL);
    assert_non_null(sc);
    /* Shrunk to a few steps and packages, the kill inside a burst kept: the difference needs it. */
    const json_t *crash = burst_step(sc);
    if (!crash)
        fail_msg("%s (%s) has no crash step with a burst", file, kind);
    assert_true(json_array_size(json_object_get(sc, "when")) <= 5);
    assert_true(json_array_size(json_object_get(json_object_get(sc, "given"), "packages")) <= 3);
    /* The moment is written in the file: "after" N, or "at": "random" with its seed. */
    assert_true(json_object_get(crash, "after") || json_object_get(crash, "seed"));
    assert_non_null(
        strstr(json_string_value(json_object_get(sc, "description")), "--seed " LATE_SEED));
    /* The crash checks' rules are among the file's. */
    int o1 = 0;
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(sc, "rules"), i, r)
    {
        o1 |= strcmp(json_string_value(r), "O-1") == 0;
    }
    assert_true(o1);
    json_decref(sc);

    /* run --target-cmd replays it and fails under O-1 (a kill lands in the window or not, as the
     * target's threads decide: within LATE_REPLAYS runs it must). */
    char *late = target_cmd("oms-planted-late"), *ref = target_cmd("oms-reference");
    const char *on_late[] = {"--target-cmd", late, "--token", "refund-harness-token", NULL};
    int failed = 0, runs = 0;
    while (!failed && runs < LATE_REPLAYS) {
        runs++;
        int code = replay(file, on_late, &o1);
        failed = code == 1 && o1;
        if (code == 1 && !o1)
            fail_msg("%s fails against oms-planted-late, but on no check under O-1", file);
    }
    if (!failed)
        fail_msg("%s passed %d runs against oms-planted-late", file, LATE_REPLAYS);
    print_message("%s failed against oms-planted-late on run %d\n", file, runs);
    /* It passes against oms-reference started the same way, and against the embedded reference. */
    const char *on_ref[] = {"--target-cmd", ref, "--token", "refund-harness-token", NULL};
    assert_int_equal(replay(file, on_ref, &o1), 0);
    assert_int_equal(replay(file, NULL, &o1), 0);
    free(late);
    free(ref);
    free(file);
    json_decref(doc);
    capture_remove_tree(dir);
    free(dir);
}

static void test_planted_split_found(void **state)
{
    (void)state;
    char *dir = capture_temp_dir("explore-crash-split");
    char *file = NULL;
    const char *kind = NULL;
    json_t *doc =
        explore_planted("oms-planted-split", SPLIT_SEED, SPLIT_BUDGET, "15s", dir, &file, &kind);
    /* The split target loses only calls of transitions whose command was in flight at the kill:
     * the check that finds them holds every logged transition to its calls. */
    assert_string_equal(kind,
                        "crash: every transition the restarted target logged has its calls [O-1]");
    json_t *sc = json_load_file(file, 0, NULL);
    assert_non_null(sc);
    assert_non_null(burst_step(sc));
    json_decref(sc);
    int o1 = 0;
    char *ref = target_cmd("oms-reference");
    const char *on_ref[] = {"--target-cmd", ref, "--token", "refund-harness-token", NULL};
    assert_int_equal(replay(file, on_ref, &o1), 0);
    free(ref);
    free(file);
    json_decref(doc);
    capture_remove_tree(dir);
    free(dir);
}

static void test_reference_by_target_cmd_no_difference(void **state)
{
    (void)state;
    char *dir = capture_temp_dir("explore-crash-ref");
    char *cmd = target_cmd("oms-reference");
    const char *args[] = {"explore",
                          "--target-cmd",
                          cmd,
                          "--token",
                          "refund-harness-token",
                          "--seed",
                          "9",
                          "--cases",
                          REF_CASES,
                          "--crash-rate",
                          CRASH_RATE,
                          "--jobs",
                          "2",
                          "--out",
                          dir,
                          NULL};
    struct capture out;
    harness(args, &out);
    if (out.code != 0)
        fail_msg("explore against oms-reference exited %d:\n%s%s", out.code, out.out, out.err);
    /* Said once at the start: how often a case kills the target. */
    assert_non_null(strstr(out.out, "a crash step (kill -9, restart) in 50% of the cases"));
    json_t *doc = capture_results(dir);
    const json_t *ex = json_object_get(doc, "explore");
    assert_int_equal(json_integer_value(json_object_get(ex, "cases")), REF_CASES_N);
    assert_int_equal(json_integer_value(json_object_get(ex, "cases_not_run")), 0);
    assert_int_equal(json_array_size(json_object_get(ex, "differences")), 0);
    const json_t *crash = json_object_get(ex, "crash");
    json_int_t kills = json_integer_value(json_object_get(crash, "kills"));
    /* About half the cases kill it; most of the kills come inside a burst. */
    assert_true(kills >= 20 && kills <= 60);
    assert_true(json_integer_value(json_object_get(crash, "kills_in_bursts")) * 2 > kills);
    json_decref(doc);
    capture_cleanup(&out);
    free(cmd);
    capture_remove_tree(dir);
    free(dir);
}

/* The names of the case files (*.json but results.json, *.sh) in dir, sorted, as one string. */
static char *case_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot read %s", dir);
    json_t *set = json_object();
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        size_t n = strlen(e->d_name);
        if (strcmp(e->d_name, "results.json") == 0)
            continue;
        if ((n > 5 && strcmp(e->d_name + n - 5, ".json") == 0) ||
            (n > 3 && strcmp(e->d_name + n - 3, ".sh") == 0))
            json_object_set_new(set, e->d_name, json_true());
    }
    closedir(d);
    char *text = json_dumps(set, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(set);
    return text;
}

/* Whether a case file kills inside a burst and expects something of a step after the kill. */
static int expects_after_a_burst(const char *path)
{
    json_t *doc = json_load_file(path, 0, NULL);
    int killed = 0, after = 0;
    size_t i;
    json_t *step;
    json_array_foreach(json_object_get(doc, "when"), i, step)
    {
        if (json_object_get(json_object_get(step, "crash"), "burst"))
            killed = 1;
        else if (killed && json_object_get(step, "then"))
            after = 1;
    }
    json_decref(doc);
    return after;
}

/* One seed, two runs (one job, then two): byte-identical case files. The target (oms-reference by
 * --target-cmd) differs from the reference only by a profile setting (the reference runs with
 * sync_remote_order_status_default false), so what differs is decided; every case kills the target
 * inside a burst or at once, and the files are written unshrunk (one candidate), so the crash steps
 * and the expectations after them are in them - and none of it depends on which commands of a
 * burst the kill happened to find done. */
static void test_same_seed_same_case_files(void **state)
{
    (void)state;
    char *tmp = capture_temp_dir("explore-crash-seed");
    char *profile_path = support_printf("%s/profile.json", tmp);
    json_t *profile = json_load_file(REFUND_SOURCE_DIR "/profiles/default.json", 0, NULL);
    assert_non_null(profile);
    json_object_set_new(profile, "sync_remote_order_status_default", json_false());
    assert_int_equal(json_dump_file(profile, profile_path, JSON_INDENT(2)), 0);
    json_decref(profile);
    char *cmd = target_cmd("oms-reference");
    char *dirs[2];
    json_t *figures[2];
    for (int k = 0; k < 2; k++) {
        dirs[k] = support_printf("%s/run%d", tmp, k);
        const char *args[] = {"explore",
                              "--target-cmd",
                              cmd,
                              "--token",
                              "refund-harness-token",
                              "--profile",
                              profile_path,
                              "--seed",
                              "5",
                              "--cases",
                              "20",
                              "--crash-rate",
                              "100",
                              "--shrink-candidates",
                              "1",
                              "--jobs",
                              k ? "2" : "1",
                              "--out",
                              dirs[k],
                              "--quiet",
                              NULL};
        struct capture out;
        harness(args, &out);
        if (out.code != 1)
            fail_msg("explore exited %d, expected 1:\n%s%s", out.code, out.out, out.err);
        capture_cleanup(&out);
        json_t *doc = capture_results(dirs[k]);
        json_t *ex = json_object_get(doc, "explore");
        figures[k] = json_pack("{s:O, s:O, s:O}", "steps", json_object_get(ex, "steps"), "kills",
                               json_object_get(json_object_get(ex, "crash"), "kills"), "bursts",
                               json_object_get(json_object_get(ex, "crash"), "kills_in_bursts"));
        json_decref(doc);
    }
    assert_true(json_equal(figures[0], figures[1]));
    assert_int_equal(json_integer_value(json_object_get(figures[0], "kills")), 20);
    char *a = case_files(dirs[0]), *b = case_files(dirs[1]);
    assert_string_equal(a, b);
    json_t *names = support_parse(a);
    assert_true(json_object_size(names) >= 2);
    int after_burst = 0;
    const char *name;
    json_t *v;
    json_object_foreach(names, name, v)
    {
        char *ta = capture_same_file(dirs[0], dirs[1], name);
        if (strlen(name) > 5 && strcmp(name + strlen(name) - 5, ".json") == 0) {
            assert_null(strstr(ta, "127.0.0.1"));
            char *pa = support_printf("%s/%s", dirs[0], name);
            after_burst |= expects_after_a_burst(pa);
            free(pa);
        }
        free(ta);
    }
    assert_true(after_burst);
    json_decref(names);
    free(a);
    free(b);
    for (int k = 0; k < 2; k++) {
        json_decref(figures[k]);
        free(dirs[k]);
    }
    free(cmd);
    free(profile_path);
    capture_remove_tree(tmp);
    free(tmp);
}

/* --target URL alone: no crash steps, said once; a file with one cannot be replayed there. The
 * embedded reference runs its crash cases on an oms-reference child. */
static void test_without_a_killable_target(void **state)
{
    (void)state;
    const char *argv[] = {"oms-reference", "--port", "0", NULL};
    struct proc ref;
    proc_spawn(&ref, argv, 0);
    proc_wait_listening(&ref, "oms-reference");
    char *dir = capture_temp_dir("explore-crash-url");
    const char *args[] = {"explore", "--target", ref.url,   "--token", "refund-harness-token",
                          "--seed",  "3",        "--cases", "10",      "--crash-rate",
                          "100",     "--out",    dir,       NULL};
    struct capture out;
    harness(args, &out);
    assert_int_equal(out.code, 0);
    const char *said = strstr(out.out, "explore: no crash steps: ");
    assert_non_null(said);
    assert_null(strstr(said + strlen("explore: no crash steps"), "no crash steps"));
    assert_non_null(strstr(said, "--target-cmd"));
    json_t *doc = capture_results(dir);
    const json_t *crash = json_object_get(json_object_get(doc, "explore"), "crash");
    assert_non_null(json_string_value(json_object_get(crash, "off")));
    assert_int_equal(json_integer_value(json_object_get(crash, "kills")), 0);
    assert_int_equal(json_integer_value(json_object_get(crash, "percent")), 0);
    json_decref(doc);
    capture_cleanup(&out);

    /* A file that kills the target cannot be replayed against a URL: a usage error naming why. */
    char *file = support_printf("%s/kill.json", dir);
    capture_write_file(file,
                       "{\"name\": \"kill\", \"rules\": [\"O-1\"], \"given\": {\"locations\": "
                       "[{\"id\": 1, \"max_quota\": 5, \"quota\": 1}], \"packages\": [{\"id\": "
                       "501, \"location\": 1, \"status\": \"Waiting\", \"items\": [{\"id\": "
                       "9001}]}]}, \"when\": [{\"crash\": {\"burst\": {\"packages\": [501], "
                       "\"body\": {\"transition\": 17}}, \"after\": 1}}]}");
    const char *again[] = {
        "explore",      "--replay", file, "--target", ref.url, "--token", "refund-harness-token",
        "--no-reports", NULL};
    harness(again, &out);
    assert_int_equal(out.code, 2);
    assert_non_null(strstr(out.err, "crash steps"));
    assert_non_null(strstr(out.err, "--target-cmd"));
    capture_cleanup(&out);
    proc_stop(&ref, "oms-reference");

    /* Embedded: the kills land on an oms-reference child, and the reference keeps every rule. */
    const char *embedded[] = {"explore", "--replay", file, "--out", dir, "--quiet", NULL};
    harness(embedded, &out);
    if (out.code != 0)
        fail_msg("explore --replay of a crash case on the embedded reference exited %d:\n%s%s",
                 out.code, out.out, out.err);
    capture_cleanup(&out);
    const char *cases[] = {"explore",  "--seed", "3", "--cases", "30", "--crash-rate",
                           CRASH_RATE, "--out",  dir, "--quiet", NULL};
    harness(cases, &out);
    if (out.code != 0)
        fail_msg("explore on the embedded reference exited %d:\n%s%s", out.code, out.out, out.err);
    doc = capture_results(dir);
    crash = json_object_get(json_object_get(doc, "explore"), "crash");
    assert_true(json_integer_value(json_object_get(crash, "kills")) > 0);
    assert_int_equal(
        json_array_size(json_object_get(json_object_get(doc, "explore"), "differences")), 0);
    json_decref(doc);
    capture_cleanup(&out);
    free(file);
    capture_remove_tree(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_planted_late_found_shrunk_and_replayed, proc_teardown),
        cmocka_unit_test_teardown(test_planted_split_found, proc_teardown),
        cmocka_unit_test_teardown(test_reference_by_target_cmd_no_difference, proc_teardown),
        cmocka_unit_test_teardown(test_same_seed_same_case_files, proc_teardown),
        cmocka_unit_test_teardown(test_without_a_killable_target, proc_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
