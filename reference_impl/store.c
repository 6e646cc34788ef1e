/* store: SQLite persistence of the reference OMS. All SQL of the project is in this file. */
#include "store.h"
#include "store_pcache.h"

#include "oms_alloc.h"
#include "oms_buf.h"
#include "oms_json.h"
#include "oms_log.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE_SCHEMA_VERSION 1

/* The log, the outbox and its attempts are never deleted from between two loads (a load empties
 * them and the sequence table), so their ids are the same without AUTOINCREMENT, which would cost
 * every insert a second write (the sequence row). Files made before keep it, and work the same. */
static const char SCHEMA[] =
    "CREATE TABLE IF NOT EXISTS locations("
    " id INTEGER PRIMARY KEY, max_quota INTEGER NOT NULL, quota INTEGER NOT NULL,"
    " quota_drift INTEGER NOT NULL DEFAULT 0, scenario_rules TEXT NOT NULL DEFAULT '[]');"
    "CREATE TABLE IF NOT EXISTS packages("
    " id INTEGER PRIMARY KEY, location_id INTEGER NOT NULL REFERENCES locations(id),"
    " status INTEGER NOT NULL, order_number TEXT NOT NULL DEFAULT '');"
    /* By location only: a status in the index would make every transition move the package's
     * index entry (two more pages written); the quota count at a load reads the statuses. */
    "DROP INDEX IF EXISTS packages_by_location;"
    "CREATE INDEX IF NOT EXISTS packages_at_location ON packages(location_id);"
    "CREATE TABLE IF NOT EXISTS package_items("
    " id INTEGER PRIMARY KEY, package_id INTEGER NOT NULL REFERENCES packages(id),"
    " order_item INTEGER NOT NULL, sku TEXT NOT NULL, quantity INTEGER NOT NULL,"
    " status INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS items_by_package ON package_items(package_id);"
    "CREATE TABLE IF NOT EXISTS reservations("
    " id INTEGER PRIMARY KEY, package_id INTEGER NOT NULL REFERENCES packages(id),"
    " sku TEXT NOT NULL, quantity INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS reservations_by_package ON reservations(package_id);"
    "CREATE TABLE IF NOT EXISTS discrepancies("
    " id INTEGER PRIMARY KEY, package_id INTEGER NOT NULL REFERENCES packages(id),"
    " item_id INTEGER, kind TEXT NOT NULL, quantity INTEGER NOT NULL DEFAULT 1);"
    "CREATE INDEX IF NOT EXISTS discrepancies_by_package ON discrepancies(package_id);"
    "CREATE TABLE IF NOT EXISTS transition_log("
    " id INTEGER PRIMARY KEY, package_id INTEGER NOT NULL,"
    " transition_id INTEGER NOT NULL, slug TEXT NOT NULL, old_status INTEGER NOT NULL,"
    " new_status INTEGER NOT NULL, at_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS subscriptions("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, event_type TEXT NOT NULL, target_url TEXT NOT NULL,"
    " additional_headers TEXT NOT NULL DEFAULT '{}', secret_key TEXT, retry_config TEXT);"
    "CREATE TABLE IF NOT EXISTS outbox("
    " id INTEGER PRIMARY KEY, kind TEXT NOT NULL, method TEXT NOT NULL,"
    " url TEXT NOT NULL, headers TEXT NOT NULL, body TEXT NOT NULL, event_uuid TEXT,"
    " subscription_id INTEGER, transition_log_id INTEGER, state TEXT NOT NULL DEFAULT 'pending',"
    " attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL, retry TEXT,"
    " next_attempt_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL, last_status INTEGER,"
    " last_error TEXT);"
    /* Only pending rows are looked up by due time: a delivered or dead row leaves the index
     * rather than moving inside it, and the index stays as small as the backlog. */
    "DROP INDEX IF EXISTS outbox_due;"
    "CREATE INDEX IF NOT EXISTS outbox_pending ON outbox(next_attempt_ms) WHERE state = 'pending';"
    "CREATE TABLE IF NOT EXISTS outbox_attempts("
    " id INTEGER PRIMARY KEY, outbox_id INTEGER NOT NULL, at_ms INTEGER NOT NULL,"
    " status INTEGER, error TEXT, elapsed_ms INTEGER NOT NULL, retry_in_ms INTEGER);"
    "CREATE INDEX IF NOT EXISTS attempts_by_row ON outbox_attempts(outbox_id);"
    "CREATE TABLE IF NOT EXISTS settings(key TEXT PRIMARY KEY, value TEXT NOT NULL);";

