/* bad-oms: a deliberately non-conforming OMS for the harness's tests - options, routing, start and
 * a clean stop on SIGTERM. */
#include "bad_oms.h"

#include "oms_alloc.h"
#include "oms_cli.h"
#include "oms_json.h"
#include "oms_signal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef BAD_OMS_DEFAULT_PROFILE
#error "BAD_OMS_DEFAULT_PROFILE must name the repository's profiles/default.json"
#endif

#define COMMAND_PREFIX "/api/v1/oms/packages/"
#define COMMAND_SUFFIX "/command/"
#define FIXTURE_PREFIX "/_fixture/"

static const struct {
    const char *name;
    unsigned bit;
} bugs[] = {
    {"oos-deletes", BAD_BUG_OOS_DELETES},
    {"double-quota", BAD_BUG_DOUBLE_QUOTA},
    {"status-200", BAD_BUG_STATUS_200},
    {"webhook-without-subscription", BAD_BUG_WEBHOOK_NO_SUB},
    {"ignore-sync-false", BAD_BUG_IGNORE_SYNC_FALSE},
};

unsigned bad_bug_by_name(const char *name)
{
    for (size_t i = 0; i < OMS_ARRAY_LEN(bugs); i++)
        if (strcmp(bugs[i].name, name) == 0)
            return bugs[i].bit;
    return 0;
}

const char *bad_bug_names(void)
{
    return "oos-deletes, double-quota, status-200, webhook-without-subscription, "
           "ignore-sync-false";
}

void bad_oms_init(struct bad_oms *b, struct oms_profile *base, unsigned bug_bits)
{
    memset(b, 0, sizeof(*b));
    b->bugs = bug_bits;
    b->base = oms_profile_ref(base);
    b->profile = oms_profile_ref(base);
    pthread_mutex_init(&b->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&b->changed, &attr);
    pthread_condattr_destroy(&attr);
    b->locations = json_array();
    b->packages = json_array();
    b->subscriptions = json_array();
    b->transition_log = json_array();
    b->outbox = json_array();
    b->next_log_id = 1;
    b->next_outbox_id = 1;
    b->seed = 12345;
}

void bad_oms_cleanup(struct bad_oms *b)
{
    json_decref(b->locations);
    json_decref(b->packages);
    json_decref(b->subscriptions);
    json_decref(b->transition_log);
    json_decref(b->outbox);
    free(b->omnitron_url);
    free(b->omnitron_token);
    free(b->stale_hook_url);
    oms_profile_unref(b->profile);
    oms_profile_unref(b->base);
    pthread_cond_destroy(&b->changed);
    pthread_mutex_destroy(&b->lock);
}

void bad_oms_reply_error(struct oms_http_response *resp, int status, const char *field,
                         const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *doc = json_pack("{s:{s:[s]}, s:i}", "error", field, msg, "status_code", status);
    oms_http_response_json(resp, status, doc);
    json_decref(doc);
}

/* A positive decimal id filling [s, end) and below 10^18; 0 otherwise. */
static int64_t path_id(const char *s, const char *end)
{
    if (s >= end || end - s > 18)
        return 0;
    int64_t v = 0;
    for (; s < end; s++) {
        if (!isdigit((unsigned char)*s))
            return 0;
        v = v * 10 + (*s - '0');
    }
    return v;
}

void bad_oms_handle(void *ctx, const struct oms_http_request *req, struct oms_http_response *resp)
{
    struct bad_oms *b = ctx;
    size_t plen = strlen(COMMAND_PREFIX), slen = strlen(COMMAND_SUFFIX);
    size_t len = strlen(req->path);
    if (strncmp(req->path, FIXTURE_PREFIX, strlen(FIXTURE_PREFIX)) == 0 ||
        strcmp(req->path, "/_fixture") == 0) {
        bad_fixture_handle(b, req, resp);
        return;
    }
    if (strncmp(req->path, COMMAND_PREFIX, plen) == 0 && len > plen + slen &&
        strcmp(req->path + len - slen, COMMAND_SUFFIX) == 0) {
        int64_t id = path_id(req->path + plen, req->path + len - slen);
        if (id > 0) {
            bad_command_handle(b, id, req, resp);
            return;
        }
    }
    bad_oms_reply_error(resp, 404, "non_field_errors", "no resource at \"%.200s\"", req->path);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: bad-oms [--port N] [--profile FILE] [--bug NAME]...\n"
            "\n"
            "A small OMS for the harness's tests: the Package Packed for Refund command and the\n"
            "fixture protocol (state, drain, profile, profile-overrides), state in memory.\n"
            "Each --bug switches on one deliberate integration bug:\n"
            "  %s\n"
            "  --port N        listen on 127.0.0.1:N (0, the default: an ephemeral port)\n"
            "  --profile FILE  installation profile (default %s)\n"
            "It prints \"bad-oms: listening on URL\" and stops cleanly on SIGINT or SIGTERM.\n",
            bad_bug_names(), BAD_OMS_DEFAULT_PROFILE);
}

int main(int argc, char **argv)
{
    unsigned port = 0, bug_bits = 0;
    const char *profile_path = BAD_OMS_DEFAULT_PROFILE;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--port") == 0 && v && oms_cli_int(v, 0, 65535, &n) == 0) {
            port = (unsigned)n;
            i++;
        } else if (strcmp(a, "--profile") == 0 && v) {
            profile_path = v;
            i++;
        } else if (strcmp(a, "--bug") == 0 && v && bad_bug_by_name(v)) {
            bug_bits |= bad_bug_by_name(v);
            i++;
        } else {
            fprintf(stderr, "bad-oms: bad option or value: %s%s%s\n", a, v ? " " : "", v ? v : "");
            usage(stderr);
            return 2;
        }
    }
    oms_signal_block_termination();

    struct oms_err err = {0};
    char text[2048];
    struct oms_profile *base = NULL;
    if (oms_profile_load_file(profile_path, &base, &err) != 0) {
        fprintf(stderr, "bad-oms: %s\n", oms_err_format(&err, text, sizeof(text)));
        return 3;
    }
    struct bad_oms b;
    bad_oms_init(&b, base, bug_bits);
    oms_profile_unref(base);
    struct oms_http_server_config cfg = {
        .port = port,
        .handler = bad_oms_handle,
        .ctx = &b,
        .name = "bad-oms",
    };
    int code = 0;
    if (bad_delivery_start(&b) != 0) {
        fprintf(stderr, "bad-oms: cannot start the delivery thread\n");
        code = 3;
    } else if (oms_http_server_start(&cfg, &b.server, &err) != 0) {
        fprintf(stderr, "bad-oms: %s\n", oms_err_format(&err, text, sizeof(text)));
        code = 3;
    } else {
        printf("bad-oms: listening on %s\n", oms_http_server_url(b.server));
        fflush(stdout);
        oms_signal_wait_termination();
    }
    oms_http_server_stop(b.server);
    bad_delivery_stop(&b);
    bad_oms_cleanup(&b);
    return code;
}
