/* cli: subcommand and option tables, parsing with suggestions, per-subcommand help. */
#include "cli.h"

#include "commands.h"
#include "explore.h"
#include "oms_alloc.h"
#include "oms_cli.h"
#include "oms_error.h"
#include "oms_time.h"
#include "selection.h"
#include "suggest.h"
#include "oms_limits.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef REFUND_VERSION
#define REFUND_VERSION "0.0.0"
#endif

#define ALL_SCENARIO_COMMANDS (CLI_ON(CLI_RUN) | CLI_ON(CLI_VALIDATE) | CLI_ON(CLI_LIST))
#define SELECTING             (CLI_ON(CLI_RUN) | CLI_ON(CLI_LIST))
#define RUN                   CLI_ON(CLI_RUN)
#define EXPLORE               CLI_ON(CLI_EXPLORE)

static const struct cli_command COMMANDS[] = {
    {CLI_RUN, "run", commands_run, "[options] [FILE|DIR...]", "run scenarios, write reports",
     "Runs the scenarios (the bundled suite without FILE|DIR) against the embedded reference "
     "implementation, or against the system at --target URL, with recording Omnitron and webhook "
     "receivers; prints one line per scenario and a summary, and writes junit.xml, results.json "
     "and report.html."},
    {CLI_VALIDATE, "validate", commands_validate, "[options] [FILE|DIR...]",
     "check scenario files without running them",
     "Checks scenario files without running them: the scenario schema, the rule catalogue, "
     "unique ids, and the values that name things of the profile (statuses, transitions, "
     "lifecycle actions, event types)."},
    {CLI_LIST, "list", commands_list, "[options] [FILE|DIR...]", "print the selected scenarios",
     "Prints the selected scenarios, one per line: file, name, rules and id, tab-separated; with "
     "--rules, the rule catalogue with the number of selected scenarios exercising each rule."},
    {CLI_SERVE, "serve", commands_serve, "[options]",
     "run a sandbox (reference OMS and receivers) for an ERP",
     "Runs the reference OMS and both recording receivers as a sandbox for an ERP to call, "
     "until Ctrl-C, and prints their URLs and the token."},
    {CLI_EXPLORE, "explore", commands_explore, "[options]",
     "generate cases, compare with the reference, shrink what differs",
     "Generates cases from a seed, runs each on the embedded reference and, with --target, on the "
     "system under test, compares them on what the contract decides, and shrinks each kind of "
     "difference to a scenario file that run replays (docs/explore.md). Without --target the "
     "reference is checked against the invariants alone. The seed is printed first; the same seed "
     "gives the same cases."},
    {CLI_JOURNAL, "journal", commands_journal, "[options]",
     "show what a sandbox received, did and sent",
     "Shows what a running sandbox received (commands, with the error answered to each refused "
     "one), did (transitions) and sent (Omnitron calls and webhooks, with attempts and answers)."},
};

/* ---- setters ---- */

#define STRING_SETTER(fn, field)                \
    static int fn(struct cli *c, const char *v) \
    {                                           \
        c->field = v;                           \
        return 0;                               \
    }
#define FLAG_SETTER(fn, field, value)           \
    static int fn(struct cli *c, const char *v) \
    {                                           \
        (void)v;                                \
        c->field = value;                       \
        return 0;                               \
    }

STRING_SETTER(set_report_dir, report_dir)
STRING_SETTER(set_filter, suite.filter)
STRING_SETTER(set_profile, profile_path)
STRING_SETTER(set_known_failures, known_failures)
STRING_SETTER(set_target, suite.target_url)
STRING_SETTER(set_target_cmd, suite.target_cmd)
STRING_SETTER(set_token, suite.token)
STRING_SETTER(set_omnitron, suite.receivers.omnitron_url)
STRING_SETTER(set_omnitron_control, suite.receivers.omnitron_control_url)
STRING_SETTER(set_webhook, suite.receivers.webhook_url)
STRING_SETTER(set_webhook_control, suite.receivers.webhook_control_url)
STRING_SETTER(set_url, url)
STRING_SETTER(set_bind, serve.server.bind)
STRING_SETTER(set_db, serve.db_path)
STRING_SETTER(set_given, serve.given_file)
FLAG_SETTER(set_no_reports, no_reports, 1)
FLAG_SETTER(set_strict, strict, 1)
FLAG_SETTER(set_strict_reference, suite.strict_reference, 1)
FLAG_SETTER(set_fail_fast, suite.fail_fast, 1)
FLAG_SETTER(set_list, list, 1)
FLAG_SETTER(set_rules, rules, 1)
FLAG_SETTER(set_quiet, suite.verbosity, 0)
FLAG_SETTER(set_verbose, suite.verbosity, 2)
FLAG_SETTER(set_color, color, 1)
FLAG_SETTER(set_no_color, color, 0)
FLAG_SETTER(set_json, json, 1)

