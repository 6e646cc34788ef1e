/* oms_http_client: libcurl easy and multi interfaces behind an exchange structure. */
#define _POSIX_C_SOURCE 200809L
#include "oms_http_client.h"

#include "oms_alloc.h"
#include "oms_error.h"
#include "oms_time.h"
#include "oms_limits.h"

#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define RESPONSE_BODY_MAX (16u * 1024u * 1024u)

struct oms_http_client {
    CURL *easy; /* reused for single exchanges so the connection stays open */
    CURLM *multi;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct oms_http_client *oms_http_client_create(void)
{
    pthread_once(&global_once, global_init);
    struct oms_http_client *c = OMS_NEW(struct oms_http_client);
    c->easy = curl_easy_init();
    c->multi = curl_multi_init();
    if (!c->easy || !c->multi) {
        oms_fatal("libcurl could not create a handle");
    }
    return c;
}

void oms_http_client_destroy(struct oms_http_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->easy);
    curl_multi_cleanup(c->multi);
    free(c);
}

static void free_headers(struct oms_http_exchange *x)
{
    for (size_t i = 0; i < x->resp_header_count; i++) {
        free(x->resp_headers[i].name);
        free(x->resp_headers[i].value);
    }
    free(x->resp_headers);
    x->resp_headers = NULL;
    x->resp_header_count = 0;
}

void oms_http_exchange_cleanup(struct oms_http_exchange *x)
{
    if (!x)
        return;
    oms_buf_cleanup(&x->resp_body);
    free_headers(x);
    x->status = 0;
    x->error[0] = '\0';
}

const char *oms_http_exchange_header(const struct oms_http_exchange *x, const char *name)
{
    for (size_t i = 0; i < x->resp_header_count; i++)
        if (strcasecmp(x->resp_headers[i].name, name) == 0)
            return x->resp_headers[i].value;
    return NULL;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct oms_http_exchange *x = userdata;
    size_t n = size * nmemb;
    if (oms_buf_append(&x->resp_body, ptr, n) != 0)
        return 0; /* over the cap: curl reports a write error */
    return n;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *userdata)
{
    struct oms_http_exchange *x = userdata;
    size_t n = size * nmemb;
    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
        free_headers(x); /* a new response (after 100 Continue or a redirect) starts over */
        return n;
    }
    const char *colon = memchr(line, ':', n);
    if (!colon)
        return n;
    size_t name_len = (size_t)(colon - line);
    const char *v = colon + 1;
    const char *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && isspace((unsigned char)end[-1]))
        end--;
    x->resp_headers =
        oms_xrealloc(x->resp_headers, (x->resp_header_count + 1) * sizeof(*x->resp_headers));
    x->resp_headers[x->resp_header_count].name = oms_xstrndup(line, name_len);
    x->resp_headers[x->resp_header_count].value = oms_xstrndup(v, (size_t)(end - v));
    x->resp_header_count++;
    return n;
}

/* Prepares h for x; returns the header list the caller frees after the transfer. */
static struct curl_slist *setup(CURL *h, struct oms_http_exchange *x)
{
    oms_http_exchange_cleanup(x);
    oms_buf_init(&x->resp_body, RESPONSE_BODY_MAX);
    x->result = 0;

