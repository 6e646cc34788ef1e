/* loadgen: closed-loop HTTP load over libcurl multi with kept-alive connections. */
#define _POSIX_C_SOURCE 200809L
#include "loadgen.h"

#include "oms_alloc.h"
#include "oms_time.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct slot {
    CURL *h;
    uint64_t seq;
    int64_t start_us;
    int busy;
    struct loadgen_request req;
};

struct run {
    const struct loadgen_config *cfg;
    int64_t begin_us;
    CURLM *multi;
    struct curl_slist *headers;
    struct slot *slots;
    uint64_t next_seq;
    int exhausted;
    struct bench_samples lat;
    struct loadgen_result res;
};

int64_t loadgen_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static size_t discard(char *data, size_t size, size_t n, void *ctx)
{
    (void)data;
    (void)ctx;
    return size * n;
}

/* Starts the slot's next request; returns 0, or 1 when none is left to send. */
static int start(struct run *r, struct slot *s)
{
    const struct loadgen_config *cfg = r->cfg;
    if (r->exhausted || (cfg->max_requests && r->next_seq >= cfg->max_requests)) {
        r->exhausted = 1;
        return 1;
    }
    s->seq = r->next_seq;
    s->req.body_len = 0;
    if (cfg->next(cfg->ctx, s->seq, &s->req) != 0) {
        r->exhausted = 1;
        return 1;
    }
    r->next_seq++;
    curl_easy_setopt(s->h, CURLOPT_URL, s->req.url);
    curl_easy_setopt(s->h, CURLOPT_CUSTOMREQUEST, cfg->method);
    if (s->req.body_len > 0) {
        curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, s->req.body);
        curl_easy_setopt(s->h, CURLOPT_POSTFIELDSIZE, (long)s->req.body_len);
    } else {
        curl_easy_setopt(s->h, CURLOPT_POSTFIELDS, NULL);
        curl_easy_setopt(s->h, CURLOPT_HTTPGET, 1L);
        curl_easy_setopt(s->h, CURLOPT_CUSTOMREQUEST, cfg->method);
    }
    s->start_us = oms_time_mono_us();
    s->busy = 1;
    curl_multi_add_handle(r->multi, s->h);
    return 0;
}

static void finish(struct run *r, struct slot *s, CURLcode code, int64_t t0, int64_t t_end)
{
    int64_t now = oms_time_mono_us();
    long status = 0;
    long connects = 0;
    if (code == CURLE_OK)
        curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(s->h, CURLINFO_NUM_CONNECTS, &connects);
    r->res.connects += (uint64_t)connects;
    if (code == CURLE_OK)
        r->res.answered++;
    curl_multi_remove_handle(r->multi, s->h);
    s->busy = 0;
    if (r->cfg->done)
        r->cfg->done(r->cfg->ctx, s->seq, code == CURLE_OK ? status : 0, loadgen_wall_us());
    if (now < t0 || now > t_end)
        return;
    r->res.requests++;
    if (code != CURLE_OK)
        r->res.errors++;
    else if (status >= 200 && status < 300)
        r->res.ok++;
    else {
        r->res.non2xx++;
        r->res.last_bad_status = status;
    }
    bench_samples_add(&r->lat, (double)(now - s->start_us));
}

static CURL *new_handle(struct run *r)
{
    CURL *h = curl_easy_init();
    if (!h)
        return NULL;
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, r->headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    return h;
}