static void push(char ***list, size_t *n, const char *v)
{
    *list = oms_xrealloc(*list, (*n + 1) * sizeof(char *));
    (*list)[(*n)++] = (char *)v;
}

static int set_tag(struct cli *c, const char *v)
{
    push(&c->suite.tags, &c->suite.tag_count, v);
    return 0;
}

static int set_rule(struct cli *c, const char *v)
{
    push(&c->suite.rules, &c->suite.rule_count, v);
    return 0;
}

static int set_id(struct cli *c, const char *v)
{
    push(&c->suite.ids, &c->suite.id_count, v);
    return 0;
}

static int set_exclude(struct cli *c, const char *v)
{
    enum selection_kind kind;
    const char *name;
    char why[160];
    if (selection_parse_exclude(v, &kind, &name, why, sizeof(why)) != 0) {
        fprintf(stderr, "refund-harness: --exclude \"%s\": %s\n", v, why);
        return OMS_E_INVAL;
    }
    push(&c->suite.excludes, &c->suite.exclude_count, v);
    return 0;
}

/* "30s", "500ms", "2m", "1h", or seconds alone ("30"), from 1 ms to max_ms, into *ms. Returns 0,
 * or OMS_E_INVAL after saying what flag expected. */
static int parse_duration(const char *flag, const char *v, int64_t max_ms, int64_t *ms)
{
    static const struct {
        const char *unit;
        long ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"", 1000}};
    size_t digits = strspn(v, "0123456789");
    char number[16] = "";
    long n = 0;
    if (digits > 0 && digits < sizeof(number)) {
        memcpy(number, v, digits);
        for (size_t i = 0; i < OMS_ARRAY_LEN(units); i++)
            if (strcmp(v + digits, units[i].unit) == 0 &&
                oms_cli_int(number, 0, max_ms / units[i].ms, &n) == 0 && n > 0) {
                *ms = (int64_t)n * units[i].ms;
                return 0;
            }
    }
    fprintf(stderr,
            "refund-harness: %s expects a duration such as 30s, 500ms or 2m (at most %lld s), got "
            "\"%s\"\n",
            flag, (long long)(max_ms / 1000), v);
    return OMS_E_INVAL;
}

static int set_wait(struct cli *c, const char *v)
{
    int64_t ms = 0;
    int rc = parse_duration("--wait-for-target", v, OMS_MAX_OPTION_MS, &ms);
    c->suite.wait_ms = (long)ms;
    return rc;
}

/* ---- explore's own ---- */

static int set_out(struct cli *c, const char *v)
{
    c->explore.out_dir = v;
    return 0;
}

static int set_replay(struct cli *c, const char *v)
{
    c->explore.replay = v;
    return 0;
}

static int set_time(struct cli *c, const char *v)
{
    return parse_duration("--time", v, INT64_C(7) * 86400000, &c->explore.time_ms);
}

static int set_shrink_time(struct cli *c, const char *v)
{
    return parse_duration("--shrink-time", v, OMS_MAX_OPTION_MS, &c->explore.shrink.max_ms);
}

/* A count from min to max, for flag. */
static int count(const char *flag, const char *v, long min, long max, long *out)
{
    if (oms_cli_int(v, min, max, out) == 0)
        return 0;
    fprintf(stderr, "refund-harness: %s expects %ld..%ld, got \"%s\"\n", flag, min, max, v);
    return OMS_E_INVAL;
}

/* run's crash moments and explore's cases. Below 2^53, so a seed survives JSON reports and the
 * tools that read them. */