    const char *method = x->method ? x->method : "GET";
    curl_easy_setopt(h, CURLOPT_URL, x->url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS,
                     x->timeout_ms > 0 ? x->timeout_ms : (long)OMS_HTTP_TIMEOUT_DEFAULT_MS);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                     x->timeout_ms > 0 ? x->timeout_ms : (long)OMS_HTTP_TIMEOUT_DEFAULT_MS);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(h, CURLOPT_PRIVATE, x);
    curl_easy_setopt(h, CURLOPT_PROXY, "");
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    /* Outbound calls speak HTTP only, whatever a URL says (no gopher://, file://...). */
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, OMS_HTTP_CLIENT_PROTOCOLS);
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, OMS_HTTP_CLIENT_PROTOCOLS);

    /* libcurl silently sends a request again when a reused connection dies before any answer;
     * a harness must send exactly once, so requests that change state get their own connection. */
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 && !x->idempotent) {
        curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
    }
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (x->body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, x->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)x->body_len);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        if (strcmp(method, "GET") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }

    /* curl would add these on its own; a test harness must send exactly what it was told. */
    struct curl_slist *list = curl_slist_append(NULL, "Expect:");
    int has_type = 0;
    for (size_t i = 0; i < x->header_count; i++)
        if (strncasecmp(x->headers[i], "Content-Type:", 13) == 0)
            has_type = 1;
    if (x->body && !has_type)
        list = curl_slist_append(list, "Content-Type:");
    for (size_t i = 0; i < x->header_count; i++)
        list = curl_slist_append(list, x->headers[i]);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
    return list;
}

static void finish(CURL *h, struct oms_http_exchange *x, CURLcode code, int64_t start_us)
{
    x->elapsed_us = oms_time_mono_us() - start_us;
    if (code == CURLE_OK) {
        long status = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        x->status = status;
        x->result = 0;
        return;
    }
    x->status = 0;
    x->result = code == CURLE_OPERATION_TIMEDOUT ? OMS_E_TIMEOUT : OMS_E_HTTP;
    snprintf(x->error, sizeof(x->error), "%s %s: %s", x->method ? x->method : "GET", x->url,
             curl_easy_strerror(code));
}

int oms_http_client_perform(struct oms_http_client *c, struct oms_http_exchange *x)
{
    curl_easy_reset(c->easy);
    struct curl_slist *list = setup(c->easy, x);
    int64_t start = oms_time_mono_us();
    CURLcode code = curl_easy_perform(c->easy);
    finish(c->easy, x, code, start);
    curl_slist_free_all(list);
    return x->result;
}

