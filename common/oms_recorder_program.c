/* oms_recorder_program: the receiver programs' shared options and serving loop. */
#include "oms_recorder_program.h"

#include "oms_cli.h"
#include "oms_signal.h"

#include <string.h>

void oms_recorder_options_usage(FILE *out)
{
    fputs("  --port N       listen on N (default 0: an ephemeral port, printed)\n"
          "  --bind ADDR    listen address (default 127.0.0.1)\n"
          "  --control-port N  the control-only listener, up even while the\n"
          "                 receiver is down (default 0: ephemeral, printed)\n"
          "  --journal-limit N  requests kept in the journal, the oldest forgotten\n"
          "                 past it (default 100000)\n",
          out);
}

int oms_recorder_option(struct oms_recorder_options *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    long n;
    if (!v)
        return 0;
    if (strcmp(a, "--port") == 0 && oms_cli_int(v, 0, 65535, &n) == 0)
        o->port = (unsigned)n;
    else if (strcmp(a, "--control-port") == 0 && oms_cli_int(v, 0, 65535, &n) == 0)
        o->control_port = (unsigned)n;
    else if (strcmp(a, "--bind") == 0)
        o->bind = v;
    else if (strcmp(a, "--journal-limit") == 0 && oms_cli_int(v, 1, 100000000, &n) == 0)
        o->journal_limit = (size_t)n;
    else
        return 0;
    (*i)++;
    return 1;
}

int oms_recorder_serve(struct oms_recorder *r, const char *program)
{
    printf("%s: listening on %s\n", program, oms_recorder_url(r));
    printf("%s: control on %s\n", program, oms_recorder_control_url(r));
    fflush(stdout);
    oms_signal_wait_termination();
    oms_recorder_stop(r);
    return 0;
}
