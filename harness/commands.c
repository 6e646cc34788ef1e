/* commands: run, validate, list, serve and journal. */
#include "commands.h"

#include "diagnose.h"
#include "explore.h"

#include "cli.h"
#include "known.h"
#include "oms_json.h"
#include "oms_profile.h"
#include "oms_signal.h"
#include "paths.h"
#include "report.h"
#include "result.h"
#include "scenario.h"
#include "schema.h"
#include "selection.h"
#include "suggest.h"
#include "serve.h"
#include "suite.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A file of the bundled data (paths.h) into out; prints where it looked when it is not found. */
static int data_path(const char *sub, char *out, size_t size)
{
    int rc = paths_data(sub, out, size);
    if (rc != 0)
        fprintf(stderr, "refund-harness: %s\n", out);
    return rc;
}

/* What run, validate and list start from: the scenario files, the specification, the suite. */
struct loaded {
    char **paths; /* the paths searched (borrowed): the command line's, or the bundled suite */
    size_t path_count;
    char *default_path[1];
    char bundled[PATH_MAX]; /* the bundled suite's folder */
    char **files;
    size_t file_count;
    struct schema *schema;
    json_t *rules;               /* spec/rules.json "rules" */
    struct oms_profile *profile; /* what values are checked against (--profile or the default) */
    struct suite suite;
    size_t bad; /* invalid files */
};

static void print_err(const struct oms_err *err)
{
    char text[2048];
    fprintf(stderr, "refund-harness: %s\n", oms_err_format(err, text, sizeof(text)));
}

static int load_spec(struct schema **schema, json_t **rules)
{
    char dir[PATH_MAX];
    int rc = data_path("spec", dir, sizeof(dir));
    if (rc != 0)
        return rc;
    struct oms_err err = {0};
    rc = scenario_spec_load(dir, schema, rules, &err);
    if (rc != 0)
        print_err(&err);
    return rc;
}

/* For a path that does not exist: the nearest name in its folder, appended to text. */
static void suggest_path(const char *path, char *text, size_t size)
{
    const char *slash = strrchr(path, '/');
    char dir[1024];
    if (slash == path)
        snprintf(dir, sizeof(dir), "/");
    else
        snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct suggest s;
    suggest_init(&s, slash ? slash + 1 : path);
    char best[256] = "";
    for (struct dirent *e = readdir(d); e; e = readdir(d)) {
        const char *before = s.best;
        if (e->d_name[0] != '.')
            suggest_consider(&s, e->d_name);
        if (s.best != before) { /* readdir reuses its buffer: keep a copy */
            snprintf(best, sizeof(best), "%s", e->d_name);
            s.best = best;
        }
    }
    closedir(d);
    size_t used = strlen(text);
    if (best[0] && used < size)
        snprintf(text + used, size - used, "; did you mean \"%.1024s%s%.256s\"?", slash ? dir : "",
                 slash && strcmp(dir, "/") != 0 ? "/" : "", best);
}

static void loaded_cleanup(struct loaded *l)
{
    suite_cleanup(&l->suite);
    oms_profile_unref(l->profile);
    schema_destroy(l->schema);
    json_decref(l->rules);
    scenario_free_files(l->files, l->file_count);
}

/* Finds and loads the scenario files of the command line (printing "ok" lines unless quiet).
 * Returns COMMANDS_GO_ON when all of them loaded, or the exit code to stop with (the reason
 * printed). */
