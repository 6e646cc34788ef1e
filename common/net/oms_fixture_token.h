/* oms_fixture_token: the token that guards the test-control surfaces - the reference's fixture
 * protocol (/_fixture/) and the receivers' control endpoints (/__) - which is never an API token.
 * Each server program has its own: given, or from the environment, or random and printed once. */
#ifndef OMS_FIXTURE_TOKEN_H
#define OMS_FIXTURE_TOKEN_H

#include <stddef.h>

#include "oms_error.h"
#include "oms_http_server.h"

/* The header that carries it. */
#define OMS_FIXTURE_TOKEN_HEADER "X-Fixture-Token"
/* The environment variable a program (and an embedded server given none) takes it from. */
#define OMS_FIXTURE_TOKEN_ENV "REFUND_FIXTURE_TOKEN"
/* Longest token accepted, NUL excluded. */
#define OMS_FIXTURE_TOKEN_MAX 255

/* Chooses the token into out (size > OMS_FIXTURE_TOKEN_MAX): given when not NULL, else a
 * non-empty $REFUND_FIXTURE_TOKEN, else 32 random hex digits (*generated set to 1; 0 otherwise;
 * generated may be NULL). Returns 0, or OMS_E_INVAL for an empty or too long token, OMS_E_ENV
 * when there is no randomness, with err saying so. */
int oms_fixture_token_choose(const char *given, char *out, size_t size, int *generated,
                             struct oms_err *err);
/* 1 when req carries "X-Fixture-Token: <token>" exactly (constant-time over the whole value). */
int oms_fixture_token_ok(const struct oms_http_request *req, const char *token);
/* The message of the 401 a request without the right token gets (static). */
const char *oms_fixture_token_refusal(void);

#endif
