/* oms_fixture_token: choosing and checking the fixture token. */
#include "oms_fixture_token.h"

#include "oms_crypto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int oms_fixture_token_choose(const char *given, char *out, size_t size, int *generated,
                             struct oms_err *err)
{
    const char *env = getenv(OMS_FIXTURE_TOKEN_ENV);
    const char *t = given ? given : env && env[0] ? env : NULL;
    if (generated)
        *generated = 0;
    if (t) {
        size_t n = strlen(t);
        if (n == 0 || n > OMS_FIXTURE_TOKEN_MAX || n >= size)
            return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, NULL,
                               "a fixture token must have 1 to %d characters",
                               OMS_FIXTURE_TOKEN_MAX);
        snprintf(out, size, "%s", t);
        return 0;
    }
    if (size < 33 || oms_random_hex(out, 16) != 0)
        return oms_err_set(err, OMS_E_ENV, NULL, 0, 0, NULL,
                           "no randomness for a fixture token: give one with --fixture-token");
    if (generated)
        *generated = 1;
    return 0;
}

int oms_fixture_token_ok(const struct oms_http_request *req, const char *token)
{
    const char *h = oms_http_request_header(req, OMS_FIXTURE_TOKEN_HEADER);
    return h && oms_secret_equal(h, strlen(h), token, strlen(token));
}

const char *oms_fixture_token_refusal(void)
{
    return "this endpoint needs the header \"" OMS_FIXTURE_TOKEN_HEADER
           ": <token>\" with the server's fixture token (printed once at start, or given with "
           "--fixture-token or " OMS_FIXTURE_TOKEN_ENV ")";
}
