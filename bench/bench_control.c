/* bench_control: blocking control requests over libcurl's easy interface. */
#include "bench_control.h"

#include "oms_buf.h"
#include "oms_time.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t collect(char *data, size_t size, size_t n, void *ctx)
{
    struct oms_buf *b = ctx;
    if (oms_buf_append(b, data, size * n) != 0)
        return 0;
    return size * n;
}

const char *bench_fixture_token(void)
{
    /* Set once, before any server starts: the children inherit it. */
    setenv("REFUND_FIXTURE_TOKEN", "bench-fixture-token", 0);
    return getenv("REFUND_FIXTURE_TOKEN");
}

long bench_http(const char *method, const char *url, const char *body, size_t body_len,
                long timeout_ms, char **resp, double *seconds)
{
    CURL *h = curl_easy_init();
    if (!h)
        return 0;
    struct oms_buf out;
    oms_buf_init(&out, 0);
    struct curl_slist *headers = curl_slist_append(NULL, "Expect:");
    headers = curl_slist_append(headers, "Content-Type: application/json");
    /* Control calls carry the fixture token the measured servers were started with. */
    char token[300];
    snprintf(token, sizeof(token), "X-Fixture-Token: %s", bench_fixture_token());
    headers = curl_slist_append(headers, token);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &out);
    if (!body && (strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0))
        body = "";
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    }
    int64_t start = oms_time_mono_us();
    CURLcode code = curl_easy_perform(h);
    long status = 0;
    if (code == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    else
        fprintf(stderr, "bench: %s %s: %s\n", method, url, curl_easy_strerror(code));
    if (seconds)
        *seconds = (double)(oms_time_mono_us() - start) / 1e6;
    if (resp)
        *resp = oms_buf_take(&out, NULL);
    oms_buf_cleanup(&out);
    curl_slist_free_all(headers);
    curl_easy_cleanup(h);
    return status;
}

long bench_fixture_put(const char *base, const char *doc, size_t len, double *seconds)
{
    char url[512];
    snprintf(url, sizeof(url), "%s/_fixture/state", base);
    char *resp = NULL;
    long status = bench_http("PUT", url, doc, len, 900000, &resp, seconds);
    if (status != 204)
        fprintf(stderr, "bench: fixture load answered %ld: %.300s\n", status, resp ? resp : "");
    free(resp);
    return status;
}

/* The reference refuses a drain longer than its --max-drain-ms (60 s by default): a longer wait
 * is asked for in steps. */
#define DRAIN_STEP_MS 50000L

int bench_drain(const char *base, long timeout_ms)
{
    int64_t deadline = oms_time_mono_us() + (int64_t)timeout_ms * 1000;
    for (;;) {
        long left = (long)((deadline - oms_time_mono_us()) / 1000);
        long step = left < 1 ? 1 : left < DRAIN_STEP_MS ? left : DRAIN_STEP_MS;
        char url[512];
        snprintf(url, sizeof(url), "%s/_fixture/drain?timeout_ms=%ld", base, step);
        char *resp = NULL;
        long status = bench_http("POST", url, NULL, 0, step + 30000, &resp, NULL);
        int drained = status == 200 && resp &&
                      (strstr(resp, "\"drained\": true") || strstr(resp, "\"drained\":true"));
        if (status != 200)
            fprintf(stderr, "bench: drain answered %ld: %.300s\n", status, resp ? resp : "");
        free(resp);
        if (drained || status != 200 || left <= step)
            return drained;
    }
}