/* Every statement the store runs, prepared once and reused. */
#define STORE_SQL(X)                                                                               \
    X(BEGIN, "BEGIN IMMEDIATE")                                                                    \
    X(COMMIT, "COMMIT")                                                                            \
    X(ROLLBACK, "ROLLBACK")                                                                        \
    X(LOCATION_GET, "SELECT id, max_quota, quota, quota_drift, scenario_rules FROM locations"      \
                    " WHERE id = ?1")                                                              \
    X(PACKAGE_GET, "SELECT id, location_id, status, order_number FROM packages WHERE id = ?1")     \
    X(ITEMS_LIST, "SELECT id, order_item, sku, quantity, status FROM package_items"                \
                  " WHERE package_id = ?1 ORDER BY id")                                            \
    X(PACKAGE_SET_STATUS, "UPDATE packages SET status = ?2 WHERE id = ?1")                         \
    X(ITEMS_SET_STATUS, "UPDATE package_items SET status = ?2 WHERE package_id = ?1")              \
    X(RESERVATIONS_DELETE, "DELETE FROM reservations WHERE package_id = ?1")                       \
    X(DISCREPANCIES_DELETE, "DELETE FROM discrepancies WHERE package_id = ?1")                     \
    X(QUOTA_SET, "UPDATE locations SET quota = ?2 WHERE id = ?1")                                  \
    X(LOG_INSERT, "INSERT INTO transition_log(package_id, transition_id, slug, old_status,"        \
                  " new_status, at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")                           \
    X(LOCATION_INSERT, "INSERT INTO locations(id, max_quota, quota, quota_drift, scenario_rules)"  \
                       " VALUES (?1, ?2, ?3, ?4, ?5)")                                             \
    X(PACKAGE_INSERT, "INSERT INTO packages(id, location_id, status, order_number)"                \
                      " VALUES (?1, ?2, ?3, ?4)")                                                  \
    X(ITEM_INSERT, "INSERT INTO package_items(id, package_id, order_item, sku, quantity, status)"  \
                   " VALUES (?1, ?2, ?3, ?4, ?5, ?6)")                                             \
    X(RESERVATION_INSERT, "INSERT INTO reservations(id, package_id, sku, quantity)"                \
                          " VALUES (?1, ?2, ?3, ?4)")                                              \
    X(DISCREPANCY_INSERT, "INSERT INTO discrepancies(id, package_id, item_id, kind, quantity)"     \
                          " VALUES (?1, ?2, ?3, ?4, ?5)")                                          \
    X(SUB_INSERT, "INSERT INTO subscriptions(event_type, target_url, additional_headers,"          \
                  " secret_key, retry_config) VALUES (?1, ?2, ?3, ?4, ?5)")                        \
    X(SUB_DELETE, "DELETE FROM subscriptions WHERE id = ?1")                                       \
    X(SUB_LIST, "SELECT id, event_type, target_url, additional_headers, secret_key, retry_config"  \
                " FROM subscriptions WHERE ?1 IS NULL OR event_type = ?1 ORDER BY id")             \
    X(SUB_GET, "SELECT id, event_type, target_url, additional_headers, secret_key, retry_config"   \
               " FROM subscriptions WHERE id = ?1")                                                \
    X(OUTBOX_INSERT, "INSERT INTO outbox(kind, method, url, headers, body, event_uuid,"            \
                     " subscription_id, transition_log_id, max_attempts, retry, next_attempt_ms,"  \
                     " created_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)")    \
    X(OUTBOX_DUE, "SELECT id, kind, method, url, headers, body, event_uuid, subscription_id,"      \
                  " transition_log_id, attempts, max_attempts, retry, next_attempt_ms FROM outbox" \
                  " WHERE state = 'pending' AND next_attempt_ms <= ?1"                             \
                  " ORDER BY next_attempt_ms, id LIMIT ?2")                                        \
    X(OUTBOX_UPDATE, "UPDATE outbox SET attempts = attempts + 1, state = ?2,"                      \
                     " next_attempt_ms = ?3, last_status = ?4, last_error = ?5 WHERE id = ?1")     \
    X(ATTEMPT_INSERT, "INSERT INTO outbox_attempts(outbox_id, at_ms, status, error, elapsed_ms,"   \
                      " retry_in_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")                             \
    X(OUTBOX_COUNTS, "SELECT state, COUNT(*), MIN(next_attempt_ms) FROM outbox GROUP BY state")    \
    X(OUTBOX_PENDING, "SELECT COUNT(*), MIN(next_attempt_ms) FROM outbox WHERE state = 'pending'") \
    X(OUTBOX_FRESH, "SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND attempts = 0")        \
    X(COUNT_IN, "SELECT COUNT(*) FROM packages WHERE location_id = ?1 AND status IN"               \
                " (SELECT value FROM json_each(?2))")                                              \
    X(EXISTS_LOCATION, "SELECT 1 FROM locations WHERE id = ?1")                                    \
    X(EXISTS_PACKAGE, "SELECT 1 FROM packages WHERE id = ?1")                                      \
    X(EXISTS_ITEM, "SELECT 1 FROM package_items WHERE id = ?1")                                    \
    X(EXISTS_RESERVATION, "SELECT 1 FROM reservations WHERE id = ?1")                              \
    X(EXISTS_DISCREPANCY, "SELECT 1 FROM discrepancies WHERE id = ?1")                             \
    X(SETTING_GET, "SELECT value FROM settings WHERE key = ?1")                                    \
    X(SETTING_SET, "INSERT INTO settings(key, value) VALUES (?1, ?2)"                              \
                   " ON CONFLICT(key) DO UPDATE SET value = excluded.value")

