/* mock-webhook: the recording webhook receiver as a standalone program. */
#include "mock_webhook.h"
#include "oms_cli.h"
#include "oms_recorder_program.h"
#include "oms_signal.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fputs("usage: mock-webhook [--port N] [--control-port N] [--bind ADDR] [--status CODE]\n"
          "                    [--journal-limit N]\n"
          "\n"
          "A recording webhook receiver: journals every request on every path.\n",
          out);
    oms_recorder_options_usage(out);
    fputs("  --status CODE  answer this status (default 200)\n"
          "Control (on both listeners, with X-Fixture-Token): GET/DELETE /__journal,\n"
          "GET/PUT /__behaviour, POST /__reset, GET /__health. A port in use is refused\n"
          "(exit 3).\n",
          out);
}

int main(int argc, char **argv)
{
    struct oms_recorder_options common = {0};
    int status = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (oms_recorder_option(&common, argc, argv, &i)) {
            continue;
        } else if (strcmp(a, "--status") == 0 && v && oms_cli_int(v, 100, 599, &n) == 0) {
            status = (int)n;
            i++;
        } else {
            fprintf(stderr, "mock-webhook: bad option or value: %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    oms_signal_block_termination();
    struct mock_webhook_config cfg = {
        .bind = common.server.bind,
        .port = common.port,
        .control_port = common.control_port,
        .status = status,
        .journal_limit = common.journal_limit,
        .journal_bytes = common.journal_bytes,
        .journal_body_bytes = common.journal_body_bytes,
        .fixture_token = common.server.fixture_token,
        .limits = common.server.limits,
    };
    struct oms_err err = {0};
    struct oms_recorder *r = NULL;
    if (mock_webhook_start(&cfg, &r, &err) != 0) {
        char text[1024];
        fprintf(stderr, "mock-webhook: %s\n", oms_err_format(&err, text, sizeof(text)));
        return 3;
    }
    return oms_recorder_serve(r, "mock-webhook", common.server.bind);
}
