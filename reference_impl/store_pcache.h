/* store_pcache: SQLite's default page cache, wrapped so that a commit does not walk every page of
 * a large in-memory database. */
#ifndef STORE_PCACHE_H
#define STORE_PCACHE_H

#include <stdint.h>

/* Installs the wrapper as SQLite's page cache. Must run before SQLite is initialised (before the
 * process's first connection); returns 0, or -1 when SQLite refused (already initialised), in which
 * case its own cache stays in place and only the cost differs. Not thread-safe: call it once
 * (store_open does, under pthread_once). */
int store_pcache_install(void);

/* What the wrapper did since the process started: truncations passed on to SQLite's cache, and
 * those it answered itself because no page at or above the limit could exist. For tests. */
void store_pcache_stats(uint64_t *passed, uint64_t *skipped);

#endif
