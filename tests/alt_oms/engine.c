/* engine.c: one transition of one package, with everything it decides, in one step (SPEC C-6..C-10,
 * Q-2, O-1). The tables come from the profile; no transition is special-cased. */
#include "alt_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "oms_alloc.h"
#include "oms_buf.h"
#include "oms_crypto.h"
#include "oms_json.h"
#include "oms_log.h"

static char *status_text(int64_t status)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%lld", (long long)status);
    return oms_xstrdup(buf);
}

static void log_append(struct alt_store *s, const struct alt_package *pkg,
                       const struct alt_transition *t, int64_t from, int64_t at_ms)
{
    if (s->log_count == s->log_cap) {
        s->log_cap = s->log_cap ? 2 * s->log_cap : 64;
        s->log = oms_xrealloc(s->log, s->log_cap * sizeof(*s->log));
    }
    struct alt_log_entry *e = &s->log[s->log_count++];
    e->id = (int64_t)s->log_count;
    e->package = pkg->id;
    e->transition = t->id;
    e->slug = oms_xstrdup(t->slug);
    e->old_status = from;
    e->new_status = t->target;
    e->at_ms = at_ms;
}

static char *join_url(const char *base, const char *path)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/' && path[0] == '/')
        n--;
    struct oms_buf b;
    oms_buf_init(&b, 0);
    oms_buf_append(&b, base, n);
    oms_buf_puts(&b, path);
    return oms_buf_take(&b, NULL);
}

/* SPEC C-8, A-4: one call listing exactly the moved order items. set is taken over. */
static void queue_omnitron(const struct alt_profile *p, const struct alt_remote *remote,
                           json_t *set, struct alt_outbox *ob)
{
    json_t *body = json_pack("{s:o}", "orderitem_set", set);
    char *url = join_url(remote->omnitron_url, p->omnitron_path);
    struct alt_delivery *d = alt_delivery_create(ALT_DELIVERY_OMNITRON, p->omnitron_method, url);
    free(url);
    alt_delivery_header(d, "Content-Type", "application/json");
    if (remote->omnitron_token) {
        char auth[512];
        snprintf(auth, sizeof(auth), "Token %s", remote->omnitron_token);
        alt_delivery_header(d, "Authorization", auth);
    }
    d->body = oms_json_dumps(body);
    d->body_len = strlen(d->body);
    d->policy = p->omnitron_retry;
    d->timeout_ms = (long)p->timeout_ms;
    json_decref(body);
    alt_outbox_add(ob, d);
}

/* The payload: the package after the transition as this system shows it - id, status as a
 * string (SPEC C-9), the items, and when it changed. */
static json_t *payload_json(const struct alt_package *pkg, int64_t at_ms)
{
    json_t *items = json_array();
    for (size_t i = 0; i < pkg->item_count; i++) {
        char *st = status_text(pkg->items[i].status);
        json_array_append_new(
            items, json_pack("{s:I, s:s}", "id", (json_int_t)pkg->items[i].id, "status", st));
        free(st);
    }
    char *st = status_text(pkg->status);
    json_t *p = json_pack("{s:I, s:s, s:o, s:I}", "id", (json_int_t)pkg->id, "status", st, "items",
                          items, "changed_at", (json_int_t)at_ms);
    free(st);
    return p;
}