static int set_seed(struct cli *c, const char *v)
{
    long n = 0;
    if (count("--seed", v, 0, (1L << 53) - 1, &n) != 0)
        return OMS_E_INVAL;
    c->suite.seed = c->explore.seed = (uint64_t)n;
    c->seed_given = c->explore.seed_given = 1;
    return 0;
}

static int set_cases(struct cli *c, const char *v)
{
    long n = 0;
    int rc = count("--cases", v, 1, 100000000, &n);
    c->explore.cases = (uint64_t)n;
    c->explore.cases_given = 1;
    return rc;
}

static int set_steps(struct cli *c, const char *v)
{
    long n = 0;
    int rc = count("--steps", v, 1, 100, &n);
    c->explore.steps = (unsigned)n;
    return rc;
}

static int set_crash_rate(struct cli *c, const char *v)
{
    long n = 0;
    int rc = count("--crash-rate", v, 0, 100, &n);
    c->explore.crash_percent = (unsigned)n;
    c->explore.crash_given = 1;
    return rc;
}

static int set_shrink_candidates(struct cli *c, const char *v)
{
    long n = 0;
    int rc = count("--shrink-candidates", v, 1, 1000000, &n);
    c->explore.shrink.max_candidates = (size_t)n;
    return rc;
}

/* The --target's fixture token, and the sandbox's (serve), and the one journal sends. */
static int set_fixture_token(struct cli *c, const char *v)
{
    c->suite.fixture_token = v;
    c->serve.server.fixture_token = v;
    return 0;
}

static int set_request_timeout(struct cli *c, const char *v)
{
    long n = 0;
    int rc = count("--request-timeout", v, 1, OMS_MAX_WAIT_MS, &n);
    c->serve.server.limits.request_timeout_ms = n;
    return rc;
}

static int set_idle_timeout(struct cli *c, const char *v)
{
    long n = 0;
    int rc = count("--idle-timeout", v, 1, OMS_MAX_WAIT_MS, &n);
    c->serve.server.limits.idle_timeout_ms = n;
    return rc;
}

static int set_max_connections(struct cli *c, const char *v)
{
    long n = 0;
    int rc = count("--max-connections", v, 1, 100000, &n);
    c->serve.server.limits.max_connections = (unsigned)n;
    return rc;
}

static int set_max_client_connections(struct cli *c, const char *v)
{
    long n = 0;
    int rc = count("--max-client-connections", v, 1, 100000, &n);
    c->serve.server.limits.max_client_connections = (unsigned)n;
    return rc;
}

static int set_port(struct cli *c, const char *v)
{
    long n;
    if (oms_cli_int(v, 0, 65535, &n) != 0) {
        fprintf(stderr, "refund-harness: --port expects 0..65535, got \"%s\"\n", v);
        return OMS_E_INVAL;
    }
    c->serve.port = (unsigned)n;
    return 0;
}

static int set_jobs(struct cli *c, const char *v)
{
    long n;
    if (oms_cli_int(v, 1, 64, &n) != 0) {
        fprintf(stderr, "refund-harness: --jobs expects 1..64, got \"%s\"\n", v);
        return OMS_E_INVAL;
    }
    c->suite.jobs = (unsigned)n;
    return 0;
}

static int set_shard(struct cli *c, const char *v)
{
    /* oms_cli_int, not sscanf("%u"): "%u" takes "-3" and wraps numbers past UINT_MAX. */
    char first[24] = "";
    const char *slash = strchr(v, '/');
    long si = 0, sn = 0;
    if (slash && (size_t)(slash - v) < sizeof(first))
        memcpy(first, v, (size_t)(slash - v));
    if (!slash || oms_cli_int(first, 1, 1000000, &si) != 0 ||
        oms_cli_int(slash + 1, 1, 1000000, &sn) != 0 || si > sn) {
        fprintf(stderr, "refund-harness: --shard expects I/N with 1 <= I <= N, got \"%s\"\n", v);
        return OMS_E_INVAL;
    }
    c->suite.shard_index = (unsigned)si;
    c->suite.shard_count = (unsigned)sn;
    return 0;
}

/* ---- the option table ---- */

