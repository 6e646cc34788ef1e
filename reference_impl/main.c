/* oms-reference: the reference OMS as a standalone server. */
#include "oms_alloc.h"
#include "oms_cli.h"
#include "oms_server_options.h"
#include "oms_log.h"
#include "oms_signal.h"
#include "reference.h"
#include "oms_limits.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: oms-reference [options]\n"
            "\n"
            "The reference OMS for the Package Packed for Refund command.\n"
            "\n"
            "  --port N             listen on port N (default 8000; 0 = an ephemeral port)\n"
            "  --db FILE            keep state in FILE (SQLite, WAL) instead of memory\n"
            "  --profile FILE       installation profile (default: the built-in\n"
            "                       profiles/default.json)\n"
            "  --omnitron-url URL   where Omnitron listens (a fixture load may replace it)\n"
            "  --omnitron-token T   token sent to Omnitron\n"
            "  --threads N          HTTP worker threads (default 4)\n"
            "  --io-threads N       event loops, which also run commands (default %d)\n"
            "  --no-fixtures        refuse the fixture protocol under /_fixture/\n"
            "  --max-fixture-bytes N  largest fixture body (default %d)\n"
            "  --max-drain-ms MS    largest timeout_ms of a drain (default %d)\n"
            "  --max-state-rows N   rows a fixture may make and GET /_fixture/state shows\n"
            "                       (default %d)\n"
            "  --max-backlog N      commands wait while N outbox rows or more were never\n"
            "                       attempted (default %d; 0 = no bound)\n"
            "  --max-backlog-wait-ms MS  the longest a command waits for that (default %d)\n"
            "  --verbose            log deliveries and server events\n"
            "  --help               this text\n",
            REFERENCE_DEFAULT_IO_THREADS, REFERENCE_DEFAULT_MAX_FIXTURE_BYTES,
            REFERENCE_DEFAULT_MAX_DRAIN_MS, REFERENCE_DEFAULT_MAX_STATE_ROWS,
            REFERENCE_DEFAULT_MAX_BACKLOG, REFERENCE_DEFAULT_MAX_BACKLOG_WAIT_MS);
    oms_server_options_usage(out);
    fputs("\n"
          "Commands and hooks need \"Authorization: Token <a profile token>\"; /_fixture/ needs\n"
          "\"X-Fixture-Token: <fixture token>\". It prints \"listening on URL\" once it accepts\n"
          "requests, and stops cleanly on SIGINT or SIGTERM. A port in use is refused (exit 3).\n",
          out);
}

/* The options that take a value: a number in [min, max], or a string when max is 0. */
enum value_field {
    F_PORT,
    F_DB,
    F_PROFILE,
    F_OMNITRON_URL,
    F_OMNITRON_TOKEN,
    F_THREADS,
    F_IO_THREADS,
    F_MAX_FIXTURE_BYTES,
    F_MAX_DRAIN_MS,
    F_MAX_STATE_ROWS,
    F_MAX_BACKLOG,
    F_MAX_BACKLOG_WAIT_MS,
};

static const struct value_option {
    const char *name;
    long min, max;
    enum value_field field;
} VALUE_OPTIONS[] = {
    {"--port", 0, 65535, F_PORT},
    {"--db", 0, 0, F_DB},
    {"--profile", 0, 0, F_PROFILE},
    {"--omnitron-url", 0, 0, F_OMNITRON_URL},
    {"--omnitron-token", 0, 0, F_OMNITRON_TOKEN},
    {"--threads", 1, 256, F_THREADS},
    {"--io-threads", 1, 64, F_IO_THREADS},
    {"--max-fixture-bytes", 1024, 1L << 32, F_MAX_FIXTURE_BYTES},
    {"--max-drain-ms", 1, OMS_MAX_OPTION_MS, F_MAX_DRAIN_MS},
    {"--max-state-rows", 1, 1000000000, F_MAX_STATE_ROWS},
    {"--max-backlog", 0, 1000000000, F_MAX_BACKLOG},
    {"--max-backlog-wait-ms", 1, OMS_MAX_OPTION_MS, F_MAX_BACKLOG_WAIT_MS},
};

