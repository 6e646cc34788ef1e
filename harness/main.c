/* refund-harness: the conformance and simulation harness for the Package Packed for Refund
 * command. Exit codes: 0 all passed, 1 a scenario failed, 2 invalid scenario or usage,
 * 3 the environment failed. */
#include "oms_cli.h"
#include "oms_json.h"
#include "oms_log.h"
#include "report.h"
#include "result.h"
#include "scenario.h"
#include "schema.h"
#include "diagnose.h"
#include "serve.h"
#include "suite.h"
#include "oms_signal.h"
#include "oms_time.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef REFUND_SPEC_DIR
#define REFUND_SPEC_DIR "spec"
#endif
#ifndef REFUND_SCENARIO_DIR
#define REFUND_SCENARIO_DIR "scenarios"
#endif
#ifndef REFUND_VERSION
#define REFUND_VERSION "0.0.0"
#endif

enum exit_code { EXIT_PASS = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_ENV = 3 };

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: refund-harness run [options] [FILE|DIR...]\n"
        "       refund-harness validate [FILE|DIR...]\n"
        "       refund-harness list [options] [FILE|DIR...]\n"
        "       refund-harness serve [--port P] [--bind ADDR] [--db FILE] [--given FILE]\n"
        "       refund-harness journal [--url URL] [--json]\n"
        "\n"
        "Runs JSON scenarios for the Akinon OMS Package Packed for Refund command against\n"
        "the embedded reference implementation (or --target URL), with recording Omnitron\n"
        "and webhook receivers, and writes reports. Without FILE|DIR, the bundled\n"
        "scenarios run (%s).\n"
        "\n"
        "serve runs the reference OMS and both receivers as a sandbox for an ERP to call,\n"
        "until Ctrl-C; journal shows what a sandbox received, did and sent.\n"
        "\n"
        "run options:\n"
        "  --target URL       check the system at URL (it implements the command and the\n"
        "                     fixture protocol, docs/fixture-protocol.md) instead of the\n"
        "                     embedded reference; receivers still run here\n"
        "  --target-cmd 'CMD' start the system under test with /bin/sh -c CMD ({port}: a\n"
        "                     free port, {dir}: a private directory, both kept across\n"
        "                     restarts) and check it at http://127.0.0.1:{port} (or\n"
        "                     --target URL with {port}); crash steps kill it with SIGKILL\n"
        "                     and start it again (without it they are skipped)\n"
        "  --seed N           seed of random crash moments (default: from the clock; the\n"
        "                     rerun line of a crash scenario carries it)\n"
        "  --token T          API token for commands (default: the target profile's first)\n"
        "  --strict-reference with --target: differences on reference-only rules (docs/spec.md,\n"
        "                     R-n: wording, check order, uuid scope...) fail instead of\n"
        "                     being noted\n"
        "  --omnitron URL --webhook URL  use receivers you run (mock-omnitron, mock-webhook)\n"
        "                     instead of starting them; --omnitron-control URL and\n"
        "                     --webhook-control URL name their control listeners\n"
        "  --report-dir DIR   write junit.xml, results.json, report.html here (reports)\n"
        "  --no-reports       write no report files\n"
        "  --filter GLOB      only scenarios whose name or file matches GLOB\n"
        "  --tag TAG          only scenarios with TAG (repeatable)\n"
        "  --rule ID          only scenarios exercising SPEC rule ID (repeatable)\n"
        "  --jobs N           N independent sandboxes in parallel (1)\n"
        "  --shard I/N        run the I-th of N interleaved shards\n"
        "  --list             print the selected scenarios instead of running them\n"
        "  --fail-fast        stop after the first scenario that does not pass\n"
        "  --strict           fail when a SPEC rule is exercised by no selected scenario\n"
        "  --profile FILE     profile of the embedded reference (profiles/default.json)\n"
        "  --quiet            print only failures and the summary\n"
        "  --verbose          print every check of scenarios that do not pass\n"
        "  --color, --no-color  force colour on or off (default: on a terminal, and\n"
        "                     never with NO_COLOR set)\n"
        "  --help, --version\n"
        "\n"
        "serve options: --port P (8000; 0 = ephemeral), --bind ADDR (127.0.0.1), --db FILE\n"
        "  (persistent sandbox), --profile FILE, --given FILE (a scenario whose given is\n"
        "  loaded). journal options: --url URL (http://127.0.0.1:8000), --json.\n"
        "\n"
        "exit status: 0 all passed, 1 a scenario failed, 2 invalid scenario or usage,\n"
        "3 the environment failed (port, server start).\n",
        REFUND_SCENARIO_DIR);
}