static const struct cli_option OPTIONS[] = {
    {"--target", NULL, "URL", RUN | EXPLORE,
     "check the system at URL (it implements the command and the fixture protocol, "
     "docs/fixture-protocol.md) instead of the embedded reference; the receivers still run here",
     set_target},
    {"--target-cmd", NULL, "CMD", RUN | EXPLORE,
     "start the system under test with the shell command CMD ({port}: a free port kept across "
     "restarts; {dir}: a private directory kept across restarts), wait for its handshake, and let "
     "crash steps kill it (SIGKILL) and start it again; --target, if given, is its URL with "
     "{port} (default http://127.0.0.1:{port})",
     set_target_cmd},
    {"--wait-for-target", NULL, "DURATION", RUN,
     "with --target: while the target is starting (nothing answers yet, or 502, 503 or 504), "
     "try its handshake again every 250 ms for up to DURATION (30s, 500ms, 2m) before giving up "
     "with exit 3",
     set_wait},
    {"--token", NULL, "T", RUN | EXPLORE,
     "the API token sent with commands (default: the embedded reference's; a --target whose "
     "profile hides its tokens needs it)",
     set_token},
    {"--fixture-token", NULL, "T", RUN | CLI_ON(CLI_SERVE) | CLI_ON(CLI_JOURNAL) | EXPLORE,
     "the fixture token, sent as X-Fixture-Token to the --target and to receivers you run "
     "(run), taken by the sandbox's three servers (serve), sent to the sandbox (journal); "
     "default: $REFUND_FIXTURE_TOKEN, else (serve) a random one printed once",
     set_fixture_token},
    {"--strict-reference", NULL, NULL, RUN | EXPLORE,
     "with --target: a difference under a reference-only rule (docs/spec.md, R-n: error wording, "
     "check order, uuid scope, payload extras, lenient parsing) fails instead of being noted",
     set_strict_reference},
    {"--omnitron", NULL, "URL", RUN | EXPLORE,
     "with --target: an Omnitron receiver you run (mock-omnitron) instead of the embedded one; "
     "goes with --webhook",
     set_omnitron},
    {"--omnitron-control", NULL, "URL", RUN | EXPLORE,
     "the control listener of that Omnitron receiver (default: the --omnitron URL)",
     set_omnitron_control},
    {"--webhook", NULL, "URL", RUN | EXPLORE,
     "with --target: a webhook receiver you run (mock-webhook); goes with --omnitron", set_webhook},
    {"--webhook-control", NULL, "URL", RUN | EXPLORE,
     "the control listener of that webhook receiver (default: the --webhook URL)",
     set_webhook_control},
    {"--report-dir", NULL, "DIR", RUN,
     "write junit.xml, results.json and report.html into DIR (default: reports)", set_report_dir},
    {"--no-reports", NULL, NULL, RUN | EXPLORE, "write no report files", set_no_reports},
    {"--filter", NULL, "GLOB", SELECTING,
     "only scenarios whose name or file matches the shell pattern GLOB", set_filter},
    {"--tag", NULL, "TAG", SELECTING, "only scenarios with TAG (repeatable: any of them)", set_tag},
    {"--rule", NULL, "ID", SELECTING,
     "only scenarios exercising the SPEC rule ID, in any case (repeatable: any of them)", set_rule},
    {"--id", NULL, "ID", SELECTING, "only the scenario with this id, in any case (repeatable)",
     set_id},
    {"--exclude", NULL, "WHAT", SELECTING,
     "leave out scenarios WHAT names (repeatable): tag:TAG, rule:ID, id:ID or path:PATH (a file "
     "or a folder); without a prefix, a rule id (C-11) is a rule, a value with a / or ending in "
     ".json a path, and any other word an id or a tag",
     set_exclude},
    {"--shard", NULL, "I/N", SELECTING,
     "only the I-th of N interleaved shards of the selection (for CI jobs in parallel)", set_shard},
    {"--jobs", "-j", "N", RUN | EXPLORE, "N independent sandboxes in parallel, 1 to 64 (default 1)",
     set_jobs},
    {"--list", NULL, NULL, RUN, "print the selected scenarios instead of running them (as list)",
     set_list},
    {"--rules", NULL, NULL, CLI_ON(CLI_LIST),
     "print the rule catalogue instead: each rule's id, how many selected scenarios exercise it, "
     "its title and, when the catalogue gives one, its basis (tab-separated)",
     set_rules},
    {"--known-failures", NULL, "FILE", RUN,
     "scenarios expected to fail for now (JSON: [{\"id\", \"reason\", \"issue\"}], "
     "spec/known-failures.schema.json): a listed scenario that fails is reported as a known "
     "failure and does not fail the run; one that passes is reported as fixed and fails it",
     set_known_failures},
    {"--fail-fast", NULL, NULL, RUN, "start no new scenario after one does not pass",
     set_fail_fast},
    {"--strict", NULL, NULL, RUN,
     "fail when a SPEC rule of the catalogue is exercised by no selected scenario", set_strict},
    {"--profile", NULL, "FILE", ALL_SCENARIO_COMMANDS | CLI_ON(CLI_SERVE) | EXPLORE,
     "the installation profile of the embedded reference (default: profiles/default.json)",
     set_profile},
    {"--quiet", "-q", NULL, RUN | EXPLORE, "print only scenarios that do not pass, and the summary",
     set_quiet},
    {"--verbose", "-v", NULL, RUN,
     "also print every check of each scenario that does not pass, with expected and actual",
     set_verbose},
    {"--color", NULL, NULL, RUN,
     "colour the output even when it is not a terminal (default: only on a terminal, and never "
     "with NO_COLOR set)",
     set_color},
    {"--no-color", NULL, NULL, RUN, "never colour the output", set_no_color},
    {"--port", NULL, "P", CLI_ON(CLI_SERVE),
     "the sandbox OMS's port (default 8000; 0: any free port)", set_port},
    {"--bind", NULL, "ADDR", CLI_ON(CLI_SERVE),
     "the address the sandbox listens on (default 127.0.0.1; another address is warned about: "
     "see docs/vendor-guide.md, exposing the sandbox)",
     set_bind},
    {"--request-timeout", NULL, "MS", CLI_ON(CLI_SERVE),
     "a whole request (head and body) must arrive within MS, however it trickles: 408 (default "
     "30000)",
     set_request_timeout},
    {"--idle-timeout", NULL, "MS", CLI_ON(CLI_SERVE),
     "a kept-alive connection with no request in progress closes after MS (default 30000)",
     set_idle_timeout},
    {"--max-connections", NULL, "N", CLI_ON(CLI_SERVE),
     "connections open at once per listener; the next gets 429 (default 1024)",
     set_max_connections},
    {"--max-client-connections", NULL, "N", CLI_ON(CLI_SERVE),
     "connections open at once from one client address; the next gets 429 (default 128)",
     set_max_client_connections},
    {"--db", NULL, "FILE", CLI_ON(CLI_SERVE),
     "keep the sandbox's state in the SQLite database FILE across restarts (default: in memory)",
     set_db},
    {"--given", NULL, "FILE", CLI_ON(CLI_SERVE),
     "load the initial state of a scenario file's given (its packages, locations, "
     "subscriptions, receiver behaviour)",
     set_given},
    {"--url", NULL, "URL", CLI_ON(CLI_JOURNAL),
     "the sandbox to ask (default http://127.0.0.1:8000)", set_url},
    {"--json", NULL, NULL, CLI_ON(CLI_JOURNAL), "print one JSON document instead of tables",
     set_json},
    {"--seed", NULL, "S", RUN | EXPLORE,
     "the run's seed, 0 to 2^53-1 (default: from the clock): explore's cases (printed first; the "
     "same seed gives the same cases), run's random crash moments (in the rerun lines)",
     set_seed},
    {"--cases", NULL, "N", EXPLORE, "explore: cases to run (default 200)", set_cases},
    {"--time", NULL, "DURATION", EXPLORE,
     "explore: run cases for DURATION (60s, 2m, 500ms; at most 7 days) instead of a number of them",
     set_time},
    {"--steps", NULL, "K", EXPLORE, "explore: at most K steps per case, 1 to 100 (default 8)",
     set_steps},
    {"--out", NULL, "DIR", EXPLORE,
     "explore: write the shrunk case files (and the reports) into DIR (default reports/explore)",
     set_out},
    {"--replay", NULL, "FILE", EXPLORE,
     "explore: run the case of a scenario file (its expectations derived anew) instead of "
     "generating cases, and shrink it when it differs",
     set_replay},
    {"--crash-rate", NULL, "PERCENT", EXPLORE,
     "explore: the share of cases, 0 to 100, with a crash step - kill -9 now or inside a burst "
     "of commands, restart, check nothing was lost (default 10; only where the target can be "
     "killed: --target-cmd, or the embedded reference)",
     set_crash_rate},
    {"--shrink-candidates", NULL, "N", EXPLORE,
     "explore: at most N candidates tried to shrink one difference (default 2000)",
     set_shrink_candidates},
    {"--shrink-time", NULL, "DURATION", EXPLORE,
     "explore: at most DURATION spent shrinking one difference (default 60s)", set_shrink_time},
};

