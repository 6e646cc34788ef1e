/* cmdlog: an in-memory ring of command requests and answers. */
#include "cmdlog.h"

#include "oms_alloc.h"
#include "oms_json.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define BODY_KEEP 4096

/* Kept as the request's bytes; the JSON a reader sees is made when it reads (building it for
 * every command cost more than the command's checks). */
struct entry {
    int64_t seq;
    int64_t at_ms;
    char *method;
    char *path;
    char *body; /* the first BODY_KEEP bytes */
    size_t body_len;
    int status;
    char *answer; /* NULL: none */
};

struct cmdlog {
    pthread_mutex_t mu;
    struct entry ring[CMDLOG_MAX];
    size_t next; /* slot of the next entry */
    size_t count;
    int64_t seq;
};

static void entry_cleanup(struct entry *e)
{
    free(e->method);
    free(e->path);
    free(e->body);
    free(e->answer);
    memset(e, 0, sizeof(*e));
}

struct cmdlog *cmdlog_create(void)
{
    struct cmdlog *l = OMS_NEW(struct cmdlog);
    pthread_mutex_init(&l->mu, NULL);
    return l;
}

void cmdlog_clear(struct cmdlog *l)
{
    pthread_mutex_lock(&l->mu);
    for (size_t i = 0; i < CMDLOG_MAX; i++)
        entry_cleanup(&l->ring[i]);
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
    struct entry e = {.at_ms = at_ms, .status = status};
    e.method = oms_xstrdup(method);
    e.path = oms_xstrdup(path);
    e.body_len = body && body_len > BODY_KEEP ? BODY_KEEP : body ? body_len : 0;
    e.body = oms_xmalloc(e.body_len + 1); /* the bytes as they came, NULs too */
    if (e.body_len)
        memcpy(e.body, body, e.body_len);
    e.body[e.body_len] = '\0';
    e.answer = answer ? oms_xstrdup(answer) : NULL;
    pthread_mutex_lock(&l->mu);
    e.seq = ++l->seq;
    struct entry old = l->ring[l->next];
    l->ring[l->next] = e;
    l->next = (l->next + 1) % CMDLOG_MAX;
    if (l->count < CMDLOG_MAX)
        l->count++;
    pthread_mutex_unlock(&l->mu);
    entry_cleanup(&old);
}

static json_t *entry_json(const struct entry *e)
{
    json_t *parsed = e->answer ? json_loads(e->answer, 0, NULL) : NULL;
    json_t *doc =
        json_pack("{s:I, s:s, s:o, s:o, s:i, s:o}", "at_ms", (json_int_t)e->at_ms, "method",
                  e->method, "path", oms_json_string_lossy(e->path, strlen(e->path)), "body",
                  oms_json_string_lossy(e->body, e->body_len), "status", e->status, "answer",
                  parsed      ? parsed
                  : e->answer ? json_string(e->answer)
                              : json_null());
    json_object_set_new(doc, "seq", json_integer(e->seq));
    return doc;
}

json_t *cmdlog_json(struct cmdlog *l)
{
    json_t *arr = json_array();
    pthread_mutex_lock(&l->mu);
    size_t first = (l->next + CMDLOG_MAX - l->count) % CMDLOG_MAX;
    for (size_t i = 0; i < l->count; i++)
        json_array_append_new(arr, entry_json(&l->ring[(first + i) % CMDLOG_MAX]));
    pthread_mutex_unlock(&l->mu);
    return arr;
}
