/* command.c: POST /api/v1/oms/packages/{id}/command/ (SPEC C-1..C-11, E-1..E-3).
 *
 * Check order - the first check that fails answers. SPEC E-2 names the answers, not which one
 * wins when a request breaks several. This order differs on purpose from oms-reference's table
 * (docs/reference-impl.md) in three places - the method before the token, the token before the
 * path id, the content type before the size - and it reports only the first field error:
 *
 *   1. method is POST                                405, Allow: POST   (reference: 3rd)
 *   2. Authorization: Token <token>, scheme any case 401, WWW-Authenticate: Token (reference: 2nd)
 *   3. the path id is a positive 64-bit integer      404                (reference: 1st)
 *   4. Content-Type is application/json (+params)    415                (reference: 5th)
 *   5. body no larger than limits.max_body_bytes     413                (reference: 4th)
 *   6. body parses as JSON                           400 "detail"
 *   7. body is an object                             400 non_field_errors
 *   8. body fields, FIRST error only (reference: all) 400 <field>: package (required, integer,
 *      > 0, equal to the path id), transition, slug, sync_remote_order_status, then neither
 *      given, unknown id, unknown slug, id and slug naming different transitions
 *   9. the package exists                            404 "detail"
 *  10. its status is a source of the transition      400 non_field_errors (SPEC C-5)
 *
 * So an unknown package with a malformed body is a 400 (step 8 before step 9). 401, 404, 405, 413,
 * 415 and "not JSON" file their message under "detail" (reference: non_field_errors); messages
 * are terse and name statuses by number. Parsing: the Token scheme is matched in any case;
 * "transition": null and "slug": null are errors on that field, not absent fields; unknown body
 * keys are ignored; a number beyond 64 bits (or beyond a double) is "out of range" on the field
 * holding it, and ignored under a key the command does not read. */
#include "alt_oms.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oms_alloc.h"
#include "oms_buf.h"
#include "oms_json.h"

enum big_field { BIG_PACKAGE = 1, BIG_TRANSITION = 2, BIG_SLUG = 4, BIG_SYNC = 8 };

void alt_answer_error(struct oms_http_response *resp, int status, const char *key,
                      const char *message)
{
    json_t *e = alt_error_json(status, key, message);
    oms_http_response_json(resp, status, e);
    json_decref(e);
}

/* ---- numbers jansson cannot hold ---- */

/* 1 when the number token tok[0..n) overflows an int64 (integers) or a double (reals). */
static int number_too_big(const char *tok, size_t n)
{
    char *copy = oms_xstrndup(tok, n), *end = NULL;
    int big = 0;
    errno = 0;
    if (strpbrk(copy, ".eE")) {
        double v = strtod(copy, &end);
        big = *end == '\0' && isinf(v);
    } else {
        strtoll(copy, &end, 10);
        big = *end == '\0' && errno == ERANGE;
    }
    free(copy);
    return big;
}

static unsigned key_bit(const char *k, size_t n)
{
    static const struct {
        const char *name;
        unsigned bit;
    } keys[] = {{"package", BIG_PACKAGE},
                {"transition", BIG_TRANSITION},
                {"slug", BIG_SLUG},
                {"sync_remote_order_status", BIG_SYNC}};
    for (size_t i = 0; i < OMS_ARRAY_LEN(keys); i++) {
        if (strlen(keys[i].name) == n && memcmp(keys[i].name, k, n) == 0)
            return keys[i].bit;
    }
    return 0;
}

/* A copy of in where every number too big for jansson is null, so the rest of the body still
 * parses; *big says under which top-level keys such numbers stood. Malformed JSON is copied as
 * it is, for the parser to refuse. The caller frees the copy. */
static char *tame_numbers(const char *in, size_t len, size_t *out_len, unsigned *big)
{
    struct oms_buf b;
    oms_buf_init(&b, 0);
    int depth = 0, in_str = 0, esc = 0, str_depth = -1;
    size_t str_start = 0, str_len = 0;
    unsigned key = 0;
    *big = 0;
    size_t i = 0;
    while (i < len) {
        char c = in[i];
        if (in_str) {
            if (esc) {
                esc = 0;
            } else if (c == '\\') {
                esc = 1;
            } else if (c == '"') {
                in_str = 0;
                str_len = i - str_start;
                str_depth = depth;
            }
        } else if (c == '"') {
            in_str = 1;
            str_start = i + 1;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        } else if (c == ':' && depth == 1 && str_depth == 1) {
            key = key_bit(in + str_start, str_len);
        } else if (c == '-' || (c >= '0' && c <= '9')) {
            size_t j = i + 1;
            while (j < len && in[j] && strchr("0123456789+-.eE", in[j]))
                j++;
            if (number_too_big(in + i, j - i)) {
                oms_buf_puts(&b, "null");
                *big |= key;
            } else {
                oms_buf_append(&b, in + i, j - i);
            }
            i = j;
            continue;
        }
        oms_buf_append(&b, &c, 1);
        i++;
    }
    return oms_buf_take(&b, out_len);
}

