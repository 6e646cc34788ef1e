/* cmdlog: an in-memory ring of command requests and answers. */
#include "cmdlog.h"

#include "oms_alloc.h"
#include "oms_json.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BODY_KEEP 4096

struct cmdlog {
    pthread_mutex_t mu;
    json_t *ring[CMDLOG_MAX];
    size_t next; /* slot of the next entry */
    size_t count;
    int64_t seq;
};

struct cmdlog *cmdlog_create(void)
{
    struct cmdlog *l = OMS_NEW(struct cmdlog);
    pthread_mutex_init(&l->mu, NULL);
    return l;
}

void cmdlog_clear(struct cmdlog *l)
{
    pthread_mutex_lock(&l->mu);
    for (size_t i = 0; i < CMDLOG_MAX; i++) {
        json_decref(l->ring[i]);
        l->ring[i] = NULL;
    }
    l->next = 0;
    l->count = 0;
    pthread_mutex_unlock(&l->mu);
}

void cmdlog_destroy(struct cmdlog *l)
{
    if (!l)
        return;
    cmdlog_clear(l);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

void cmdlog_add(struct cmdlog *l, int64_t at_ms, const char *method, const char *path,
                const char *body, size_t body_len, int status, const char *answer)
{
    json_t *parsed = answer ? json_loads(answer, 0, NULL) : NULL;
    json_t *e = json_pack(
        "{s:I, s:s, s:o, s:o, s:i, s:o}", "at_ms", (json_int_t)at_ms, "method", method, "path",
        oms_json_string_lossy(path, strlen(path)), "body",
        oms_json_string_lossy(body ? body : "", body_len > BODY_KEEP ? BODY_KEEP : body_len),
        "status", status, "answer",
        parsed   ? parsed
        : answer ? json_string(answer)
                 : json_null());
    pthread_mutex_lock(&l->mu);
    json_object_set_new(e, "seq", json_integer(++l->seq));
    json_decref(l->ring[l->next]);
    l->ring[l->next] = e;
    l->next = (l->next + 1) % CMDLOG_MAX;
    if (l->count < CMDLOG_MAX)
        l->count++;
    pthread_mutex_unlock(&l->mu);
}

json_t *cmdlog_json(struct cmdlog *l)
{
    json_t *arr = json_array();
    pthread_mutex_lock(&l->mu);
    size_t first = (l->next + CMDLOG_MAX - l->count) % CMDLOG_MAX;
    for (size_t i = 0; i < l->count; i++)
        json_array_append(arr, l->ring[(first + i) % CMDLOG_MAX]);
    pthread_mutex_unlock(&l->mu);
    return arr;
}