static void set_value(struct reference_config *cfg, enum value_field field, const char *v, long n)
{
    switch (field) {
    case F_PORT:
        cfg->port = (unsigned)n;
        break;
    case F_DB:
        cfg->db_path = v;
        break;
    case F_PROFILE:
        cfg->profile_path = v;
        break;
    case F_OMNITRON_URL:
        cfg->omnitron_url = v;
        break;
    case F_OMNITRON_TOKEN:
        cfg->omnitron_token = v;
        break;
    case F_THREADS:
        cfg->threads = (unsigned)n;
        break;
    case F_IO_THREADS:
        cfg->io_threads = (unsigned)n;
        break;
    case F_MAX_FIXTURE_BYTES:
        cfg->max_fixture_bytes = (size_t)n;
        break;
    case F_MAX_DRAIN_MS:
        cfg->max_drain_ms = n;
        break;
    case F_MAX_STATE_ROWS:
        cfg->max_state_rows = n;
        break;
    case F_MAX_BACKLOG:
        cfg->max_backlog = n > 0 ? n : -1;
        break;
    case F_MAX_BACKLOG_WAIT_MS:
        cfg->max_backlog_wait_ms = n;
        break;
    }
}

/* Reads argv into cfg and server. Returns -1 to start the server, or the exit code to stop with
 * (0 after --help, 2 after a usage error on stderr). */
static int parse_options(int argc, char **argv, struct reference_config *cfg,
                         struct oms_server_options *server)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--no-fixtures") == 0) {
            cfg->disable_fixtures = 1;
            continue;
        }
        if (strcmp(a, "--verbose") == 0) {
            oms_log_set_level(OMS_LOG_INFO);
            continue;
        }
        if (oms_server_option(server, argc, argv, &i))
            continue;
        const struct value_option *o = NULL;
        for (size_t k = 0; k < OMS_ARRAY_LEN(VALUE_OPTIONS) && !o; k++)
            if (strcmp(a, VALUE_OPTIONS[k].name) == 0)
                o = &VALUE_OPTIONS[k];
        if (!o || !v) {
            fprintf(stderr, "oms-reference: unknown option or missing value: %s\n", a);
            usage(stderr);
            return 2;
        }
        long n = 0;
        if (o->max && oms_cli_int(v, o->min, o->max, &n) != 0) {
            fprintf(stderr, "oms-reference: %s expects %ld..%ld, got \"%s\"\n", o->name, o->min,
                    o->max, v);
            return 2;
        }
        set_value(cfg, o->field, v, n);
        i++;
    }
    return -1;
}

int main(int argc, char **argv)
{
    struct reference_config cfg = {.port = 8000};
    struct oms_server_options server = {0};
    int code = parse_options(argc, argv, &cfg, &server);
    if (code >= 0)
        return code;
    cfg.bind = server.bind;
    cfg.fixture_token = server.fixture_token;
    cfg.limits = server.limits;
    oms_signal_block_termination();

    struct oms_err err = {0};
    struct reference *r = NULL;
    if (reference_start(&cfg, &r, &err) != 0) {
        char text[2048];
        fprintf(stderr, "oms-reference: %s\n", oms_err_format(&err, text, sizeof(text)));
        return 3;
    }
    oms_server_announce("oms-reference", cfg.bind ? cfg.bind : "127.0.0.1",
                        reference_fixture_token(r), reference_fixture_token_generated(r),
                        cfg.disable_fixtures
                            ? "the command endpoint and the hooks API (with an API token)"
                            : "the command endpoint, the hooks API (with an API token) and the "
                              "fixture protocol, which replaces all state (with the fixture "
                              "token)");
    printf("oms-reference: listening on %s\n", reference_url(r));
    fflush(stdout);
    oms_signal_wait_termination();
    reference_stop(r);
    return 0;
}
