/* oms_recorder_program: the receiver programs' shared options and serving loop. */
#include "oms_recorder_program.h"

#include "oms_cli.h"
#include "oms_signal.h"

#include <string.h>

void oms_recorder_options_usage(FILE *out)
{
    fprintf(out,
            "  --port N       listen on N (default 0: an ephemeral port, printed)\n"
            "  --control-port N  the control-only listener, up even while the\n"
            "                 receiver is down (default 0: ephemeral, printed)\n"
            "  --journal-limit N  requests kept in the journal, the oldest forgotten\n"
            "                 past it (default 100000)\n"
            "  --journal-bytes N  bytes of bodies and headers the journal keeps in all, the\n"
            "                 oldest requests forgotten past it (default %d)\n"
            "  --journal-body-bytes N  a longer body is journaled truncated to N bytes, with\n"
            "                 its length and SHA-256 (default %d)\n",
            OMS_RECORDER_DEFAULT_JOURNAL_BYTES, OMS_RECORDER_DEFAULT_JOURNAL_BODY_BYTES);
    oms_server_options_usage(out);
}

int oms_recorder_option(struct oms_recorder_options *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    long n;
    if (!v)
        return 0;
    if (oms_server_option(&o->server, argc, argv, i))
        return 1;
    if (strcmp(a, "--port") == 0 && oms_cli_int(v, 0, 65535, &n) == 0)
        o->port = (unsigned)n;
    else if (strcmp(a, "--control-port") == 0 && oms_cli_int(v, 0, 65535, &n) == 0)
        o->control_port = (unsigned)n;
    else if (strcmp(a, "--journal-limit") == 0 && oms_cli_int(v, 1, 100000000, &n) == 0)
        o->journal_limit = (size_t)n;
    else if (strcmp(a, "--journal-bytes") == 0 && oms_cli_int(v, 1024, 1L << 40, &n) == 0)
        o->journal_bytes = (size_t)n;
    else if (strcmp(a, "--journal-body-bytes") == 0 && oms_cli_int(v, 0, 1L << 30, &n) == 0)
        o->journal_body_bytes = (size_t)n;
    else
        return 0;
    (*i)++;
    return 1;
}

int oms_recorder_serve(struct oms_recorder *r, const char *program, const char *bind)
{
    oms_server_announce(program, bind ? bind : "127.0.0.1", oms_recorder_fixture_token(r),
                        oms_recorder_fixture_token_generated(r),
                        "the receiver, its journal of every request received and its control "
                        "endpoints (with the fixture token)");
    printf("%s: listening on %s\n", program, oms_recorder_url(r));
    printf("%s: control on %s\n", program, oms_recorder_control_url(r));
    fflush(stdout);
    oms_signal_wait_termination();
    oms_recorder_stop(r);
    return 0;
}
