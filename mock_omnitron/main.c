/* mock-omnitron: the recording Omnitron mock as a standalone program. */
#include "mock_omnitron.h"
#include "oms_cli.h"
#include "oms_signal.h"

#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: mock-omnitron [--port N] [--control-port N] [--bind ADDR] [--path PATH]\n"
            "                     [--token T] [--journal-limit N]\n"
            "\n"
            "A recording Omnitron: checks and journals PATCH %s.\n"
            "  --port N     listen on N (default 0: an ephemeral port, printed)\n"
            "  --bind ADDR  listen address (default 127.0.0.1)\n"
            "  --control-port N  the control-only listener, up even while the\n"
            "               receiver is down (default 0: ephemeral, printed)\n"
            "  --path PATH  the bulk status update path\n"
            "  --token T    require \"Authorization: Token T\"\n"
            "  --journal-limit N  requests kept in the journal, the oldest forgotten\n"
            "               past it (default 100000)\n"
            "Control (on both listeners): GET/DELETE /__journal, GET/PUT /__behaviour,\n"
            "POST /__reset, GET /__health.\n",
            MOCK_OMNITRON_DEFAULT_PATH);
}

int main(int argc, char **argv)
{
    struct mock_omnitron_config cfg = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--port") == 0 && v && oms_cli_int(v, 0, 65535, &n) == 0) {
            cfg.port = (unsigned)n;
            i++;
        } else if (strcmp(a, "--control-port") == 0 && v && oms_cli_int(v, 0, 65535, &n) == 0) {
            cfg.control_port = (unsigned)n;
            i++;
        } else if (strcmp(a, "--bind") == 0 && v) {
            cfg.bind = argv[++i];
        } else if (strcmp(a, "--path") == 0 && v) {
            cfg.path = argv[++i];
        } else if (strcmp(a, "--token") == 0 && v) {
            cfg.token = argv[++i];
        } else if (strcmp(a, "--journal-limit") == 0 && v &&
                   oms_cli_int(v, 1, 100000000, &n) == 0) {
            cfg.journal_limit = (size_t)n;
            i++;
        } else {
            fprintf(stderr, "mock-omnitron: bad option or value: %s\n", a);
            usage(stderr);
            return 2;
        }
    }
    oms_signal_block_termination();
    struct oms_err err = {0};
    struct oms_recorder *r = NULL;
    if (mock_omnitron_start(&cfg, &r, &err) != 0) {
        char text[1024];
        fprintf(stderr, "mock-omnitron: %s\n", oms_err_format(&err, text, sizeof(text)));
        return 3;
    }
    printf("mock-omnitron: listening on %s\n", oms_recorder_url(r));
    printf("mock-omnitron: control on %s\n", oms_recorder_control_url(r));
    fflush(stdout);
    oms_signal_wait_termination();
    oms_recorder_stop(r);
    return 0;
}
