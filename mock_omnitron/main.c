/* mock-omnitron: the recording Omnitron mock as a standalone program. */
#include "mock_omnitron.h"
#include "oms_recorder_program.h"
#include "oms_signal.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mock-omnitron [--port N] [--control-port N] [--bind ADDR] [--path PATH]\n"
            "                     [--token T] [--journal-limit N]\n"
            "\n"
            "A recording Omnitron: checks and journals PATCH %s.\n",
            MOCK_OMNITRON_DEFAULT_PATH);
    oms_recorder_options_usage(out);
    fputs("  --path PATH    the bulk status update path\n"
          "  --token T      require \"Authorization: Token T\"\n"
          "Control (on both listeners, with X-Fixture-Token): GET/DELETE /__journal,\n"
          "GET/PUT /__behaviour, POST /__reset, GET /__health. A port in use is refused\n"
          "(exit 3).\n",
          out);
}

int main(int argc, char **argv)
{
    struct oms_recorder_options common = {0};
    const char *path = NULL, *token = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (oms_recorder_option(&common, argc, argv, &i)) {
            continue;
        } else if (strcmp(a, "--path") == 0 && v) {
            path = argv[++i];
        } else if (strcmp(a, "--token") == 0 && v) {
            token = argv[++i];
        } else {
            fprintf(stderr, "mock-omnitron: bad option or value: %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    oms_signal_block_termination();
    struct mock_omnitron_config cfg = {
        .bind = common.server.bind,
        .port = common.port,
        .control_port = common.control_port,
        .path = path,
        .token = token,
        .journal_limit = common.journal_limit,
        .journal_bytes = common.journal_bytes,
        .journal_body_bytes = common.journal_body_bytes,
        .fixture_token = common.server.fixture_token,
        .limits = common.server.limits,
    };
    struct oms_err err = {0};
    struct oms_recorder *r = NULL;
    if (mock_omnitron_start(&cfg, &r, &err) != 0) {
        char text[1024];
        fprintf(stderr, "mock-omnitron: %s\n", oms_err_format(&err, text, sizeof(text)));
        return 3;
    }
    return oms_recorder_serve(r, "mock-omnitron", common.server.bind);
}
