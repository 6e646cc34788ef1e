/* oms_server_options: shared server options and the start-up notices. */
#include "oms_server_options.h"

#include "oms_cli.h"
#include "oms_fixture_token.h"
#include "oms_limits.h"

#include <string.h>

void oms_server_options_usage(FILE *out)
{
    fprintf(out,
            "  --bind ADDR           listen address (default 127.0.0.1; another address warns)\n"
            "  --fixture-token T     the token test-control requests must carry in\n"
            "                        X-Fixture-Token (default: $%s, else a random one,\n"
            "                        printed once on stderr)\n"
            "  --request-timeout MS  a whole request, head and body, must arrive within MS\n"
            "                        (default %d; 408 after it)\n"
            "  --idle-timeout MS     a kept-alive connection with no request closes after MS\n"
            "                        (default %d)\n"
            "  --max-connections N   connections open at once (default %d)\n"
            "  --max-client-connections N  connections open at once from one address\n"
            "                        (default %d; more are answered 429 and closed)\n",
            OMS_FIXTURE_TOKEN_ENV, OMS_HTTP_DEFAULT_REQUEST_TIMEOUT_MS,
            OMS_HTTP_DEFAULT_IDLE_TIMEOUT_MS, OMS_HTTP_DEFAULT_MAX_CONNECTIONS,
            OMS_HTTP_DEFAULT_MAX_CLIENT_CONNECTIONS);
}

int oms_server_option(struct oms_server_options *o, int argc, char **argv, int *i)
{
    const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    long n;
    if (!v)
        return 0;
    if (strcmp(a, "--bind") == 0)
        o->bind = v;
    else if (strcmp(a, "--fixture-token") == 0 && v[0] && strlen(v) <= OMS_FIXTURE_TOKEN_MAX)
        o->fixture_token = v;
    else if (strcmp(a, "--request-timeout") == 0 && oms_cli_int(v, 100, OMS_MAX_OPTION_MS, &n) == 0)
        o->limits.request_timeout_ms = n;
    else if (strcmp(a, "--idle-timeout") == 0 && oms_cli_int(v, 100, OMS_MAX_OPTION_MS, &n) == 0)
        o->limits.idle_timeout_ms = n;
    else if (strcmp(a, "--max-connections") == 0 && oms_cli_int(v, 1, 1000000, &n) == 0)
        o->limits.max_connections = (unsigned)n;
    else if (strcmp(a, "--max-client-connections") == 0 && oms_cli_int(v, 1, 1000000, &n) == 0)
        o->limits.max_client_connections = (unsigned)n;
    else
        return 0;
    (*i)++;
    return 1;
}

void oms_server_announce(const char *program, const char *bind, const char *fixture_token,
                         int generated, const char *exposed)
{
    if (generated)
        fprintf(stderr,
                "%s: fixture token %s (send it as %s; set --fixture-token or %s to choose it)\n",
                program, fixture_token, OMS_FIXTURE_TOKEN_HEADER, OMS_FIXTURE_TOKEN_ENV);
    if (!oms_http_bind_is_loopback(bind))
        fprintf(stderr,
                "%s: warning: listening on %s, not a loopback address: %s can be reached from "
                "other machines; anyone holding the tokens can use it (docs/vendor-guide.md, "
                "\"Exposing the sandbox\")\n",
                program, bind, exposed);
    fflush(stderr);
}
