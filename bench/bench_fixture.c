/* bench_fixture: seed documents and command requests for the benchmarks. */
#include "bench_fixture.h"

#include <stdio.h>
#include <string.h>

const char *const bench_command_headers[] = {
    "Content-Type: application/json",
    "Authorization: Token " BENCH_TOKEN,
};
const size_t bench_command_header_count = 2;

void bench_fixture_package(struct oms_buf *b, uint64_t id)
{
    char text[400];
    unsigned long long i = (unsigned long long)id;
    int n = snprintf(text, sizeof(text),
                     "{\"id\":%llu,\"location\":1,\"status\":\"Waiting\",\"order_number\":"
                     "\"ORDER-%llu\",\"items\":[{\"id\":%llu,\"sku\":\"SKU-A\"},{\"id\":%llu,"
                     "\"sku\":\"SKU-B\"}],\"reservations\":[{\"id\":%llu,\"sku\":\"SKU-A\"}]}",
                     i, i, 2 * i - 1, 2 * i, i);
    oms_buf_append(b, text, (size_t)n);
}

char *bench_fixture_text(const struct bench_fixture_spec *spec, size_t *len)
{
    struct oms_buf b;
    oms_buf_init(&b, 0);
    long long quota = spec->quota < 0 ? (long long)spec->packages : (long long)spec->quota;
    long long max_quota = (long long)spec->packages > quota ? (long long)spec->packages : quota;
    oms_buf_printf(&b,
                   "{\"omnitron\":{\"url\":\"%s\",\"token\":\"omnitron-token\"},"
                   "\"locations\":[{\"id\":1,\"max_quota\":%lld,\"quota\":%lld}],"
                   "\"subscriptions\":[",
                   spec->omnitron, max_quota > 0 ? max_quota : 1, quota);
    for (unsigned k = 1; k <= spec->subscriptions; k++)
        oms_buf_printf(&b,
                       "%s{\"event_type\":\"package.status.packed_for_refund\","
                       "\"target_url\":\"%s/hooks/s%u\"}",
                       k > 1 ? "," : "", spec->hooks, k);
    if (spec->generate && spec->packages > 0) {
        oms_buf_printf(&b,
                       "],\"generate\":[{\"packages\":%llu,\"first_id\":1,\"location\":1,"
                       "\"status\":\"Waiting\",\"items_per_package\":2,\"first_item_id\":1,"
                       "\"reservations_per_package\":1}]}",
                       (unsigned long long)spec->packages);
        return oms_buf_take(&b, len);
    }
    oms_buf_puts(&b, "],\"packages\":[");
    for (uint64_t i = 1; i <= spec->packages; i++) {
        if (i > 1)
            oms_buf_append(&b, ",", 1);
        bench_fixture_package(&b, i);
    }
    oms_buf_puts(&b, "]}");
    return oms_buf_take(&b, len);
}

int bench_commands_next(void *ctx, uint64_t seq, struct loadgen_request *req)
{
    (void)seq;
    struct bench_commands *c = ctx;
    if (c->next_id > c->last_id)
        return 1;
    unsigned long long id = (unsigned long long)c->next_id++;
    snprintf(req->url, sizeof(req->url), "%s/api/v1/oms/packages/%llu/command/", c->base, id);
    int n = snprintf(req->body, sizeof(req->body), "{\"package\":%llu,\"transition\":17%s}", id,
                     c->no_sync ? ",\"sync_remote_order_status\":false" : "");
    req->body_len = (size_t)n;
    return 0;
}