enum stmt_id {
#define STORE_X_ENUM(name, sql) SQL_##name,
    STORE_SQL(STORE_X_ENUM)
#undef STORE_X_ENUM
        SQL_COUNT_
};

static const char *const SQL_TEXT[] = {
#define STORE_X_TEXT(name, sql) sql,
    STORE_SQL(STORE_X_TEXT)
#undef STORE_X_TEXT
};

struct store {
    sqlite3 *db;
    pthread_mutex_t lock;
    sqlite3_stmt *stmts[SQL_COUNT_];
    /* Every subscription, read once and kept until one changes: a command looks them up on each
     * transition. */
    json_t *subs_cache;
    /* The export's statements, prepared once, keyed by the address of their SQL text. */
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } export_stmts[16];
};

static void forget_subscriptions(struct store *s);

/* A prepared statement, reset and unbound, ready for new parameters. */
static sqlite3_stmt *stmt(struct store *s, enum stmt_id id)
{
    sqlite3_stmt *st = s->stmts[id];
    if (!st) {
        if (sqlite3_prepare_v3(s->db, SQL_TEXT[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
            SQLITE_OK) {
            /* The SQL is fixed text: failing to prepare it is a programming error. */
            oms_fatal("cannot prepare \"%s\": %s", SQL_TEXT[id], sqlite3_errmsg(s->db));
        }
        s->stmts[id] = st;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return st;
}

/* Steps a statement that returns no rows. */
static int exec_stmt(struct store *s, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        oms_log(OMS_LOG_DEBUG, "store", "%s", sqlite3_errmsg(s->db));
        return OMS_E_DB;
    }
    return 0;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

static char *column_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? oms_xstrdup((const char *)t) : NULL;
}

static void column_copy(sqlite3_stmt *st, int i, char *out, size_t size)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    snprintf(out, size, "%s", t ? (const char *)t : "");
}

/* A file made by another schema version is refused rather than half-used. */
static int check_version(struct store *s, const char *file, struct oms_err *err)
{
    sqlite3_stmt *st = NULL;
    int version = -1;
    if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version == 0) {
        char sql[64];
        snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", STORE_SCHEMA_VERSION);
        if (sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK)
            return 0;
    }
    if (version == STORE_SCHEMA_VERSION)
        return 0;
    return oms_err_set(err, OMS_E_DB, file, 0, 0, NULL,
                       "database schema version %d, this program uses %d: start with a new file",
                       version, STORE_SCHEMA_VERSION);
}

static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

/* Memory statistics take a global mutex on every allocation; nothing here reads them. The page
 * cache wrapper spares large in-memory databases a scan of every page at each commit; when
 * SQLite was initialised before (an embedder's own use), its own cache stays. */
static void sqlite_setup(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    store_pcache_install();
}