int oms_http_client_perform_many(struct oms_http_client *c, struct oms_http_exchange *xs, size_t n)
{
    CURL **handles = oms_xcalloc(n, sizeof(*handles));
    struct curl_slist **lists = oms_xcalloc(n, sizeof(*lists));
    int64_t start = oms_time_mono_us();
    for (size_t i = 0; i < n; i++) {
        handles[i] = curl_easy_init();
        if (!handles[i]) {
            oms_fatal("libcurl could not create a handle");
        }
        lists[i] = setup(handles[i], &xs[i]);
        /* Separate connections, so the requests really are concurrent. */
        curl_easy_setopt(handles[i], CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(handles[i], CURLOPT_FORBID_REUSE, 1L);
        curl_multi_add_handle(c->multi, handles[i]);
    }
    int running = 1;
    while (running) {
        if (curl_multi_perform(c->multi, &running) != CURLM_OK)
            break;
        int left = 0;
        CURLMsg *msg;
        for (msg = curl_multi_info_read(c->multi, &left); msg;
             msg = curl_multi_info_read(c->multi, &left)) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            struct oms_http_exchange *x = NULL;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
            finish(msg->easy_handle, x, msg->data.result, start);
        }
        if (running)
            curl_multi_poll(c->multi, NULL, 0, 100, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        curl_multi_remove_handle(c->multi, handles[i]);
        curl_easy_cleanup(handles[i]);
        curl_slist_free_all(lists[i]);
    }
    free(handles);
    free(lists);
    return 0;
}

/* ---- pool ---- */

struct pool_slot {
    CURL *easy;
    struct curl_slist *list;
    struct oms_http_exchange *x;
    int64_t start_us;
};

struct oms_http_pool {
    CURLM *multi;
    struct pool_slot *slots;
    size_t count;
    size_t cap;
    CURL **idle; /* easy handles of ended exchanges, reset, for the next ones */
    size_t idle_count;
    size_t idle_cap;
};

struct oms_http_pool *oms_http_pool_create(void)
{
    pthread_once(&global_once, global_init);
    struct oms_http_pool *p = OMS_NEW(struct oms_http_pool);
    p->multi = curl_multi_init();
    if (!p->multi) {
        oms_fatal("libcurl could not create a multi handle");
    }
    /* Idle connections kept for the next exchanges (libcurl's default follows the number of
     * exchanges in flight, so a lull would close them). */
    curl_multi_setopt(p->multi, CURLMOPT_MAXCONNECTS, (long)OMS_HTTP_POOL_KEEP_CONNECTIONS);
    return p;
}

/* The exchange's handle is kept for the next one (creating one costs about as much as the
 * rest of setting up a transfer). */
static void slot_release(struct oms_http_pool *p, size_t i)
{
    curl_multi_remove_handle(p->multi, p->slots[i].easy);
    curl_slist_free_all(p->slots[i].list);
    if (p->idle_count == p->idle_cap) {
        p->idle_cap = p->idle_cap ? p->idle_cap * 2 : 16;
        p->idle = oms_xrealloc(p->idle, p->idle_cap * sizeof(*p->idle));
    }
    curl_easy_reset(p->slots[i].easy);
    p->idle[p->idle_count++] = p->slots[i].easy;
    p->slots[i] = p->slots[--p->count];
}

void oms_http_pool_destroy(struct oms_http_pool *p)
{
    if (!p)
        return;
    while (p->count)
        slot_release(p, p->count - 1);
    for (size_t i = 0; i < p->idle_count; i++)
        curl_easy_cleanup(p->idle[i]);
    free(p->idle);
    free(p->slots);
    curl_multi_cleanup(p->multi);
    free(p);
}

void oms_http_pool_add(struct oms_http_pool *p, struct oms_http_exchange *x)
{
    if (p->count == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->slots = oms_xrealloc(p->slots, p->cap * sizeof(*p->slots));
    }
    struct pool_slot *s = &p->slots[p->count++];
    s->easy = p->idle_count ? p->idle[--p->idle_count] : curl_easy_init();
    if (!s->easy) {
        oms_fatal("libcurl could not create a handle");
    }
    s->x = x;
    s->list = setup(s->easy, x);
    s->start_us = oms_time_mono_us();
    curl_multi_add_handle(p->multi, s->easy);
}

size_t oms_http_pool_run(struct oms_http_pool *p, int wait_ms, struct oms_http_exchange **done,
                         size_t max)
{
    int running = 0;
    size_t n = 0;
    curl_multi_perform(p->multi, &running);
    if (p->count > 0 || wait_ms > 0) {
        curl_multi_poll(p->multi, NULL, 0, wait_ms, NULL);
        curl_multi_perform(p->multi, &running);
    }
    for (;;) {
        int left = 0;
        CURLMsg *msg = curl_multi_info_read(p->multi, &left);
        if (!msg)
            break;
        if (msg->msg != CURLMSG_DONE)
            continue;
        for (size_t i = 0; i < p->count; i++) {
            if (p->slots[i].easy != msg->easy_handle)
                continue;
            if (n == max)
                break; /* callers pass max >= active, so this cannot drop a completion */
            finish(p->slots[i].easy, p->slots[i].x, msg->data.result, p->slots[i].start_us);
            done[n++] = p->slots[i].x;
            slot_release(p, i);
            break;
        }
    }
    return n;
}

size_t oms_http_pool_active(const struct oms_http_pool *p)
{
    return p->count;
}

void oms_http_pool_wakeup(struct oms_http_pool *p)
{
    curl_multi_wakeup(p->multi);
}

int oms_http_url_allowed(const char *url)
{
    if (!url)
        return 0;
    size_t skip = strncasecmp(url, "http://", 7) == 0    ? 7
                  : strncasecmp(url, "https://", 8) == 0 ? 8
                                                         : 0;
    /* A host must follow the scheme. */
    return skip > 0 && url[skip] != '\0' && url[skip] != '/';
}