/* --help and --version are taken by every subcommand and handled before the table. */
#define HELP_OPTION    "--help"
#define VERSION_OPTION "--version"

const struct cli_command *cli_commands(size_t *count)
{
    *count = OMS_ARRAY_LEN(COMMANDS);
    return COMMANDS;
}

const struct cli_option *cli_options(size_t *count)
{
    *count = OMS_ARRAY_LEN(OPTIONS);
    return OPTIONS;
}

/* ---- help ---- */

/* Writes text wrapped at 79 columns, every line indented by indent, the first line continuing
 * from column `at`. */
static void wrap(FILE *out, const char *text, int indent, int at)
{
    int col = at;
    const char *p = text;
    while (*p) {
        size_t word = strcspn(p, " ");
        if (col > indent && col + 1 + (int)word > 79) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        } else if (col > indent) {
            fputc(' ', out);
            col++;
        }
        fwrite(p, 1, word, out);
        col += (int)word;
        p += word;
        while (*p == ' ')
            p++;
    }
    fputc('\n', out);
}

static void option_help(FILE *out, const struct cli_option *o)
{
    char head[64];
    snprintf(head, sizeof(head), "  %s%s%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "",
             o->alias ? ", " : "", o->alias ? o->alias : "");
    fputs(head, out);
    int col = (int)strlen(head);
    if (col >= 24) {
        fprintf(out, "\n%24s", "");
        col = 24;
    } else {
        fprintf(out, "%*s", 24 - col, "");
        col = 24;
    }
    wrap(out, o->help, 24, col);
}