struct cli {
    const char *command;
    char **paths;
    size_t path_count;
    const char *report_dir;
    int no_reports;
    int strict;
    int color; /* -1 auto */
    int json;
    int list; /* run --list: the same as the list command */
    int seed_given;
    const char *url;
    struct suite_options suite;
    struct serve_options serve;
};

static int push(char ***list, size_t *n, char *v)
{
    *list = realloc(*list, (*n + 1) * sizeof(char *));
    if (!*list)
        abort();
    (*list)[(*n)++] = v;
    return 0;
}

static int parse_args(int argc, char **argv, struct cli *c)
{
    c->color = -1;
    c->report_dir = "reports";
    c->suite.verbosity = 1;
    c->suite.jobs = 1;
    c->serve.port = 8000;
    c->url = "http://127.0.0.1:8000";
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(EXIT_PASS);
        } else if (strcmp(a, "--version") == 0) {
            printf("refund-harness %s\n", REFUND_VERSION);
            exit(EXIT_PASS);
        } else if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            c->suite.verbosity = 0;
        } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            c->suite.verbosity = 2;
        } else if (strcmp(a, "--fail-fast") == 0) {
            c->suite.fail_fast = 1;
        } else if (strcmp(a, "--strict") == 0) {
            c->strict = 1;
        } else if (strcmp(a, "--strict-reference") == 0) {
            c->suite.strict_reference = 1;
        } else if (strcmp(a, "--no-reports") == 0) {
            c->no_reports = 1;
        } else if (strcmp(a, "--color") == 0) {
            c->color = 1;
        } else if (strcmp(a, "--no-color") == 0) {
            c->color = 0;
        } else if (strcmp(a, "--json") == 0) {
            c->json = 1;
        } else if (strcmp(a, "--list") == 0) {
            c->list = 1;
        } else if (a[0] == '-' && !v) {
            fprintf(stderr, "refund-harness: %s needs a value (or is unknown)\n", a);
            return -1;
        } else if (strcmp(a, "--report-dir") == 0) {
            c->report_dir = argv[++i];
        } else if (strcmp(a, "--filter") == 0) {
            c->suite.filter = argv[++i];
        } else if (strcmp(a, "--tag") == 0) {
            push(&c->suite.tags, &c->suite.tag_count, argv[++i]);
        } else if (strcmp(a, "--rule") == 0) {
            push(&c->suite.rules, &c->suite.rule_count, argv[++i]);
        } else if (strcmp(a, "--profile") == 0) {
            c->suite.profile_path = argv[++i];
            c->serve.profile_path = c->suite.profile_path;
        } else if (strcmp(a, "--target") == 0) {
            c->suite.target_url = argv[++i];
        } else if (strcmp(a, "--target-cmd") == 0) {
            c->suite.target_cmd = argv[++i];
        } else if (strcmp(a, "--seed") == 0) {
            /* Below 2^53: a seed survives JSON reports and the tools that read them. */
            char *end = NULL;
            errno = 0;
            unsigned long long seed = strtoull(v, &end, 10);
            if (errno || !end || *end || v[0] == '-' || !v[0] || seed >= (1ULL << 53)) {
                fprintf(stderr, "refund-harness: --seed expects 0..2^53-1, got \"%s\"\n", v);
                return -1;
            }
            c->suite.seed = seed;
            c->seed_given = 1;
            i++;
        } else if (strcmp(a, "--token") == 0) {
            c->suite.token = argv[++i];
        } else if (strcmp(a, "--omnitron") == 0) {
            c->suite.receivers.omnitron_url = argv[++i];
        } else if (strcmp(a, "--omnitron-control") == 0) {
            c->suite.receivers.omnitron_control_url = argv[++i];
        } else if (strcmp(a, "--webhook") == 0) {
            c->suite.receivers.webhook_url = argv[++i];
        } else if (strcmp(a, "--webhook-control") == 0) {
            c->suite.receivers.webhook_control_url = argv[++i];
        } else if (strcmp(a, "--url") == 0) {
            c->url = argv[++i];
        } else if (strcmp(a, "--bind") == 0) {
            c->serve.bind = argv[++i];
        } else if (strcmp(a, "--db") == 0) {
            c->serve.db_path = argv[++i];
        } else if (strcmp(a, "--given") == 0) {
            c->serve.given_file = argv[++i];
        } else if (strcmp(a, "--port") == 0) {
            if (oms_cli_int(v, 0, 65535, &n) != 0) {
                fprintf(stderr, "refund-harness: --port expects 0..65535, got \"%s\"\n", v);
                return -1;
            }
            c->serve.port = (unsigned)n;
            i++;
        } else if (strcmp(a, "--jobs") == 0 || strcmp(a, "-j") == 0) {
            if (oms_cli_int(v, 1, 64, &n) != 0) {
                fprintf(stderr, "refund-harness: --jobs expects 1..64, got \"%s\"\n", v);
                return -1;
            }
            c->suite.jobs = (unsigned)n;
            i++;
        } else if (strcmp(a, "--shard") == 0) {
            /* oms_cli_int, not sscanf("%u"): "%u" takes "-3" and wraps numbers past UINT_MAX. */
            char first[24] = "";
            const char *slash = strchr(v, '/');
            long si = 0, sn = 0;
            if (slash && (size_t)(slash - v) < sizeof(first))
                memcpy(first, v, (size_t)(slash - v));
            if (!slash || oms_cli_int(first, 1, 1000000, &si) != 0 ||
                oms_cli_int(slash + 1, 1, 1000000, &sn) != 0 || si > sn) {
                fprintf(stderr,
                        "refund-harness: --shard expects I/N with 1 <= I <= N, got \"%s\"\n", v);
                return -1;
            }
            c->suite.shard_index = (unsigned)si;
            c->suite.shard_count = (unsigned)sn;
            i++;
        } else if (a[0] == '-') {
            fprintf(stderr, "refund-harness: unknown option %s (see --help)\n", a);
            return -1;
        } else if (!c->command) {
            c->command = a;
        } else {
            push(&c->paths, &c->path_count, a);
        }
    }
    if (!c->command) {
        usage(stderr);
        return -1;
    }
    if (strcmp(c->command, "run") && strcmp(c->command, "validate") && strcmp(c->command, "list") &&
        strcmp(c->command, "serve") && strcmp(c->command, "journal")) {
        fprintf(stderr,
                "refund-harness: unknown command \"%s\" (run, validate, list, serve, journal)\n",
                c->command);
        return -1;
    }
    if (c->list && strcmp(c->command, "run") == 0)
        c->command = "list";
    const struct suite_receivers *rv = &c->suite.receivers;
    if ((rv->omnitron_url || rv->webhook_url || rv->omnitron_control_url ||
         rv->webhook_control_url) &&
        (!rv->omnitron_url || !rv->webhook_url || (!c->suite.target_url && !c->suite.target_cmd))) {
        fprintf(stderr, "refund-harness: --omnitron and --webhook go together, with --target or "
                        "--target-cmd\n");
        return -1;
    }
    if (c->suite.target_cmd && !c->suite.target_cmd[strspn(c->suite.target_cmd, " \t")]) {
        fprintf(stderr, "refund-harness: --target-cmd expects the command that starts the "
                        "target\n");
        return -1;
    }
    if (!c->seed_given)
        c->suite.seed =
            ((uint64_t)oms_time_wall_ms() * 2654435761u ^ (uint64_t)getpid()) & ((1ULL << 53) - 1);
    if (c->suite.target_url && strncmp(c->suite.target_url, "http://", 7) != 0 &&
        strncmp(c->suite.target_url, "https://", 8) != 0) {
        fprintf(stderr, "refund-harness: --target expects an http:// or https:// URL, got \"%s\"\n",
                c->suite.target_url);
        return -1;
    }
    return 0;
}