int store_open(const char *path, struct store **out, struct oms_err *err)
{
    pthread_once(&sqlite_once, sqlite_setup);
    const char *file = path && path[0] ? path : ":memory:";
    struct store *s = OMS_NEW(struct store);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(file, &s->db, flags, NULL) != SQLITE_OK) {
        oms_err_set(err, OMS_E_DB, file, 0, 0, NULL, "cannot open database: %s",
                    s->db ? sqlite3_errmsg(s->db) : "out of memory");
        sqlite3_close(s->db);
        free(s);
        return OMS_E_DB;
    }
    int memory = strcmp(file, ":memory:") == 0;
    /* WAL with synchronous=NORMAL survives a killed process: a committed transaction is in the
     * log before COMMIT returns. */
    const char *pragmas = memory ? "PRAGMA foreign_keys = ON;"
                                 : "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
                                   " PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;";
    char *msg = NULL;
    if (sqlite3_exec(s->db, pragmas, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(s->db, SCHEMA, NULL, NULL, &msg) != SQLITE_OK) {
        oms_err_set(err, OMS_E_DB, file, 0, 0, NULL, "cannot prepare database: %s",
                    msg ? msg : sqlite3_errmsg(s->db));
        sqlite3_free(msg);
        sqlite3_close(s->db);
        free(s);
        return OMS_E_DB;
    }
    if (check_version(s, file, err) != 0) {
        sqlite3_close(s->db);
        free(s);
        return OMS_E_DB;
    }
    pthread_mutex_init(&s->lock, NULL);
    *out = s;
    return 0;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    forget_subscriptions(s);
    for (int i = 0; i < SQL_COUNT_; i++)
        sqlite3_finalize(s->stmts[i]);
    for (size_t i = 0; i < OMS_ARRAY_LEN(s->export_stmts); i++)
        sqlite3_finalize(s->export_stmts[i].st);
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void store_lock(struct store *s)
{
    pthread_mutex_lock(&s->lock);
}

void store_unlock(struct store *s)
{
    pthread_mutex_unlock(&s->lock);
}

int store_begin(struct store *s)
{
    return exec_stmt(s, stmt(s, SQL_BEGIN));
}

int store_commit(struct store *s)
{
    return exec_stmt(s, stmt(s, SQL_COMMIT));
}

void store_rollback(struct store *s)
{
    forget_subscriptions(s); /* it may have been read inside the transaction */
    if (!sqlite3_get_autocommit(s->db))
        exec_stmt(s, stmt(s, SQL_ROLLBACK));
}

const char *store_errmsg(struct store *s)
{
    return sqlite3_errmsg(s->db);
}

int store_location_get(struct store *s, int64_t id, struct store_location *out)
{
    sqlite3_stmt *st = stmt(s, SQL_LOCATION_GET);
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(st, 0);
        out->max_quota = sqlite3_column_int64(st, 1);
        out->quota = sqlite3_column_int64(st, 2);
        out->quota_drift = sqlite3_column_int(st, 3);
        column_copy(st, 4, out->scenario_rules, sizeof(out->scenario_rules));
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? OMS_E_NOENT : OMS_E_DB;
}

int store_package_get(struct store *s, int64_t id, struct store_package *out)
{
    sqlite3_stmt *st = stmt(s, SQL_PACKAGE_GET);
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        out->id = sqlite3_column_int64(st, 0);
        out->location = sqlite3_column_int64(st, 1);
        out->status = sqlite3_column_int64(st, 2);
        column_copy(st, 3, out->order_number, sizeof(out->order_number));
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? OMS_E_NOENT : OMS_E_DB;
}

int store_items_list(struct store *s, int64_t package_id, struct store_item **items, size_t *n)
{
    sqlite3_stmt *st = stmt(s, SQL_ITEMS_LIST);
    sqlite3_bind_int64(st, 1, package_id);
    size_t cap = 8, count = 0;
    struct store_item *arr = oms_xcalloc(cap, sizeof(*arr));
    int rc;
    for (rc = sqlite3_step(st); rc == SQLITE_ROW; rc = sqlite3_step(st)) {
        if (count == cap) {
            cap *= 2;
            arr = oms_xrealloc(arr, cap * sizeof(*arr));
        }
        struct store_item *it = &arr[count++];
        it->id = sqlite3_column_int64(st, 0);
        it->order_item = sqlite3_column_int64(st, 1);
        column_copy(st, 2, it->sku, sizeof(it->sku));
        it->quantity = sqlite3_column_int64(st, 3);
        it->status = sqlite3_column_int64(st, 4);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
        free(arr);
        return OMS_E_DB;
    }
    *items = arr;
    *n = count;
    return 0;
}

static int exec_id_value(struct store *s, enum stmt_id id, int64_t a, int64_t b)
{
    sqlite3_stmt *st = stmt(s, id);
    sqlite3_bind_int64(st, 1, a);
    sqlite3_bind_int64(st, 2, b);
    return exec_stmt(s, st);
}

int store_package_set_status(struct store *s, int64_t package_id, int64_t status)
{
    return exec_id_value(s, SQL_PACKAGE_SET_STATUS, package_id, status);
}

int store_items_set_status(struct store *s, int64_t package_id, int64_t status)
{
    return exec_id_value(s, SQL_ITEMS_SET_STATUS, package_id, status);
}

static int delete_by_package(struct store *s, enum stmt_id id, int64_t package_id, int64_t *deleted)
{
    sqlite3_stmt *st = stmt(s, id);
    sqlite3_bind_int64(st, 1, package_id);
    int rc = exec_stmt(s, st);
    if (rc == 0 && deleted)
        *deleted = sqlite3_changes64(s->db);
    return rc;
}

int store_reservations_delete(struct store *s, int64_t package_id, int64_t *deleted)
{
    return delete_by_package(s, SQL_RESERVATIONS_DELETE, package_id, deleted);
}

int store_discrepancies_delete(struct store *s, int64_t package_id, int64_t *deleted)
{
    return delete_by_package(s, SQL_DISCREPANCIES_DELETE, package_id, deleted);
}

int store_location_set_quota(struct store *s, int64_t location_id, int64_t quota)
{
    return exec_id_value(s, SQL_QUOTA_SET, location_id, quota);
}

int store_location_count_packages(struct store *s, int64_t location_id, const int64_t *statuses,
                                  size_t n, int64_t *count)
{
    /* The status set varies with the profile; it travels as one JSON array parameter. */
    struct oms_buf set;
    oms_buf_init(&set, 0);
    oms_buf_puts(&set, "[");
    for (size_t i = 0; i < n; i++)
        oms_buf_printf(&set, "%s%lld", i ? "," : "", (long long)statuses[i]);
    oms_buf_puts(&set, "]");
    sqlite3_stmt *st = stmt(s, SQL_COUNT_IN);
    sqlite3_bind_int64(st, 1, location_id);
    sqlite3_bind_text(st, 2, oms_buf_str(&set), (int)set.len, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64(st, 0);
    sqlite3_reset(st);
    oms_buf_cleanup(&set);
    return rc == SQLITE_ROW ? 0 : OMS_E_DB;
}

int store_log_insert(struct store *s, int64_t package_id, int64_t transition_id, const char *slug,
                     int64_t old_status, int64_t new_status, int64_t at_ms, int64_t *log_id)
{
    sqlite3_stmt *st = stmt(s, SQL_LOG_INSERT);
    sqlite3_bind_int64(st, 1, package_id);
    sqlite3_bind_int64(st, 2, transition_id);
    sqlite3_bind_text(st, 3, slug, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, old_status);
    sqlite3_bind_int64(st, 5, new_status);
    sqlite3_bind_int64(st, 6, at_ms);
    int rc = exec_stmt(s, st);
    if (rc == 0 && log_id)
        *log_id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

int store_reset(struct store *s)
{
    forget_subscriptions(s);
    char *msg = NULL;
    int rc = sqlite3_exec(s->db,
                          "DELETE FROM outbox_attempts; DELETE FROM outbox;"
                          " DELETE FROM transition_log; DELETE FROM subscriptions;"
                          " DELETE FROM discrepancies; DELETE FROM reservations;"
                          " DELETE FROM package_items; DELETE FROM packages;"
                          " DELETE FROM locations;"
                          " DELETE FROM sqlite_sequence;",
                          NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        oms_log(OMS_LOG_ERROR, "store", "reset: %s", msg ? msg : "?");
        sqlite3_free(msg);
        return OMS_E_DB;
    }
    return 0;
}

int store_insert_location(struct store *s, const struct store_location *l)
{
    sqlite3_stmt *st = stmt(s, SQL_LOCATION_INSERT);
    sqlite3_bind_int64(st, 1, l->id);
    sqlite3_bind_int64(st, 2, l->max_quota);
    sqlite3_bind_int64(st, 3, l->quota);
    sqlite3_bind_int(st, 4, l->quota_drift);
    sqlite3_bind_text(st, 5, l->scenario_rules[0] ? l->scenario_rules : "[]", -1, SQLITE_TRANSIENT);
    return exec_stmt(s, st);
}

int store_insert_package(struct store *s, const struct store_package *p)
{
    sqlite3_stmt *st = stmt(s, SQL_PACKAGE_INSERT);
    sqlite3_bind_int64(st, 1, p->id);
    sqlite3_bind_int64(st, 2, p->location);
    sqlite3_bind_int64(st, 3, p->status);
    sqlite3_bind_text(st, 4, p->order_number, -1, SQLITE_TRANSIENT);
    return exec_stmt(s, st);
}

int store_insert_item(struct store *s, int64_t package_id, const struct store_item *it)
{
    sqlite3_stmt *st = stmt(s, SQL_ITEM_INSERT);
    sqlite3_bind_int64(st, 1, it->id);
    sqlite3_bind_int64(st, 2, package_id);
    sqlite3_bind_int64(st, 3, it->order_item);
    sqlite3_bind_text(st, 4, it->sku, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, it->quantity);
    sqlite3_bind_int64(st, 6, it->status);
    return exec_stmt(s, st);
}

int store_insert_reservation(struct store *s, int64_t id, int64_t package_id, const char *sku,
                             int64_t quantity)
{
    sqlite3_stmt *st = stmt(s, SQL_RESERVATION_INSERT);
    if (id > 0)
        sqlite3_bind_int64(st, 1, id);
    else
        sqlite3_bind_null(st, 1);
    sqlite3_bind_int64(st, 2, package_id);
    sqlite3_bind_text(st, 3, sku, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, quantity);
    return exec_stmt(s, st);
}

int store_insert_discrepancy(struct store *s, int64_t id, int64_t package_id, int64_t item_id,
                             const char *kind, int64_t quantity)
{
    sqlite3_stmt *st = stmt(s, SQL_DISCREPANCY_INSERT);
    if (id > 0)
        sqlite3_bind_int64(st, 1, id);
    else
        sqlite3_bind_null(st, 1);
    sqlite3_bind_int64(st, 2, package_id);
    if (item_id > 0)
        sqlite3_bind_int64(st, 3, item_id);
    else
        sqlite3_bind_null(st, 3);
    sqlite3_bind_text(st, 4, kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, quantity);
    return exec_stmt(s, st);
}

int store_exists(struct store *s, const char *table, int64_t id)
{
    static const struct {
        const char *table;
        enum stmt_id stmt;
    } tables[] = {
        {"locations", SQL_EXISTS_LOCATION},        {"packages", SQL_EXISTS_PACKAGE},
        {"package_items", SQL_EXISTS_ITEM},        {"reservations", SQL_EXISTS_RESERVATION},
        {"discrepancies", SQL_EXISTS_DISCREPANCY},
    };
    for (size_t i = 0; i < OMS_ARRAY_LEN(tables); i++) {
        if (strcmp(table, tables[i].table) != 0)
            continue;
        sqlite3_stmt *st = stmt(s, tables[i].stmt);
        sqlite3_bind_int64(st, 1, id);
        int found = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_reset(st);
        return found;
    }
    return 0;
}

int store_subscription_insert(struct store *s, const struct store_subscription *sub, int64_t *id)
{
    forget_subscriptions(s);
    sqlite3_stmt *st = stmt(s, SQL_SUB_INSERT);
    sqlite3_bind_text(st, 1, sub->event_type, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, sub->target_url, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, sub->additional_headers ? sub->additional_headers : "{}", -1,
                      SQLITE_TRANSIENT);
    bind_text_or_null(st, 4, sub->secret_key);
    bind_text_or_null(st, 5, sub->retry_config);
    int rc = exec_stmt(s, st);
    if (rc == 0 && id)
        *id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

int store_subscription_delete(struct store *s, int64_t id)
{
    forget_subscriptions(s);
    sqlite3_stmt *st = stmt(s, SQL_SUB_DELETE);
    sqlite3_bind_int64(st, 1, id);
    int rc = exec_stmt(s, st);
    if (rc == 0 && sqlite3_changes64(s->db) == 0)
        return OMS_E_NOENT;
    return rc;
}

static json_t *json_column(sqlite3_stmt *st, int i)
{
    const char *t = (const char *)sqlite3_column_text(st, i);
    json_t *v = t ? json_loads(t, JSON_DECODE_ANY, NULL) : NULL;
    return v ? v : json_null();
}

static json_t *subscription_row(sqlite3_stmt *st)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(sqlite3_column_int64(st, 0)));
    json_object_set_new(o, "event_type", json_string((const char *)sqlite3_column_text(st, 1)));
    json_object_set_new(o, "target_url", json_string((const char *)sqlite3_column_text(st, 2)));
    json_object_set_new(o, "additional_headers", json_column(st, 3));
    const char *key = (const char *)sqlite3_column_text(st, 4);
    json_object_set_new(o, "secret_key", key ? json_string(key) : json_null());
    json_object_set_new(o, "retry_countdown_config", json_column(st, 5));
    return o;
}

json_t *store_subscriptions(struct store *s, const char *event_type)
{
    if (!s->subs_cache) {
        sqlite3_stmt *st = stmt(s, SQL_SUB_LIST);
        bind_text_or_null(st, 1, NULL);
        s->subs_cache = json_array();
        while (sqlite3_step(st) == SQLITE_ROW)
            json_array_append_new(s->subs_cache, subscription_row(st));
        sqlite3_reset(st);
    }
    json_t *arr = json_array();
    size_t i;
    json_t *sub;
    json_array_foreach(s->subs_cache, i, sub)
    {
        if (!event_type ||
            strcmp(json_string_value(json_object_get(sub, "event_type")), event_type) == 0)
            json_array_append(arr, sub);
    }
    return arr;
}

static void forget_subscriptions(struct store *s)
{
    json_decref(s->subs_cache);
    s->subs_cache = NULL;
}

json_t *store_subscription_get(struct store *s, int64_t id)
{
    sqlite3_stmt *st = stmt(s, SQL_SUB_GET);
    sqlite3_bind_int64(st, 1, id);
    json_t *o = sqlite3_step(st) == SQLITE_ROW ? subscription_row(st) : NULL;
    sqlite3_reset(st);
    return o;
}

int store_outbox_insert(struct store *s, struct store_outbox_row *row)
{
    sqlite3_stmt *st = stmt(s, SQL_OUTBOX_INSERT);
    sqlite3_bind_text(st, 1, row->kind, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, row->method, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, row->url, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, row->headers, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, row->body, -1, SQLITE_TRANSIENT);
    bind_text_or_null(st, 6, row->event_uuid);
    if (row->subscription_id > 0)
        sqlite3_bind_int64(st, 7, row->subscription_id);
    else
        sqlite3_bind_null(st, 7);
    sqlite3_bind_int64(st, 8, row->transition_log_id);
    sqlite3_bind_int64(st, 9, row->max_attempts);
    bind_text_or_null(st, 10, row->retry);
    sqlite3_bind_int64(st, 11, row->next_attempt_ms);
    int rc = exec_stmt(s, st);
    if (rc == 0)
        row->id = sqlite3_last_insert_rowid(s->db);
    return rc;
}

int store_outbox_due(struct store *s, int64_t now_ms, size_t limit,
                     int (*skip)(void *ctx, int64_t id), void *ctx, struct store_outbox_row **rows,
                     size_t *n)
{
    sqlite3_stmt *st = stmt(s, SQL_OUTBOX_DUE);
    sqlite3_bind_int64(st, 1, now_ms);
    sqlite3_bind_int64(st, 2, (sqlite3_int64)limit);
    struct store_outbox_row *arr = oms_xcalloc(limit ? limit : 1, sizeof(*arr));
    size_t count = 0;
    int rc = SQLITE_DONE;
    while (count < limit) {
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
            break;
        int64_t id = sqlite3_column_int64(st, 0);
        /* A skipped row's other columns are never read: SQLite fetches them lazily. */
        if (skip && skip(ctx, id))
            continue;
        struct store_outbox_row *r = &arr[count++];
        r->id = id;
        r->kind = column_dup(st, 1);
        r->method = column_dup(st, 2);
        r->url = column_dup(st, 3);
        r->headers = column_dup(st, 4);
        r->body = column_dup(st, 5);
        r->event_uuid = column_dup(st, 6);
        r->subscription_id = sqlite3_column_int64(st, 7);
        r->transition_log_id = sqlite3_column_int64(st, 8);
        r->attempts = sqlite3_column_int64(st, 9);
        r->max_attempts = sqlite3_column_int64(st, 10);
        r->retry = column_dup(st, 11);
        r->next_attempt_ms = sqlite3_column_int64(st, 12);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        store_outbox_rows_free(arr, count);
        *rows = NULL;
        *n = 0;
        return OMS_E_DB;
    }
    *rows = arr;
    *n = count;
    return 0;
}

void store_outbox_row_cleanup(struct store_outbox_row *row)
{
    free(row->kind);
    free(row->method);
    free(row->url);
    free(row->headers);
    free(row->body);
    free(row->event_uuid);
    free(row->retry);
    memset(row, 0, sizeof(*row));
}

void store_outbox_rows_free(struct store_outbox_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        store_outbox_row_cleanup(&rows[i]);
    free(rows);
}

int store_outbox_record_attempt(struct store *s, int64_t id, const struct store_attempt *a)
{
    const char *error = a->error && a->error[0] ? a->error : NULL;
    sqlite3_stmt *st = stmt(s, SQL_OUTBOX_UPDATE);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_text(st, 2, a->state, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, a->next_ms);
    if (a->status > 0)
        sqlite3_bind_int64(st, 4, a->status);
    else
        sqlite3_bind_null(st, 4);
    bind_text_or_null(st, 5, error);
    int rc = exec_stmt(s, st);
    if (rc != 0 || sqlite3_changes64(s->db) == 0)
        return rc;
    st = stmt(s, SQL_ATTEMPT_INSERT);
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, a->at_ms);
    if (a->status > 0)
        sqlite3_bind_int64(st, 3, a->status);
    else
        sqlite3_bind_null(st, 3);
    bind_text_or_null(st, 4, error);
    sqlite3_bind_int64(st, 5, a->elapsed_ms);
    if (a->retry_in_ms >= 0)
        sqlite3_bind_int64(st, 6, a->retry_in_ms);
    else
        sqlite3_bind_null(st, 6);
    return exec_stmt(s, st);
}

int store_outbox_pending(struct store *s, int64_t *pending, int64_t *next_due_ms)
{
    sqlite3_stmt *st = stmt(s, SQL_OUTBOX_PENDING);
    int rc = sqlite3_step(st);
    *pending = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    *next_due_ms = rc == SQLITE_ROW && sqlite3_column_type(st, 1) != SQLITE_NULL
                       ? sqlite3_column_int64(st, 1)
                       : INT64_MAX;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : OMS_E_DB;
}

int store_outbox_fresh(struct store *s, int64_t *fresh)
{
    sqlite3_stmt *st = stmt(s, SQL_OUTBOX_FRESH);
    int rc = sqlite3_step(st);
    *fresh = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_reset(st);
    return rc == SQLITE_ROW ? 0 : OMS_E_DB;
}

int store_outbox_counts(struct store *s, int64_t *pending, int64_t *delivered, int64_t *dead,
                        int64_t *next_due_ms)
{
    sqlite3_stmt *st = stmt(s, SQL_OUTBOX_COUNTS);
    *pending = *delivered = *dead = 0;
    *next_due_ms = INT64_MAX;
    int rc;
    for (rc = sqlite3_step(st); rc == SQLITE_ROW; rc = sqlite3_step(st)) {
        const char *state = (const char *)sqlite3_column_text(st, 0);
        int64_t n = sqlite3_column_int64(st, 1);
        if (strcmp(state, "pending") == 0) {
            *pending = n;
            *next_due_ms = sqlite3_column_int64(st, 2);
        } else if (strcmp(state, "delivered") == 0) {
            *delivered = n;
        } else {
            *dead += n;
        }
    }
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : OMS_E_DB;
}

int store_setting_get(struct store *s, const char *key, char **value)
{
    sqlite3_stmt *st = stmt(s, SQL_SETTING_GET);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    *value = rc == SQLITE_ROW ? column_dup(st, 0) : NULL;
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : OMS_E_DB;
}

int store_setting_set(struct store *s, const char *key, const char *value)
{
    sqlite3_stmt *st = stmt(s, SQL_SETTING_SET);
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
    return exec_stmt(s, st);
}

/* ---- export ---- */

/* Runs a read query and turns each row into an object with the given column names; columns whose
 * name ends in "_json" are parsed and stored under the name without the suffix. */
static json_t *rows_json(struct store *s, const char *sql, int64_t param, int with_param)
{
    json_t *arr = json_array();
    sqlite3_stmt *st = NULL;
    size_t slot = 0;
    while (slot < OMS_ARRAY_LEN(s->export_stmts) && s->export_stmts[slot].sql &&
           s->export_stmts[slot].sql != sql)
        slot++;
    if (slot < OMS_ARRAY_LEN(s->export_stmts) && s->export_stmts[slot].sql == sql) {
        st = s->export_stmts[slot].st;
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    } else if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) !=
               SQLITE_OK) {
        oms_log(OMS_LOG_ERROR, "store", "export: %s", sqlite3_errmsg(s->db));
        return arr;
    } else if (slot < OMS_ARRAY_LEN(s->export_stmts)) {
        s->export_stmts[slot].sql = sql;
        s->export_stmts[slot].st = st;
    }
    if (with_param)
        sqlite3_bind_int64(st, 1, param);
    int cols = sqlite3_column_count(st);
    while (sqlite3_step(st) == SQLITE_ROW) {
        json_t *o = json_object();
        for (int i = 0; i < cols; i++) {
            const char *name = sqlite3_column_name(st, i);
            size_t len = strlen(name);
            json_t *v;
            if (len > 5 && strcmp(name + len - 5, "_json") == 0) {
                char key[64];
                snprintf(key, sizeof(key), "%.*s", (int)(len - 5), name);
                json_object_set_new(o, key, json_column(st, i));
                continue;
            }
            switch (sqlite3_column_type(st, i)) {
            case SQLITE_INTEGER:
                v = json_integer(sqlite3_column_int64(st, i));
                break;
            case SQLITE_NULL:
                v = json_null();
                break;
            default:
                v = oms_json_string_lossy((const char *)sqlite3_column_text(st, i),
                                          (size_t)sqlite3_column_bytes(st, i));
            }
            json_object_set_new(o, name, v);
        }
        json_array_append_new(arr, o);
    }
    if (slot < OMS_ARRAY_LEN(s->export_stmts) && s->export_stmts[slot].st == st)
        sqlite3_reset(st);
    else
        sqlite3_finalize(st);
    return arr;
}