static const char EXIT_STATUS[] =
    "exit status: 0 all passed, 1 a scenario failed, 2 invalid scenario, nothing selected or "
    "usage, 3 the environment failed (port, server start, target, reports).";

void cli_help(const struct cli_command *cmd, FILE *out)
{
    if (!cmd) {
        fputs("usage: refund-harness COMMAND [options] [FILE|DIR...]\n\n", out);
        wrap(out,
             "Runs JSON scenarios for the Akinon OMS Package Packed for Refund command against "
             "the embedded reference implementation (or --target URL), with recording Omnitron "
             "and webhook receivers, and writes reports.",
             0, 0);
        fputs("\ncommands:\n", out);
        for (size_t i = 0; i < OMS_ARRAY_LEN(COMMANDS); i++) {
            fprintf(out, "  %-10s", COMMANDS[i].name);
            wrap(out, COMMANDS[i].summary, 12, 12);
        }
        fputc('\n', out);
        wrap(out,
             "'refund-harness COMMAND --help' lists the options of one command; 'man -l "
             "docs/refund-harness.1' describes them all.",
             0, 0);
        fputc('\n', out);
        wrap(out, EXIT_STATUS, 0, 0);
        return;
    }
    fprintf(out, "usage: refund-harness %s %s\n\n", cmd->name, cmd->args);
    wrap(out, cmd->help, 0, 0);
    fputs("\noptions:\n", out);
    for (size_t i = 0; i < OMS_ARRAY_LEN(OPTIONS); i++)
        if (OPTIONS[i].commands & CLI_ON(cmd->id))
            option_help(out, &OPTIONS[i]);
    fprintf(out, "  %-22s%s\n  %-22s%s\n\n", HELP_OPTION ", -h", "this help", VERSION_OPTION,
            "the version");
    wrap(out, EXIT_STATUS, 0, 0);
}

/* ---- parsing ---- */

static const struct cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < OMS_ARRAY_LEN(COMMANDS); i++)
        if (strcmp(COMMANDS[i].name, name) == 0)
            return &COMMANDS[i];
    return NULL;
}