static int load(struct cli *c, int quiet, struct loaded *l)
{
    /* The bundled suite; named relatively when run from the repository, for shorter reports. */
    char here[PATH_MAX], bundled[PATH_MAX];
    if (!c->path_count && data_path("scenarios", l->bundled, sizeof(l->bundled)) != 0)
        return COMMANDS_ENV;
    l->default_path[0] = l->bundled;
    if (!c->path_count && realpath("scenarios", here) && realpath(l->bundled, bundled) &&
        strcmp(here, bundled) == 0)
        l->default_path[0] = "scenarios";
    l->paths = c->path_count ? c->paths : l->default_path;
    l->path_count = c->path_count ? c->path_count : 1;
    struct oms_err err = {0};
    if (scenario_find_files(l->paths, l->path_count, &l->files, &l->file_count, &err) != 0) {
        char text[2048];
        oms_err_format(&err, text, sizeof(text));
        if (err.code == OMS_E_NOENT)
            suggest_path(err.source, text, sizeof(text));
        fprintf(stderr, "refund-harness: %s\n", text);
        return COMMANDS_USAGE;
    }
    if (load_spec(&l->schema, &l->rules) != 0)
        return COMMANDS_ENV;
    /* With --target the values are checked against --profile, or the default profile. */
    if ((c->profile_path ? oms_profile_load_file(c->profile_path, &l->profile, &err)
                         : oms_profile_load_default(&l->profile, &err)) != 0) {
        print_err(&err);
        return COMMANDS_USAGE;
    }
    l->bad = suite_load(l->files, l->file_count, l->schema, l->rules, l->profile, &l->suite, quiet);
    if (l->file_count == 0) {
        /* Whatever the command, finding nothing is a mistaken path, never a success. */
        fprintf(stderr, "refund-harness: no scenario files (*.json) found in");
        for (size_t i = 0; i < l->path_count; i++)
            fprintf(stderr, " %s", l->paths[i]);
        fputc('\n', stderr);
        return COMMANDS_USAGE;
    }
    return COMMANDS_GO_ON;
}

int commands_validate(struct cli *c)
{
    struct loaded l = {0};
    int code = load(c, 0, &l);
    if (code < 0) {
        printf("%zu file(s): %zu valid, %zu invalid\n", l.file_count, l.file_count - l.bad, l.bad);
        code = l.bad ? COMMANDS_USAGE : COMMANDS_PASS;
    }
    loaded_cleanup(&l);
    return code;
}

/* Prints each line of text on stderr after prefix. */
static void print_lines(const char *prefix, const char *text)
{
    while (*text) {
        size_t n = strcspn(text, "\n");
        fprintf(stderr, "%s%.*s\n", prefix, (int)n, text);
        text += n + (text[n] == '\n');
    }
}

/* Applies the selection options. A selection of nothing stops the command (exit 2) with what
 * each value missed and the nearest value that would not have; a value that matched nothing in a
 * selection that is not empty is a warning. Returns COMMANDS_GO_ON, or the exit code. */
static int select_scenarios(struct cli *c, struct loaded *l)
{
    struct suite *s = &l->suite;
    size_t would = 0;
    for (size_t i = 0; i < s->count; i++)
        would += (size_t)selection_keeps(s->items[i], &c->suite);
    struct oms_buf why;
    oms_buf_init(&why, 0);
    selection_misses(s->items, s->count, &c->suite, l->rules, &why);
    if (would == 0 && why.len == 0)
        selection_explain(s->items, s->count, &c->suite, &why);
    int code = -1;
    if (would == 0) {
        print_lines("refund-harness: ", oms_buf_str(&why));
        fprintf(stderr,
                "refund-harness: nothing selected of the %zu scenario(s) found; nothing "
                "was run\n",
                s->count);
        code = COMMANDS_USAGE;
    } else {
        print_lines("refund-harness: warning: ", oms_buf_str(&why));
        suite_select(s, &c->suite);
        if (s->count == 0)
            fprintf(stderr,
                    "refund-harness: shard %u/%u is empty: the selection has %zu "
                    "scenario(s)\n",
                    c->suite.shard_index, c->suite.shard_count, would);
    }
    oms_buf_cleanup(&why);
    return code;
}

/* Reads --known-failures FILE; an id no scenario of the paths has is a warning (the list may
 * cover a larger suite). Returns COMMANDS_GO_ON, or the exit code (2: the file is invalid). */