json_t *store_export(struct store *s)
{
    json_t *doc = json_object();
    json_t *locations =
        rows_json(s,
                  "SELECT id, max_quota, quota, max_quota - quota AS available_quota,"
                  " CASE quota_drift WHEN 0 THEN json('false') ELSE json('true') END"
                  " AS quota_drift_json, scenario_rules AS scenario_rules_json"
                  " FROM locations ORDER BY id",
                  0, 0);
    json_t *packages = rows_json(s,
                                 "SELECT id, location_id AS location, status, order_number"
                                 " FROM packages ORDER BY id",
                                 0, 0);
    size_t i;
    json_t *p;
    json_array_foreach(packages, i, p)
    {
        int64_t id = json_integer_value(json_object_get(p, "id"));
        json_object_set_new(p, "items",
                            rows_json(s,
                                      "SELECT id, order_item, sku, quantity, status"
                                      " FROM package_items WHERE package_id = ?1 ORDER BY id",
                                      id, 1));
        json_object_set_new(p, "reservations",
                            rows_json(s,
                                      "SELECT id, sku, quantity FROM reservations"
                                      " WHERE package_id = ?1 ORDER BY id",
                                      id, 1));
        json_object_set_new(p, "discrepancies",
                            rows_json(s,
                                      "SELECT id, item_id AS item, kind, quantity"
                                      " FROM discrepancies WHERE package_id = ?1 ORDER BY id",
                                      id, 1));
    }
    json_t *outbox = rows_json(s,
                               "SELECT id, kind, method, url, headers AS headers_json, body,"
                               " event_uuid, subscription_id AS subscription, transition_log_id"
                               " AS transition_log, state, attempts, max_attempts, retry AS"
                               " retry_json, next_attempt_ms, created_ms, last_status, last_error"
                               " FROM outbox ORDER BY id",
                               0, 0);
    json_t *row;
    json_array_foreach(outbox, i, row)
    {
        int64_t id = json_integer_value(json_object_get(row, "id"));
        json_object_set_new(row, "attempt_history",
                            rows_json(s,
                                      "SELECT at_ms, status, error, elapsed_ms, retry_in_ms FROM"
                                      " outbox_attempts WHERE outbox_id = ?1 ORDER BY id",
                                      id, 1));
    }
    json_object_set_new(doc, "locations", locations);
    json_object_set_new(doc, "packages", packages);
    json_object_set_new(doc, "transition_log",
                        rows_json(s,
                                  "SELECT id, package_id AS package, transition_id AS"
                                  " transition, slug, old_status, new_status, at_ms"
                                  " FROM transition_log ORDER BY id",
                                  0, 0));
    json_object_set_new(doc, "subscriptions", store_subscriptions(s, NULL));
    json_object_set_new(doc, "outbox", outbox);
    return doc;
}

int store_count_rows(struct store *s, int64_t *rows)
{
    static const char sql[] =
        "SELECT (SELECT COUNT(*) FROM packages) + (SELECT COUNT(*) FROM package_items)"
        " + (SELECT COUNT(*) FROM reservations) + (SELECT COUNT(*) FROM discrepancies)"
        " + (SELECT COUNT(*) FROM transition_log) + (SELECT COUNT(*) FROM outbox)"
        " + (SELECT COUNT(*) FROM outbox_attempts)";
    sqlite3_stmt *st = NULL;
    *rows = 0;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return OMS_E_DB;
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : OMS_E_DB;
    if (rc == 0)
        *rows = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc;
}