static int load_spec(struct schema **schema, json_t **rules)
{
    struct oms_err err = {0};
    char text[2048];
    if (schema_load(REFUND_SPEC_DIR "/scenario.schema.json", schema, &err) != 0) {
        fprintf(stderr, "refund-harness: %s\n", oms_err_format(&err, text, sizeof(text)));
        return -1;
    }
    json_t *doc = oms_json_load_file(REFUND_SPEC_DIR "/rules.json", &err);
    if (!doc) {
        fprintf(stderr, "refund-harness: %s\n", oms_err_format(&err, text, sizeof(text)));
        schema_destroy(*schema);
        return -1;
    }
    *rules = json_incref(json_object_get(doc, "rules"));
    json_decref(doc);
    return 0;
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

/* Frees what parse_args collected. */
static void cli_cleanup(struct cli *c)
{
    free(c->paths);
    free(c->suite.tags);
    free(c->suite.rules);
}

int main(int argc, char **argv)
{
    struct cli c = {0};
    signal(SIGPIPE, SIG_IGN);
    if (parse_args(argc, argv, &c) != 0) {
        cli_cleanup(&c);
        return EXIT_USAGE;
    }
    if (strcmp(c.command, "journal") == 0) {
        int code = serve_journal(c.url, c.json);
        cli_cleanup(&c);
        return code;
    }
    if (strcmp(c.command, "serve") == 0) {
        /* Before any thread starts, so Ctrl-C is waited for in this thread alone. */
        oms_signal_block_termination();
        struct schema *schema = NULL;
        json_t *rules = NULL;
        if (load_spec(&schema, &rules) != 0) {
            cli_cleanup(&c);
            return EXIT_ENV;
        }
        int code = serve_run(&c.serve, schema, rules);
        schema_destroy(schema);
        json_decref(rules);
        cli_cleanup(&c);
        return code;
    }
    if (c.color < 0)
        c.color = isatty(STDOUT_FILENO) && !(getenv("NO_COLOR") && *getenv("NO_COLOR"));
    c.suite.color = c.color;
    c.suite.progress = isatty(STDOUT_FILENO) && c.suite.verbosity > 0;

    /* The bundled suite; named relatively when run from the repository, for shorter reports. */
    char *default_paths[] = {REFUND_SCENARIO_DIR};
    char here[4096];
    if (realpath("scenarios", here) && strcmp(here, REFUND_SCENARIO_DIR) == 0)
        default_paths[0] = "scenarios";
    char **files = NULL;
    size_t nfiles = 0;
    struct oms_err err = {0};
    char text[2048];
    if (scenario_find_files(c.path_count ? c.paths : default_paths, c.path_count ? c.path_count : 1,
                            &files, &nfiles, &err) != 0) {
        fprintf(stderr, "refund-harness: %s\n", oms_err_format(&err, text, sizeof(text)));
        cli_cleanup(&c);
        return EXIT_USAGE;
    }
    struct schema *schema = NULL;
    json_t *rules = NULL;
    if (load_spec(&schema, &rules) != 0) {
        scenario_free_files(files, nfiles);
        cli_cleanup(&c);
        return EXIT_ENV;
    }
    struct suite suite = {0};
    int validate = strcmp(c.command, "validate") == 0;
    size_t bad = suite_load(files, nfiles, schema, rules, &suite, !validate);
    int code = EXIT_PASS;
    if (nfiles == 0) {
        /* Whatever the command, finding nothing is a mistaken path, never a success. */
        fprintf(stderr, "refund-harness: no scenario files (*.json) found in");
        for (size_t i = 0; i < (c.path_count ? c.path_count : 1); i++)
            fprintf(stderr, " %s", c.path_count ? c.paths[i] : default_paths[0]);
        fputc('\n', stderr);
        code = EXIT_USAGE;
    } else if (validate) {
        printf("%zu file(s): %zu valid, %zu invalid\n", nfiles, nfiles - bad, bad);
        code = bad ? EXIT_USAGE : EXIT_PASS;
    } else if (bad) {
        fprintf(stderr, "refund-harness: %zu invalid scenario file(s); nothing was run\n", bad);
        code = EXIT_USAGE;
    } else {
        suite_select(&suite, &c.suite);
        if (strcmp(c.command, "list") == 0) {
            for (size_t i = 0; i < suite.count; i++) {
                const struct scenario *s = suite.items[i];
                printf("%s\t%s\t", s->file, s->name);
                for (size_t r = 0; r < s->rule_count; r++)
                    printf("%s%s", r ? "," : "", s->rules[r]);
                printf("\n");
            }
        } else {
            struct result_run run;
            result_run_init(&run);
            run.rules = json_incref(rules);
            int rc = suite_run(&suite, &c.suite, &run, &err);
            if (rc != 0) {
                fprintf(stderr, "refund-harness: environment failure: %s\n",
                        oms_err_format(&err, text, sizeof(text)));
                code = EXIT_ENV;
            } else {
                code = run.failed || run.errors ? EXIT_FAILED : EXIT_PASS;
                for (size_t k = 0; k < run.count; k++)
                    if (run.scenarios[k].environment)
                        code = EXIT_ENV;
                int uncovered = c.strict && strict_check(&run);
                if (uncovered && code == EXIT_PASS)
                    code = EXIT_FAILED;
                diagnose_print(&run, code, uncovered, stdout);
                if (!c.no_reports) {
                    if (report_write_all(&run, c.report_dir, &err) != 0) {
                        fprintf(stderr, "refund-harness: %s\n",
                                oms_err_format(&err, text, sizeof(text)));
                        if (code == EXIT_PASS)
                            code = EXIT_ENV;
                    } else if (c.suite.verbosity > 0) {
                        printf("reports: %s/junit.xml, %s/results.json, %s/report.html\n",
                               c.report_dir, c.report_dir, c.report_dir);
                    }
                }
            }
            result_run_cleanup(&run);
        }
    }
    suite_cleanup(&suite);
    schema_destroy(schema);
    json_decref(rules);
    scenario_free_files(files, nfiles);
    cli_cleanup(&c);
    return code;
}
