/* oms_attempts: a ring of the most recent attempts, indexed by a chained hash of their keys. */
#include "oms_attempts.h"

#include "oms_alloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NO_SLOT ((size_t)-1)

struct attempt {
    char id[OMS_DELIVERY_ID_MAX + 1];
    int64_t attempt;
    size_t next; /* the next slot in the same bucket, or NO_SLOT */
    json_t *entry;
    int status;
    enum oms_http_fault fault;
    int64_t delay_ms;
    char *body;
    size_t body_len;
    struct oms_http_pair headers[OMS_HTTP_MAX_RESPONSE_HEADERS];
    size_t header_count;
};

struct oms_attempts {
    struct attempt *ring;
    size_t capacity;
    size_t head; /* slot of the oldest */
    size_t count;
    size_t *buckets; /* first slot of each bucket, or NO_SLOT */
    size_t bucket_count;
};

int oms_attempts_key(const struct oms_http_request *req, char id[OMS_DELIVERY_ID_MAX + 1],
                     int64_t *attempt)
{
    const char *v = oms_http_request_header(req, OMS_DELIVERY_ID_HEADER);
    const char *n = oms_http_request_header(req, OMS_DELIVERY_ATTEMPT_HEADER);
    if (!v || !n)
        return 0;
    size_t len = 0;
    for (; v[len]; len++)
        if (len == OMS_DELIVERY_ID_MAX ||
            !(isalnum((unsigned char)v[len]) || v[len] == '-' || v[len] == '_' || v[len] == '.'))
            return 0;
    int64_t k = 0;
    size_t digits = 0;
    for (; n[digits]; digits++) {
        if (!isdigit((unsigned char)n[digits]) || digits == 18)
            return 0;
        k = k * 10 + (n[digits] - '0');
    }
    if (len == 0 || k < 1)
        return 0;
    memcpy(id, v, len + 1);
    *attempt = k;
    return 1;
}

static size_t hash_key(const char *id, int64_t attempt, size_t buckets)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)id; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    h = (h ^ (uint64_t)attempt) * 1099511628211ULL;
    return (size_t)(h % buckets);
}

struct oms_attempts *oms_attempts_create(size_t capacity)
{
    struct oms_attempts *a = OMS_NEW(struct oms_attempts);
    a->capacity = capacity ? capacity : OMS_ATTEMPTS_DEFAULT_CAPACITY;
    a->ring = oms_xcalloc(a->capacity, sizeof(*a->ring));
    a->bucket_count = a->capacity * 2;
    a->buckets = oms_xmalloc(a->bucket_count * sizeof(*a->buckets));
    for (size_t i = 0; i < a->bucket_count; i++)
        a->buckets[i] = NO_SLOT;
    return a;
}

static void slot_cleanup(struct attempt *t)
{
    json_decref(t->entry);
    free(t->body);
    for (size_t i = 0; i < t->header_count; i++) {
        free(t->headers[i].name);
        free(t->headers[i].value);
    }
    memset(t, 0, sizeof(*t));
}

void oms_attempts_clear(struct oms_attempts *a)
{
    for (size_t i = 0; i < a->count; i++)
        slot_cleanup(&a->ring[(a->head + i) % a->capacity]);
    for (size_t i = 0; i < a->bucket_count; i++)
        a->buckets[i] = NO_SLOT;
    a->head = 0;
    a->count = 0;
}

void oms_attempts_destroy(struct oms_attempts *a)
{
    if (!a)
        return;
    oms_attempts_clear(a);
    free(a->ring);
    free(a->buckets);
    free(a);
}

static size_t find(const struct oms_attempts *a, const char *id, int64_t attempt)
{
    for (size_t s = a->buckets[hash_key(id, attempt, a->bucket_count)]; s != NO_SLOT;
         s = a->ring[s].next)
        if (a->ring[s].attempt == attempt && strcmp(a->ring[s].id, id) == 0)
            return s;
    return NO_SLOT;
}

/* Forgets the oldest attempt, unlinking it from its bucket. */
static void forget_oldest(struct oms_attempts *a)
{
    size_t slot = a->head;
    struct attempt *t = &a->ring[slot];
    size_t *link = &a->buckets[hash_key(t->id, t->attempt, a->bucket_count)];
    while (*link != slot)
        link = &a->ring[*link].next;
    *link = t->next;
    slot_cleanup(t);
    a->head = (a->head + 1) % a->capacity;
    a->count--;
}

void oms_attempts_remember(struct oms_attempts *a, const char *id, int64_t attempt, json_t *entry,
                           const struct oms_http_response *resp)
{
    if (find(a, id, attempt) != NO_SLOT)
        return;
    if (a->count == a->capacity)
        forget_oldest(a);
    size_t slot = (a->head + a->count) % a->capacity;
    struct attempt *t = &a->ring[slot];
    snprintf(t->id, sizeof(t->id), "%s", id);
    t->attempt = attempt;
    t->entry = json_incref(entry);
    t->status = resp->status;
    t->fault = resp->fault;
    t->delay_ms = resp->delay_ms;
    t->body_len = resp->body.len;
    t->body = t->body_len ? oms_xstrndup(resp->body.data, t->body_len) : NULL;
    for (size_t i = 0; i < resp->header_count; i++) {
        t->headers[i].name = oms_xstrdup(resp->headers[i].name);
        t->headers[i].value = oms_xstrdup(resp->headers[i].value);
    }
    t->header_count = resp->header_count;
    size_t b = hash_key(id, attempt, a->bucket_count);
    t->next = a->buckets[b];
    a->buckets[b] = slot;
    a->count++;
}

int oms_attempts_replay(struct oms_attempts *a, const char *id, int64_t attempt,
                        struct oms_http_response *resp)
{
    size_t s = find(a, id, attempt);
    if (s == NO_SLOT)
        return 0;
    const struct attempt *t = &a->ring[s];
    resp->status = t->status;
    resp->fault = t->fault;
    resp->delay_ms = t->delay_ms;
    oms_buf_reset(&resp->body);
    if (t->body_len)
        oms_buf_append(&resp->body, t->body, t->body_len);
    for (size_t i = 0; i < t->header_count; i++)
        oms_http_response_header(resp, t->headers[i].name, t->headers[i].value);
    json_t *entry = t->entry;
    json_int_t resent = json_integer_value(json_object_get(entry, "resent"));
    json_object_set_new(entry, "resent", json_integer(resent + 1));
    return 1;
}