static int load_known(const char *file, const struct loaded *l, struct known_list *out)
{
    struct schema *schema = NULL;
    struct oms_err errs[16];
    char schema_file[PATH_MAX];
    if (data_path("spec/known-failures.schema.json", schema_file, sizeof(schema_file)) != 0)
        return COMMANDS_ENV;
    if (schema_load(schema_file, &schema, &errs[0]) != 0) {
        print_err(&errs[0]);
        return COMMANDS_ENV;
    }
    size_t n = known_load(file, schema, out, errs, 16);
    schema_destroy(schema);
    for (size_t i = 0; i < n && i < 16; i++) {
        char text[2048];
        fprintf(stderr, "invalid  %s\n", oms_err_format(&errs[i], text, sizeof(text)));
    }
    if (n)
        return COMMANDS_USAGE;
    for (size_t i = 0; i < out->count; i++) {
        const struct known_failure *k = &out->items[i];
        struct suggest s;
        suggest_init(&s, k->id);
        int found = 0;
        for (size_t j = 0; j < l->suite.count && !found; j++) {
            found = strcmp(l->suite.items[j]->id, k->id) == 0;
            suggest_consider(&s, l->suite.items[j]->id);
        }
        if (found)
            continue;
        fprintf(stderr,
                "refund-harness: warning: %s:%d:%d: known failure \"%s\" is the id of no "
                "scenario here",
                out->file, k->line, k->column, k->id);
        if (s.best)
            fprintf(stderr, "; did you mean \"%s\"?", s.best);
        fputc('\n', stderr);
    }
    return COMMANDS_GO_ON;
}

/* Loads and selects for run and list. Returns COMMANDS_GO_ON, or the exit code to stop with. */
static int load_selected(struct cli *c, struct loaded *l)
{
    int code = load(c, 1, l);
    if (code >= 0)
        return code;
    if (l->bad) {
        fprintf(stderr, "refund-harness: %zu invalid scenario file(s); nothing was run\n", l->bad);
        return COMMANDS_USAGE;
    }
    return select_scenarios(c, l);
}

void commands_rule_lines(const json_t *catalogue, const struct suite *s, struct oms_buf *out)
{
    size_t i;
    json_t *rule;
    json_array_foreach(catalogue, i, rule)
    {
        const char *id = json_string_value(json_object_get(rule, "id"));
        size_t count = 0;
        for (size_t k = 0; id && k < s->count; k++)
            for (size_t r = 0; r < s->items[k]->rule_count; r++)
                count += strcmp(s->items[k]->rules[r], id) == 0;
        const char *title = json_string_value(json_object_get(rule, "title"));
        oms_buf_printf(out, "%s\t%zu\t%s", id ? id : "?", count, title ? title : "");
        const json_t *basis = json_object_get(rule, "basis");
        if (json_is_string(basis)) {
            oms_buf_printf(out, "\t%s", json_string_value(basis));
        } else if (json_is_array(basis) && json_is_string(json_array_get(basis, 0))) {
            size_t b;
            json_t *part;
            json_array_foreach(basis, b, part)
            {
                oms_buf_printf(out, "%s%s", b ? ", " : "\t", json_string_value(part));
            }
        } else if (basis) {
            char *text = oms_json_dumps(basis);
            oms_buf_printf(out, "\t%s", text);
            free(text);
        }
        oms_buf_puts(out, "\n");
    }
}

int commands_list(struct cli *c)
{
    struct loaded l = {0};
    int code = load_selected(c, &l);
    if (code < 0 && c->rules) {
        struct oms_buf lines;
        oms_buf_init(&lines, 0);
        commands_rule_lines(l.rules, &l.suite, &lines);
        fputs(oms_buf_str(&lines), stdout);
        oms_buf_cleanup(&lines);
        code = COMMANDS_PASS;
    } else if (code < 0) {
        for (size_t i = 0; i < l.suite.count; i++) {
            const struct scenario *s = l.suite.items[i];
            printf("%s\t%s\t", s->file, s->name);
            for (size_t r = 0; r < s->rule_count; r++)
                printf("%s%s", r ? "," : "", s->rules[r]);
            printf("\t%s\n", s->id);
        }
        code = COMMANDS_PASS;
    }
    loaded_cleanup(&l);
    return code;
}

static int strict_check(const struct result_run *run)
{
    json_t *cov = report_coverage(run);
    int missing = 0;
    const char *rule;
    json_t *names;
    json_object_foreach(cov, rule, names)
    {
        if (json_array_size(names) == 0) {
            fprintf(stderr, "strict: SPEC rule %s is exercised by no selected scenario\n", rule);
            missing = 1;
        }
    }
    json_decref(cov);
    return missing;
}

