/* store_pcache: the default page cache (pcache1) behind a thin wrapper that answers needless
 * truncations itself.
 *
 * Why: every commit asks the cache to drop the pages beyond the database's end (xTruncate). When a
 * b-tree page split swaps two pages, SQLite parks one of them for a moment at a temporary number,
 * the page after the pending byte (262145 with 4 KiB pages; btree.c, balance_nonroot). pcache1
 * then believes pages reach that far, and the next commit of an in-memory database smaller than
 * 1 GiB scans its whole hash table - every page of the database - to find nothing to drop. With
 * 800,000 packages that scan was 13% of a command's CPU, and it grew with the database. The wrapper
 * keeps a bound on the page numbers that can be in the cache (the temporary number counted only
 * while a page sits there) and passes a truncation on only when a page at or above the limit can
 * exist. */
#include "store_pcache.h"

#include <sqlite3.h>
#include <stdatomic.h>
#include <stdlib.h>

#define SQLITE_PENDING_BYTE 0x40000000u /* sqlite3PendingByte's default */

struct wrapped {
    sqlite3_pcache *inner;
    unsigned top;     /* no page numbered above this, the temporary number aside */
    unsigned temp;    /* the number a page split parks a page at */
    unsigned at_temp; /* pages parked there now */
};

static sqlite3_pcache_methods2 inner_methods;
static atomic_ullong passed_count, skipped_count;

static int w_init(void *arg)
{
    return inner_methods.xInit ? inner_methods.xInit(arg) : SQLITE_OK;
}

static void w_shutdown(void *arg)
{
    if (inner_methods.xShutdown)
        inner_methods.xShutdown(arg);
}

static sqlite3_pcache *w_create(int page_size, int extra, int purgeable)
{
    struct wrapped *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->inner = inner_methods.xCreate(page_size, extra, purgeable);
    if (!w->inner) {
        free(w);
        return NULL;
    }
    w->temp = SQLITE_PENDING_BYTE / (unsigned)page_size + 1;
    return (sqlite3_pcache *)w;
}

static void w_cachesize(sqlite3_pcache *p, int n)
{
    inner_methods.xCachesize(((struct wrapped *)p)->inner, n);
}

static int w_pagecount(sqlite3_pcache *p)
{
    return inner_methods.xPagecount(((struct wrapped *)p)->inner);
}

static void note_key(struct wrapped *w, unsigned key)
{
    if (key == w->temp)
        w->at_temp++;
    else if (key > w->top)
        w->top = key;
}

static sqlite3_pcache_page *w_fetch(sqlite3_pcache *p, unsigned key, int create)
{
    struct wrapped *w = (struct wrapped *)p;
    sqlite3_pcache_page *page = inner_methods.xFetch(w->inner, key, create);
    /* A page found or made at the temporary number is counted as a real one: never dropped from
     * the bound by a rekey away, so the bound stays safe. */
    if (page && key > w->top)
        w->top = key;
    return page;
}

static void w_unpin(sqlite3_pcache *p, sqlite3_pcache_page *page, int discard)
{
    inner_methods.xUnpin(((struct wrapped *)p)->inner, page, discard);
}

static void w_rekey(sqlite3_pcache *p, sqlite3_pcache_page *page, unsigned old_key,
                    unsigned new_key)
{
    struct wrapped *w = (struct wrapped *)p;
    inner_methods.xRekey(w->inner, page, old_key, new_key);
    if (old_key == w->temp && w->at_temp > 0)
        w->at_temp--;
    note_key(w, new_key);
}

static void w_truncate(sqlite3_pcache *p, unsigned limit)
{
    struct wrapped *w = (struct wrapped *)p;
    int parked = w->at_temp > 0 && w->temp >= limit;
    if (w->top < limit && !parked) {
        atomic_fetch_add_explicit(&skipped_count, 1, memory_order_relaxed);
        return;
    }
    atomic_fetch_add_explicit(&passed_count, 1, memory_order_relaxed);
    inner_methods.xTruncate(w->inner, limit);
    if (limit > 0 && w->top >= limit)
        w->top = limit - 1;
    if (w->temp >= limit)
        w->at_temp = 0;
}

static void w_destroy(sqlite3_pcache *p)
{
    struct wrapped *w = (struct wrapped *)p;
    inner_methods.xDestroy(w->inner);
    free(w);
}

static void w_shrink(sqlite3_pcache *p)
{
    if (inner_methods.xShrink)
        inner_methods.xShrink(((struct wrapped *)p)->inner);
}

int store_pcache_install(void)
{
    if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &inner_methods) != SQLITE_OK ||
        !inner_methods.xCreate)
        return -1;
    sqlite3_pcache_methods2 wrapper = {
        .iVersion = 1,
        .pArg = inner_methods.pArg,
        .xInit = w_init,
        .xShutdown = w_shutdown,
        .xCreate = w_create,
        .xCachesize = w_cachesize,
        .xPagecount = w_pagecount,
        .xFetch = w_fetch,
        .xUnpin = w_unpin,
        .xRekey = w_rekey,
        .xTruncate = w_truncate,
        .xDestroy = w_destroy,
        .xShrink = w_shrink,
    };
    return sqlite3_config(SQLITE_CONFIG_PCACHE2, &wrapper) == SQLITE_OK ? 0 : -1;
}

void store_pcache_stats(uint64_t *passed, uint64_t *skipped)
{
    *passed = atomic_load(&passed_count);
    *skipped = atomic_load(&skipped_count);
}