/* SPEC C-9, O-3: one event, one uuid, shared by every subscriber of the event type. */
static void queue_webhooks(const struct alt_store *s, const struct alt_profile *p,
                           const struct alt_package *pkg, const char *event_type, int64_t at_ms,
                           struct alt_outbox *ob)
{
    char uuid[33];
    int have_uuid = 0;
    for (size_t i = 0; i < s->subscription_count; i++) {
        const struct alt_subscription *sub = &s->subscriptions[i];
        if (strcmp(sub->event_type, event_type) != 0)
            continue;
        if (!have_uuid) {
            if (oms_random_hex(uuid, 16) != 0) {
                oms_log(OMS_LOG_ERROR, "alt-oms", "no randomness for an event uuid");
                return;
            }
            have_uuid = 1;
        }
        json_t *env = json_pack("{s:{s:s, s:s}, s:o}", "event", "type", event_type, "uuid", uuid,
                                "payload", payload_json(pkg, at_ms));
        struct alt_delivery *d = alt_delivery_create(ALT_DELIVERY_WEBHOOK, "POST", sub->target_url);
        d->body = oms_json_dumps(env);
        d->body_len = strlen(d->body);
        json_decref(env);
        const char *name;
        json_t *value;
        int typed = 0;
        json_object_foreach(sub->headers, name, value) typed |=
            strcasecmp(name, "Content-Type") == 0;
        if (!typed)
            alt_delivery_header(d, "Content-Type", "application/json");
        json_object_foreach(sub->headers, name, value)
            alt_delivery_header(d, name, json_string_value(value));
        if (sub->secret_key) {
            char hex[65], sig[128];
            oms_hmac_sha256_hex(sub->secret_key, strlen(sub->secret_key), d->body, d->body_len,
                                hex);
            snprintf(sig, sizeof(sig), "%s%s", p->signature_prefix, hex);
            alt_delivery_header(d, p->signature_header, sig);
        }
        d->policy = sub->has_retry ? sub->retry : p->webhook_retry;
        d->timeout_ms = (long)p->timeout_ms;
        alt_outbox_add(ob, d);
    }
}

void alt_store_apply(struct alt_store *s, const struct alt_profile *p, struct alt_package *pkg,
                     const struct alt_transition *t, const struct alt_remote *remote,
                     struct alt_outbox *ob)
{
    int64_t from = pkg->status, to = t->target;
    int64_t at_ms = alt_outbox_wall_ms(ob);
    const char *mapped = alt_profile_remote(p, to);

    /* SPEC C-6: the package and every item move; the moved ones are what Omnitron hears of. */
    json_t *set = json_array();
    for (size_t i = 0; i < pkg->item_count; i++) {
        struct alt_item *it = &pkg->items[i];
        if (it->status == to)
            continue;
        it->status = to;
        if (mapped)
            json_array_append_new(
                set, json_pack("{s:I, s:s}", "id", (json_int_t)it->order_item, "status", mapped));
    }
    pkg->status = to;

    /* SPEC C-7, A-3: deletions depend on the source, as the profile lists it. */
    if (alt_status_in(t->delete_reservations_from, t->delete_reservations_count, from)) {
        for (size_t i = 0; i < pkg->reservation_count; i++)
            free(pkg->reservations[i].sku);
        pkg->reservation_count = 0;
    }
    if (alt_status_in(t->delete_discrepancies_from, t->delete_discrepancies_count, from)) {
        for (size_t i = 0; i < pkg->discrepancy_count; i++)
            free(pkg->discrepancies[i].kind);
        pkg->discrepancy_count = 0;
    }

    /* SPEC: the counter moves by (counts after) - (counts before), never below 0. */
    struct alt_location *loc = alt_store_location(s, pkg->location);
    if (loc) {
        loc->quota += alt_profile_counts(p, to) - alt_profile_counts(p, from);
        if (loc->quota < 0)
            loc->quota = 0;
    }

    log_append(s, pkg, t, from, at_ms); /* SPEC C-10 */

    if (remote->sync && t->sync_remote && mapped && json_array_size(set) > 0) {
        if (remote->omnitron_url) {
            queue_omnitron(p, remote, set, ob);
            set = NULL;
        } else {
            oms_log(OMS_LOG_WARN, "alt-oms",
                    "package %lld: no Omnitron URL is configured; the sync is not sent",
                    (long long)pkg->id);
        }
    }
    json_decref(set);
    if (t->event_type)
        queue_webhooks(s, p, pkg, t->event_type, at_ms, ob);
}
