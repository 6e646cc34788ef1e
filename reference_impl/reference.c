/* reference: assembly of the reference OMS - profile, store, outbox worker and HTTP server. */
#include "reference.h"

#include "api.h"
#include "command.h"
#include "fixture.h"
#include "oms_alloc.h"
#include "oms_fixture_token.h"
#include "oms_http_client.h"
#include "oms_log.h"
#include "oms_time.h"
#include "reference_internal.h"

#include <stdlib.h>
#include <string.h>

struct oms_profile *reference_profile(struct reference *r)
{
    pthread_mutex_lock(&r->mu);
    struct oms_profile *p = oms_profile_ref(r->profile);
    pthread_mutex_unlock(&r->mu);
    return p;
}

void reference_omnitron(struct reference *r, char **url, char **token)
{
    pthread_mutex_lock(&r->mu);
    *url = oms_xstrdup(r->omnitron_url);
    *token = oms_xstrdup(r->omnitron_token);
    pthread_mutex_unlock(&r->mu);
}

void reference_install(struct reference *r, struct oms_profile *profile, const char *url,
                       const char *token)
{
    pthread_mutex_lock(&r->mu);
    struct oms_profile *old = r->profile;
    r->profile = profile;
    if (url) {
        free(r->omnitron_url);
        r->omnitron_url = url[0] ? oms_xstrdup(url) : NULL;
    }
    if (token) {
        free(r->omnitron_token);
        r->omnitron_token = token[0] ? oms_xstrdup(token) : NULL;
    }
    pthread_mutex_unlock(&r->mu);
    if (r->outbox)
        outbox_set_timeout(r->outbox, oms_profile_delivery_timeout_ms(profile));
    oms_profile_unref(old);
}

int64_t reference_now_ms(struct reference *r)
{
    return oms_time_wall_ms() + atomic_load(&r->clock_offset_ms);
}

void reference_set_clock(struct reference *r, int is_virtual)
{
    atomic_store(&r->clock_virtual, is_virtual);
    atomic_store(&r->clock_offset_ms, 0);
}

static int64_t clock_now(void *ctx)
{
    return reference_now_ms(ctx);
}

static int clock_is_virtual(void *ctx)
{
    struct reference *r = ctx;
    return atomic_load(&r->clock_virtual);
}

static void clock_advance(void *ctx, int64_t ms)
{
    struct reference *r = ctx;
    atomic_fetch_add(&r->clock_offset_ms, ms);
}

struct outbox_clock reference_outbox_clock(struct reference *r)
{
    return (struct outbox_clock){clock_now, clock_is_virtual, clock_advance, r};
}

int reference_start(const struct reference_config *cfg, struct reference **out, struct oms_err *err)
{
    struct reference *r = OMS_NEW(struct reference);
    r->fixtures_enabled = !cfg->disable_fixtures;
    r->max_fixture_bytes =
        cfg->max_fixture_bytes ? cfg->max_fixture_bytes : REFERENCE_DEFAULT_MAX_FIXTURE_BYTES;
    r->max_drain_ms = cfg->max_drain_ms > 0 ? cfg->max_drain_ms : REFERENCE_DEFAULT_MAX_DRAIN_MS;
    r->max_state_rows =
        cfg->max_state_rows > 0 ? cfg->max_state_rows : REFERENCE_DEFAULT_MAX_STATE_ROWS;
    r->max_backlog = cfg->max_backlog < 0   ? 0
                     : cfg->max_backlog > 0 ? cfg->max_backlog
                                            : REFERENCE_DEFAULT_MAX_BACKLOG;
    r->max_backlog_wait_ms = cfg->max_backlog_wait_ms > 0 ? cfg->max_backlog_wait_ms
                                                          : REFERENCE_DEFAULT_MAX_BACKLOG_WAIT_MS;
    if (cfg->omnitron_url && cfg->omnitron_url[0] && !oms_http_url_allowed(cfg->omnitron_url)) {
        free(r);
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, NULL,
                           "the Omnitron URL \"%s\" must be an http:// or https:// URL",
                           cfg->omnitron_url);
    }
    int trc = oms_fixture_token_choose(cfg->fixture_token, r->fixture_token,
                                       sizeof(r->fixture_token), &r->fixture_token_generated, err);
    if (trc != 0) {
        free(r);
        return trc;
    }
    pthread_mutex_init(&r->mu, NULL);
    atomic_init(&r->clock_offset_ms, 0);
    atomic_init(&r->clock_virtual, 0);
    atomic_init(&r->backlog_warned_us, INT64_MIN / 2);
    atomic_init(&r->held_next, 0);
    atomic_init(&r->held_served, 0);
    r->cmdlog = cmdlog_create();
    r->omnitron_url = oms_xstrdup(cfg->omnitron_url);
    r->omnitron_token = oms_xstrdup(cfg->omnitron_token);
    int rc = cfg->profile_path ? oms_profile_load_file(cfg->profile_path, &r->base_profile, err)
                               : oms_profile_load_default(&r->base_profile, err);
    if (rc == 0) {
        r->profile = oms_profile_ref(r->base_profile);
        rc = store_open(cfg->db_path, &r->store, err);
    }
    if (rc == 0)
        rc = fixture_restore_settings(r, err);
    if (rc == 0) {
        struct outbox_clock clock = reference_outbox_clock(r);
        r->outbox = outbox_start(r->store, &clock);
        outbox_set_timeout(r->outbox, oms_profile_delivery_timeout_ms(r->profile));
        struct oms_http_server_config sc = {
            .bind = cfg->bind,
            .port = cfg->port,
            .max_body = r->max_fixture_bytes, /* the precheck lowers it for all but fixtures */
            .threads = cfg->threads ? cfg->threads : 4,
            .io_threads = cfg->io_threads ? cfg->io_threads : REFERENCE_DEFAULT_IO_THREADS,
            .handler = api_handle,
            .precheck = api_precheck,
            .quick = api_quick,
            .limits = cfg->limits,
            .ctx = r,
            .name = "oms-reference",
        };
        rc = oms_http_server_start(&sc, &r->server, err);
    }
    if (rc != 0) {
        reference_stop(r);
        return rc;
    }
    *out = r;
    return 0;
}

const char *reference_url(const struct reference *r)
{
    return oms_http_server_url(r->server);
}

unsigned reference_port(const struct reference *r)
{
    return oms_http_server_port(r->server);
}

const char *reference_fixture_token(const struct reference *r)
{
    return r->fixture_token;
}

int reference_fixture_token_generated(const struct reference *r)
{
    return r->fixture_token_generated;
}

const char *reference_api_token(const struct reference *r)
{
    return oms_profile_default_token(r->base_profile);
}

void reference_stop(struct reference *r)
{
    if (!r)
        return;
    oms_http_server_stop(r->server);
    command_settle(r);
    outbox_stop(r->outbox);
    store_close(r->store);
    cmdlog_destroy(r->cmdlog);
    oms_profile_unref(r->profile);
    oms_profile_unref(r->base_profile);
    free(r->omnitron_url);
    free(r->omnitron_token);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