/* ---- the request line and headers ---- */

/* The path id as a positive int64; 0 when it is not one. */
static int64_t path_id(const char *s)
{
    if (!*s)
        return 0;
    for (const char *c = s; *c; c++) {
        if (!isdigit((unsigned char)*c))
            return 0;
    }
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    return errno == ERANGE ? 0 : (int64_t)v;
}

/* The token of "Token <token>" (scheme in any case), copied into out; 0 when the header does
 * not carry one. */
static int bearer_token(const char *h, char *out, size_t size)
{
    if (!h)
        return 0;
    while (*h == ' ' || *h == '\t')
        h++;
    if (strncasecmp(h, "Token", 5) != 0 || (h[5] != ' ' && h[5] != '\t'))
        return 0;
    h += 5;
    while (*h == ' ' || *h == '\t')
        h++;
    size_t n = strcspn(h, " \t");
    const char *rest = h + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    if (n == 0 || n >= size || *rest)
        return 0;
    memcpy(out, h, n);
    out[n] = '\0';
    return 1;
}

static int json_content_type(const char *ct)
{
    static const char want[] = "application/json";
    if (!ct)
        return 0;
    while (*ct == ' ')
        ct++;
    if (strncasecmp(ct, want, sizeof(want) - 1) != 0)
        return 0;
    char next = ct[sizeof(want) - 1];
    return next == '\0' || next == ';' || next == ' ';
}

/* ---- the body ---- */

/* What the body asks for, once its fields are valid. */
struct command {
    const struct alt_transition *transition;
    int has_sync;
    int sync;
};

struct field_error {
    const char *field;
    char message[192];
};

static int field_fail(struct field_error *fe, const char *field, const char *message)
{
    fe->field = field;
    snprintf(fe->message, sizeof(fe->message), "%s", message);
    return -1;
}

static int is_slug(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++) {
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
            return 0;
    }
    return 1;
}

/* Step 8: the first field error, in the order of the comment at the top. */
static int check_fields(const struct alt_profile *p, const json_t *body, unsigned big,
                        int64_t path_pkg, struct command *cmd, struct field_error *fe)
{
    const json_t *pkg = json_object_get(body, "package");
    const json_t *tr = json_object_get(body, "transition");
    const json_t *slug = json_object_get(body, "slug");
    const json_t *sync = json_object_get(body, "sync_remote_order_status");

    /* SPEC C-3, A-2 */
    if (big & BIG_PACKAGE)
        return field_fail(fe, "package", "out of range");
    if (!pkg)
        return field_fail(fe, "package", "required");
    if (!json_is_integer(pkg))
        return field_fail(fe, "package", "must be an integer");
    if (json_integer_value(pkg) <= 0)
        return field_fail(fe, "package", "must be > 0");
    if (json_integer_value(pkg) != path_pkg)
        return field_fail(fe, "package", "path/body mismatch");

    /* SPEC C-4 */
    if (big & BIG_TRANSITION)
        return field_fail(fe, "transition", "out of range");
    if (tr && !json_is_integer(tr))
        return field_fail(fe, "transition", "must be an integer");
    if (tr && json_integer_value(tr) <= 0)
        return field_fail(fe, "transition", "must be > 0");
    if (slug && !json_is_string(slug))
        return field_fail(fe, "slug", "must be a string");
    if (slug && !is_slug(json_string_value(slug)))
        return field_fail(fe, "slug", "not a slug");

    /* SPEC C-8: a boolean when present */
    if (sync && !json_is_boolean(sync))
        return field_fail(fe, "sync_remote_order_status", "must be a boolean");
    cmd->has_sync = sync != NULL;
    cmd->sync = json_is_true(sync);

    if (!tr && !slug)
        return field_fail(fe, "non_field_errors", "transition or slug required");
    const struct alt_transition *by_id =
        tr ? alt_profile_transition_id(p, json_integer_value(tr)) : NULL;
    if (tr && !by_id)
        return field_fail(fe, "transition", "unknown");
    const struct alt_transition *by_slug =
        slug ? alt_profile_transition_slug(p, json_string_value(slug)) : NULL;
    if (slug && !by_slug)
        return field_fail(fe, "slug", "unknown");
    if (by_id && by_slug && by_id != by_slug)
        return field_fail(fe, "non_field_errors", "transition/slug mismatch");
    cmd->transition = by_id ? by_id : by_slug;
    return 0;
}