int loadgen_run(const struct loadgen_config *cfg, struct loadgen_result *out)
{
    struct run r = {.cfg = cfg};
    unsigned n = cfg->connections ? cfg->connections : 1;
    int rc = -1;
    memset(out, 0, sizeof(*out));
    bench_samples_init(&r.lat);
    r.multi = curl_multi_init();
    if (!r.multi)
        return -1;
    curl_multi_setopt(r.multi, CURLMOPT_MAXCONNECTS, (long)n);
    curl_multi_setopt(r.multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)n);
    /* No "Expect: 100-continue" round trip for larger bodies. */
    r.headers = curl_slist_append(NULL, "Expect:");
    for (size_t i = 0; i < cfg->header_count; i++)
        r.headers = curl_slist_append(r.headers, cfg->headers[i]);
    r.slots = oms_xcalloc(n, sizeof(*r.slots));
    for (unsigned i = 0; i < n; i++) {
        r.slots[i].h = new_handle(&r);
        if (!r.slots[i].h)
            goto cleanup;
    }

    int64_t begin = oms_time_mono_us();
    r.begin_us = begin;
    int64_t t0 = begin + (int64_t)(cfg->warmup_s * 1e6);
    int64_t t_end = t0 + (int64_t)(cfg->duration_s * 1e6);
    int64_t last_done = t0;
    unsigned busy = 0;
    for (unsigned i = 0; i < n && cfg->rate <= 0; i++)
        if (start(&r, &r.slots[i]) == 0)
            busy++;
    for (;;) {
        if (cfg->rate > 0 && !r.exhausted) {
            /* Open loop: every request that is due goes out on a free connection. */
            int64_t now = oms_time_mono_us();
            while (busy < n && now <= t_end) {
                int64_t due = begin + (int64_t)((double)r.next_seq * 1e6 / cfg->rate);
                if (due > now)
                    break;
                struct slot *free_slot = NULL;
                for (unsigned i = 0; i < n && !free_slot; i++)
                    if (!r.slots[i].busy)
                        free_slot = &r.slots[i];
                if (now - due > 1000)
                    r.res.late++;
                if (start(&r, free_slot) != 0)
                    break;
                busy++;
            }
            if (now > t_end)
                r.exhausted = 1;
        }
        if (busy == 0 && (cfg->rate <= 0 || r.exhausted))
            break;
        int running = 0;
        curl_multi_perform(r.multi, &running);
        CURLMsg *m;
        int left;
        for (m = curl_multi_info_read(r.multi, &left); m;
             m = curl_multi_info_read(r.multi, &left)) {
            if (m->msg != CURLMSG_DONE)
                continue;
            struct slot *s = NULL;
            for (unsigned i = 0; i < n && !s; i++)
                if (r.slots[i].h == m->easy_handle)
                    s = &r.slots[i];
            if (!s)
                continue;
            CURLcode code = m->data.result;
            finish(&r, s, code, t0, t_end);
            busy--;
            int64_t now = oms_time_mono_us();
            if (now <= t_end) {
                last_done = now;
                if (cfg->rate <= 0 && start(&r, s) == 0)
                    busy++;
            }
        }
        /* Wait for answers, and (open loop) no longer than until the next request is due. */
        int wait_ms = 100;
        if (cfg->rate > 0 && !r.exhausted && busy < n) {
            int64_t due = begin + (int64_t)((double)r.next_seq * 1e6 / cfg->rate);
            int64_t until = (due - oms_time_mono_us()) / 1000;
            wait_ms = until < 1 ? 0 : until < 100 ? (int)until : 100;
        }
        if (busy > 0 || wait_ms > 0)
            curl_multi_poll(r.multi, NULL, 0, wait_ms, NULL);
    }
    /* A run that ran out of requests ends at its last answer, not at the deadline. */
    int64_t end = r.exhausted && last_done < t_end ? last_done : t_end;
    out->requests = r.res.requests;
    out->ok = r.res.ok;
    out->non2xx = r.res.non2xx;
    out->errors = r.res.errors;
    out->answered = r.res.answered;
    out->connects = r.res.connects;
    out->late = r.res.late;
    out->last_bad_status = r.res.last_bad_status;
    out->seconds = end > t0 ? (double)(end - t0) / 1e6 : 0;
    out->rps = out->seconds > 0 ? (double)out->requests / out->seconds : 0;
    out->p50_us = bench_samples_pct(&r.lat, 50);
    out->p99_us = bench_samples_pct(&r.lat, 99);
    out->mean_us = bench_samples_mean(&r.lat);
    out->max_us = bench_samples_pct(&r.lat, 100);
    rc = 0;
cleanup:
    for (unsigned i = 0; i < n; i++)
        if (r.slots[i].h) {
            if (r.slots[i].busy)
                curl_multi_remove_handle(r.multi, r.slots[i].h);
            curl_easy_cleanup(r.slots[i].h);
        }
    free(r.slots);
    curl_slist_free_all(r.headers);
    curl_multi_cleanup(r.multi);
    bench_samples_cleanup(&r.lat);
    return rc;
}