static const struct cli_option *find_option(const char *name, size_t len)
{
    for (size_t i = 0; i < OMS_ARRAY_LEN(OPTIONS); i++) {
        const struct cli_option *o = &OPTIONS[i];
        if ((strlen(o->name) == len && strncmp(o->name, name, len) == 0) ||
            (o->alias && strlen(o->alias) == len && strncmp(o->alias, name, len) == 0))
            return o;
    }
    return NULL;
}

/* "run, list" for the subcommands of mask, into out. */
static char *command_names(unsigned mask, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < OMS_ARRAY_LEN(COMMANDS) && n < size; i++)
        if (mask & CLI_ON(COMMANDS[i].id))
            n += (size_t)snprintf(out + n, size - n, "%s%s", n ? ", " : "", COMMANDS[i].name);
    return out;
}

static void unknown_option(const struct cli_command *cmd, const char *arg, size_t len)
{
    char word[128];
    snprintf(word, sizeof(word), "%.*s", (int)(len < 100 ? len : 100), arg);
    struct suggest s;
    suggest_init(&s, word);
    for (size_t i = 0; i < OMS_ARRAY_LEN(OPTIONS); i++)
        suggest_consider(&s, OPTIONS[i].name);
    suggest_consider(&s, HELP_OPTION);
    suggest_consider(&s, VERSION_OPTION);
    char text[256];
    snprintf(text, sizeof(text), "refund-harness: unknown option %s", word);
    suggest_append(&s, text, sizeof(text));
    const struct cli_option *o = s.best ? find_option(s.best, strlen(s.best)) : NULL;
    char names[96];
    if (o && !(o->commands & CLI_ON(cmd->id)))
        fprintf(stderr, "%s; %s is an option of %s, not %s\n", text, o->name,
                command_names(o->commands, names, sizeof(names)), cmd->name);
    else
        fprintf(stderr, "%s; see refund-harness %s --help\n", text, cmd->name);
}

/* Handles one option at argv[*i]; may consume the next argument as its value. Returns 0, 1 when
 * help or the version was printed, or OMS_E_INVAL after printing a usage error. */
static int parse_option(int argc, char **argv, int *i, struct cli *c)
{
    const char *a = argv[*i];
    const char *eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
    size_t len = eq ? (size_t)(eq - a) : strlen(a);
    if ((len == 6 && strncmp(a, HELP_OPTION, 6) == 0) || strcmp(a, "-h") == 0) {
        cli_help(c->command, stdout);
        return 1;
    }
    if (strcmp(a, VERSION_OPTION) == 0) {
        printf("refund-harness %s\n", REFUND_VERSION);
        return 1;
    }
    const struct cli_option *o = find_option(a, len);
    if (!o) {
        unknown_option(c->command, a, len);
        return OMS_E_INVAL;
    }
    if (!(o->commands & CLI_ON(c->command->id))) {
        char names[96];
        fprintf(stderr, "refund-harness: %s is not an option of %s (it is one of %s)\n", o->name,
                c->command->name, command_names(o->commands, names, sizeof(names)));
        return OMS_E_INVAL;
    }
    const char *value = NULL;
    if (o->arg && eq) {
        value = eq + 1;
    } else if (o->arg) {
        if (*i + 1 >= argc) {
            fprintf(stderr, "refund-harness: %s needs a value (%s %s)\n", a, o->name, o->arg);
            return OMS_E_INVAL;
        }
        value = argv[++*i];
    } else if (eq) {
        fprintf(stderr, "refund-harness: %s takes no value, got \"%s\"\n", o->name, eq + 1);
        return OMS_E_INVAL;
    }
    return o->set(c, value);
}