/* The verdict of a finished run, the account of it (diagnose.h), --strict and the reports. */
static int finish_run(struct cli *c, struct result_run *run)
{
    int code = run->failed || run->errors || run->fixed ? COMMANDS_FAILED : COMMANDS_PASS;
    for (size_t k = 0; k < run->count; k++)
        if (run->scenarios[k].environment)
            code = COMMANDS_ENV;
    int uncovered = c->strict && strict_check(run);
    if (uncovered && code == COMMANDS_PASS)
        code = COMMANDS_FAILED;
    diagnose_print(run, code, uncovered, c->suite.known ? c->suite.known->file : NULL, stdout);
    if (c->no_reports)
        return code;
    struct oms_err err = {0};
    if (report_write_all(run, c->report_dir, &err) != 0) {
        print_err(&err);
        if (code == COMMANDS_PASS)
            code = COMMANDS_ENV;
    } else if (c->suite.verbosity > 0) {
        printf("reports: %s/junit.xml, %s/results.json, %s/report.html\n", c->report_dir,
               c->report_dir, c->report_dir);
    }
    return code;
}

int commands_run(struct cli *c)
{
    if (c->color < 0)
        c->color = isatty(STDOUT_FILENO) && !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
    c->suite.color = c->color;
    c->suite.progress = isatty(STDOUT_FILENO) && c->suite.verbosity > 0;
    struct loaded l = {0};
    struct known_list known = {0};
    int code = load(c, 1, &l);
    if (code < 0 && l.bad) {
        fprintf(stderr, "refund-harness: %zu invalid scenario file(s); nothing was run\n", l.bad);
        code = COMMANDS_USAGE;
    }
    if (code < 0 && c->known_failures)
        code = load_known(c->known_failures, &l, &known);
    if (code < 0) {
        c->suite.known = c->known_failures ? &known : NULL;
        code = select_scenarios(c, &l);
    }
    if (code < 0) {
        struct result_run run;
        result_run_init(&run);
        run.rules = json_incref(l.rules);
        struct oms_err err = {0};
        if (suite_run(&l.suite, &c->suite, &run, &err) != 0) {
            char text[2048];
            fprintf(stderr, "refund-harness: environment failure: %s\n",
                    oms_err_format(&err, text, sizeof(text)));
            code = COMMANDS_ENV;
        } else {
            code = finish_run(c, &run);
        }
        result_run_cleanup(&run);
    }
    known_cleanup(&known);
    loaded_cleanup(&l);
    return code;
}

int commands_serve(struct cli *c)
{
    /* Before any thread starts, so Ctrl-C is waited for in this thread alone. */
    oms_signal_block_termination();
    struct schema *schema = NULL;
    json_t *rules = NULL;
    if (load_spec(&schema, &rules) != 0)
        return COMMANDS_ENV;
    int code = serve_run(&c->serve, schema, rules);
    schema_destroy(schema);
    json_decref(rules);
    return code;
}

int commands_journal(struct cli *c)
{
    return serve_journal(c->url, c->serve.server.fixture_token, c->json);
}

int commands_explore(struct cli *c)
{
    /* The options explore shares with run live in suite; its own in c->explore. */
    struct explore_options *o = &c->explore;
    o->target_url = c->suite.target_url;
    o->target_cmd = c->suite.target_cmd;
    o->token = c->suite.token;
    o->fixture_token = c->suite.fixture_token;
    o->profile_path = c->profile_path;
    o->receivers = c->suite.receivers;
    o->jobs = c->suite.jobs;
    o->quiet = c->suite.verbosity == 0;
    o->no_reports = c->no_reports;
    o->strict_reference = c->suite.strict_reference;
    if (explore_options_check(o) != 0)
        return COMMANDS_USAGE;
    char spec[PATH_MAX];
    if (data_path("spec", spec, sizeof(spec)) != 0)
        return COMMANDS_ENV;
    return explore_run(o, spec);
}
