/* oms-reference: the reference OMS as a standalone server. */
#include "oms_cli.h"
#include "oms_server_options.h"
#include "oms_log.h"
#include "oms_signal.h"
#include "reference.h"

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
            "  --profile FILE       installation profile (default %s)\n"
            "  --omnitron-url URL   where Omnitron listens (a fixture load may replace it)\n"
            "  --omnitron-token T   token sent to Omnitron\n"
            "  --threads N          HTTP worker threads (default 4)\n"
            "  --no-fixtures        refuse the fixture protocol under /_fixture/\n"
            "  --max-fixture-bytes N  largest fixture body (default %d)\n"
            "  --max-drain-ms MS    largest timeout_ms of a drain (default %d)\n"
            "  --max-state-rows N   rows a fixture may make and GET /_fixture/state shows\n"
            "                       (default %d)\n"
            "  --verbose            log deliveries and server events\n"
            "  --help               this text\n",
            reference_default_profile_path(), REFERENCE_DEFAULT_MAX_FIXTURE_BYTES,
            REFERENCE_DEFAULT_MAX_DRAIN_MS, REFERENCE_DEFAULT_MAX_STATE_ROWS);
    oms_server_options_usage(out);
    fputs("\n"
          "Commands and hooks need \"Authorization: Token <a profile token>\"; /_fixture/ needs\n"
          "\"X-Fixture-Token: <fixture token>\". It prints \"listening on URL\" once it accepts\n"
          "requests, and stops cleanly on SIGINT or SIGTERM. A port in use is refused (exit 3).\n",
          out);
}

int main(int argc, char **argv)
{
    struct reference_config cfg = {.port = 8000};
    struct oms_server_options server = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--no-fixtures") == 0) {
            cfg.disable_fixtures = 1;
        } else if (strcmp(a, "--verbose") == 0) {
            oms_log_set_level(OMS_LOG_INFO);
        } else if (oms_server_option(&server, argc, argv, &i)) {
            continue;
        } else if (!v) {
            fprintf(stderr, "oms-reference: unknown option or missing value: %s\n", a);
            usage(stderr);
            return 2;
        } else if (strcmp(a, "--port") == 0) {
            long n;
            if (oms_cli_int(v, 0, 65535, &n) != 0) {
                fprintf(stderr, "oms-reference: --port expects 0..65535, got \"%s\"\n", v);
                return 2;
            }
            cfg.port = (unsigned)n;
            i++;
        } else if (strcmp(a, "--db") == 0) {
            cfg.db_path = v;
            i++;
        } else if (strcmp(a, "--profile") == 0) {
            cfg.profile_path = v;
            i++;
        } else if (strcmp(a, "--omnitron-url") == 0) {
            cfg.omnitron_url = v;
            i++;
        } else if (strcmp(a, "--omnitron-token") == 0) {
            cfg.omnitron_token = v;
            i++;
        } else if (strcmp(a, "--threads") == 0) {
            long n;
            if (oms_cli_int(v, 1, 256, &n) != 0) {
                fprintf(stderr, "oms-reference: --threads expects 1..256, got \"%s\"\n", v);
                return 2;
            }
            cfg.threads = (unsigned)n;
            i++;
        } else if (strcmp(a, "--max-fixture-bytes") == 0) {
            long n;
            if (oms_cli_int(v, 1024, 1L << 32, &n) != 0) {
                fprintf(stderr, "oms-reference: --max-fixture-bytes expects 1024..2^32\n");
                return 2;
            }
            cfg.max_fixture_bytes = (size_t)n;
            i++;
        } else if (strcmp(a, "--max-drain-ms") == 0) {
            long n;
            if (oms_cli_int(v, 1, 3600000, &n) != 0) {
                fprintf(stderr, "oms-reference: --max-drain-ms expects 1..3600000\n");
                return 2;
            }
            cfg.max_drain_ms = n;
            i++;
        } else if (strcmp(a, "--max-state-rows") == 0) {
            long n;
            if (oms_cli_int(v, 1, 1000000000, &n) != 0) {
                fprintf(stderr, "oms-reference: --max-state-rows expects 1..1000000000\n");
                return 2;
            }
            cfg.max_state_rows = n;
            i++;
        } else {
            fprintf(stderr, "oms-reference: unknown option or bad value: %s\n", a);
            usage(stderr);
            return 2;
        }
    }
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