/* Checks that hold between options, once all are read. Returns 0 or OMS_E_INVAL (printed). */
static int check_combinations(struct cli *c)
{
    const struct suite_receivers *rv = &c->suite.receivers;
    if ((rv->omnitron_url || rv->webhook_url || rv->omnitron_control_url ||
         rv->webhook_control_url) &&
        (!rv->omnitron_url || !rv->webhook_url || (!c->suite.target_url && !c->suite.target_cmd))) {
        fprintf(stderr, "refund-harness: --omnitron and --webhook go together, with --target or "
                        "--target-cmd\n");
        return OMS_E_INVAL;
    }
    if (c->suite.target_cmd && !c->suite.target_cmd[strspn(c->suite.target_cmd, " \t")]) {
        fprintf(stderr, "refund-harness: --target-cmd expects the command that starts the "
                        "target, got an empty one\n");
        return OMS_E_INVAL;
    }
    if (!c->seed_given)
        c->suite.seed =
            ((uint64_t)oms_time_wall_ms() * 2654435761u ^ (uint64_t)getpid()) & ((1ULL << 53) - 1);
    if (c->suite.target_url && strncmp(c->suite.target_url, "http://", 7) != 0 &&
        strncmp(c->suite.target_url, "https://", 8) != 0) {
        fprintf(stderr, "refund-harness: --target expects an http:// or https:// URL, got \"%s\"\n",
                c->suite.target_url);
        return OMS_E_INVAL;
    }
    if (c->suite.wait_ms && !c->suite.target_url) {
        fprintf(stderr, "refund-harness: --wait-for-target goes with --target (the embedded "
                        "reference is always ready)\n");
        return OMS_E_INVAL;
    }
    if (c->path_count && (c->command->id == CLI_SERVE || c->command->id == CLI_JOURNAL ||
                          c->command->id == CLI_EXPLORE)) {
        fprintf(stderr, "refund-harness: %s takes no FILE or DIR, got \"%s\"\n", c->command->name,
                c->paths[0]);
        return OMS_E_INVAL;
    }
    c->suite.profile_path = c->profile_path;
    c->serve.profile_path = c->profile_path;
    return 0;
}

/* The subcommand in argv[1]; prints the overview or an error when there is none. Returns 0, 1
 * (help or version printed) or OMS_E_INVAL. */
static int parse_command(int argc, char **argv, struct cli *c)
{
    const char *first = argc > 1 ? argv[1] : NULL;
    if (first && (strcmp(first, HELP_OPTION) == 0 || strcmp(first, "-h") == 0)) {
        cli_help(NULL, stdout);
        return 1;
    }
    if (first && strcmp(first, VERSION_OPTION) == 0) {
        printf("refund-harness %s\n", REFUND_VERSION);
        return 1;
    }
    if (!first || first[0] == '-') {
        if (first)
            fprintf(stderr, "refund-harness: the command comes first, before %s\n\n", first);
        cli_help(NULL, stderr);
        return OMS_E_INVAL;
    }
    c->command = find_command(first);
    if (!c->command) {
        struct suggest s;
        suggest_init(&s, first);
        for (size_t i = 0; i < OMS_ARRAY_LEN(COMMANDS); i++)
            suggest_consider(&s, COMMANDS[i].name);
        char text[256];
        snprintf(text, sizeof(text), "refund-harness: unknown command \"%.100s\"", first);
        suggest_append(&s, text, sizeof(text));
        fprintf(stderr, "%s; the commands are run, validate, list, serve and journal\n", text);
        return OMS_E_INVAL;
    }
    return 0;
}

int cli_parse(int argc, char **argv, struct cli *c)
{
    c->color = -1;
    c->report_dir = "reports";
    c->url = "http://127.0.0.1:8000";
    c->suite.verbosity = 1;
    c->suite.jobs = 1;
    c->serve.port = 8000;
    explore_options_init(&c->explore);
    int rc = parse_command(argc, argv, c);
    int options_done = 0;
    for (int i = 2; rc == 0 && i < argc; i++) {
        if (!options_done && strcmp(argv[i], "--") == 0)
            options_done = 1;
        else if (!options_done && argv[i][0] == '-' && argv[i][1])
            rc = parse_option(argc, argv, &i, c);
        else
            push(&c->paths, &c->path_count, argv[i]);
    }
    if (rc == 0)
        rc = check_combinations(c);
    if (rc == 0 && c->list && c->command->id == CLI_RUN)
        c->command = find_command("list");
    return rc;
}

void cli_cleanup(struct cli *c)
{
    free(c->paths);
    free(c->suite.tags);
    free(c->suite.rules);
    free(c->suite.ids);
    free(c->suite.excludes);
    memset(c, 0, sizeof(*c));
}

int cli_main(int argc, char **argv)
{
    struct cli c = {0};
    int rc = cli_parse(argc, argv, &c);
    int code = rc > 0 ? 0 : 2;
    if (rc == 0)
        code = c.command->handler(&c);
    cli_cleanup(&c);
    return code;
}