/* "status 1100 not in [100, 920]" */
static void status_refusal(const struct alt_transition *t, int64_t status, char *out, size_t size)
{
    struct oms_buf b;
    oms_buf_init(&b, 0);
    oms_buf_printf(&b, "status %lld not in [", (long long)status);
    for (size_t i = 0; i < t->source_count; i++)
        oms_buf_printf(&b, "%s%lld", i ? ", " : "", (long long)t->sources[i]);
    oms_buf_puts(&b, "]");
    snprintf(out, size, "%s", oms_buf_str(&b));
    oms_buf_cleanup(&b);
}

/* Steps 6..10 and the transition, with the lock held. */
static void run_body(struct alt_app *app, const struct oms_http_request *req, int64_t path_pkg,
                     struct oms_http_response *resp)
{
    const struct alt_profile *p = app->profile;
    size_t len;
    unsigned big;
    char *tamed = tame_numbers(req->body, req->body_len, &len, &big);
    json_error_t jerr;
    json_t *body = json_loadb(tamed, len, JSON_DECODE_ANY, &jerr);
    free(tamed);
    if (!body) {
        char msg[256];
        snprintf(msg, sizeof(msg), "unparseable JSON at %d:%d: %s", jerr.line, jerr.column,
                 jerr.text);
        alt_answer_error(resp, 400, "detail", msg);
        return;
    }
    if (!json_is_object(body)) {
        alt_answer_error(resp, 400, "non_field_errors", "not an object");
        json_decref(body);
        return;
    }
    struct command cmd = {0};
    struct field_error fe = {0};
    int rc = check_fields(p, body, big, path_pkg, &cmd, &fe);
    json_decref(body);
    if (rc != 0) {
        alt_answer_error(resp, 400, fe.field, fe.message);
        return;
    }
    struct alt_package *pkg = alt_store_package(app->store, path_pkg);
    if (!pkg) {
        alt_answer_error(resp, 404, "detail", "not found");
        return;
    }
    /* SPEC C-5: any other status changes nothing. */
    if (!alt_status_in(cmd.transition->sources, cmd.transition->source_count, pkg->status)) {
        char msg[256];
        status_refusal(cmd.transition, pkg->status, msg, sizeof(msg));
        alt_answer_error(resp, 400, "non_field_errors", msg);
        return;
    }
    struct alt_remote remote = {
        .omnitron_url = app->omnitron_url,
        .omnitron_token = app->omnitron_token,
        .sync = cmd.has_sync ? cmd.sync : p->sync_default,
    };
    alt_store_apply(app->store, p, pkg, cmd.transition, &remote, app->outbox);
    resp->status = 204; /* SPEC C-2 */
}

void alt_command_handle(struct alt_app *app, const struct oms_http_request *req, const char *id,
                        struct oms_http_response *resp)
{
    if (strcmp(req->method, "POST") != 0) {
        char msg[96];
        snprintf(msg, sizeof(msg), "%.32s not allowed", req->method);
        oms_http_response_header(resp, "Allow", "POST");
        alt_answer_error(resp, 405, "detail", msg);
        return;
    }
    /* One lock for the whole command: commands on a package are serialised (SPEC C-11), and
     * the profile a fixture load replaces cannot change under it. */
    pthread_mutex_lock(&app->lock);
    char token[256];
    if (!bearer_token(oms_http_request_header(req, "Authorization"), token, sizeof(token)) ||
        !alt_profile_token_ok(app->profile, token)) {
        oms_http_response_header(resp, "WWW-Authenticate", "Token");
        alt_answer_error(resp, 401, "detail", "bad credentials");
        goto done;
    }
    int64_t pkg = path_id(id);
    if (pkg <= 0) {
        alt_answer_error(resp, 404, "detail", "not found");
        goto done;
    }
    if (!json_content_type(oms_http_request_header(req, "Content-Type"))) {
        alt_answer_error(resp, 415, "detail", "application/json only");
        goto done;
    }
    if (req->body_too_large || req->body_len > app->profile->max_body_bytes) {
        char msg[64];
        snprintf(msg, sizeof(msg), "over %zu bytes", app->profile->max_body_bytes);
        alt_answer_error(resp, 413, "detail", msg);
        goto done;
    }
    run_body(app, req, pkg, resp);
done:
    pthread_mutex_unlock(&app->lock);
}
