/* reference_internal: the state the reference's modules (api, command, fixture, outbox) share.
 * Not for embedders: they use reference.h. */
#ifndef REFERENCE_INTERNAL_H
#define REFERENCE_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "cmdlog.h"
#include "oms_http_server.h"
#include "oms_profile.h"
#include "outbox.h"
#include "reference.h"
#include "store.h"

struct reference {
    struct store *store;
    struct outbox *outbox;
    struct oms_http_server *server;
    struct cmdlog *cmdlog;
    pthread_mutex_t mu;               /* guards the fields below */
    struct oms_profile *base_profile; /* the profile file, as loaded at start */
    struct oms_profile *profile;      /* in force: base + the fixture's overrides */
    char *omnitron_url;
    char *omnitron_token;
    int fixtures_enabled;
    char fixture_token[256];
    int fixture_token_generated;
    size_t max_fixture_bytes;
    int64_t max_drain_ms;
    int64_t max_state_rows;
    int64_t max_backlog; /* 0: no bound */
    int64_t max_backlog_wait_ms;
    atomic_llong backlog_warned_us; /* the last warning that a held command ran anyway */
    atomic_llong held_next;         /* the ticket the next held command takes */
    atomic_llong held_served;       /* held commands that ran or left */
    atomic_llong clock_offset_ms;   /* scenario clock: added to the wall clock */
    atomic_int clock_virtual;       /* drain advances the clock instead of waiting */
};

/* The profile in force, with a reference the caller releases with oms_profile_unref. */
struct oms_profile *reference_profile(struct reference *r);
/* Copies of the Omnitron settings (either may be NULL); the caller frees both. */
void reference_omnitron(struct reference *r, char **url, char **token);
/* Installs a new profile (the reference is taken over) and Omnitron settings (copied; NULL keeps
 * the current value). */
void reference_install(struct reference *r, struct oms_profile *profile, const char *url,
                       const char *token);
/* Wall clock plus the scenario clock offset, in ms. */
int64_t reference_now_ms(struct reference *r);
/* The outbox's view of r's scenario clock (reference_now_ms, the virtual flag, advancing it). */
struct outbox_clock reference_outbox_clock(struct reference *r);
/* Sets the scenario clock: virtual (drain skips waits) or real, offset back to 0. */
void reference_set_clock(struct reference *r, int is_virtual);

#endif
