/* scenario: scenario files, from bytes to a checked structure. */
#include "scenario.h"

#include "matcher.h"
#include "oms_alloc.h"
#include "oms_buf.h"
#include "oms_json.h"
#include "suggest.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SCENARIO_MAX_BYTES (8u * 1024u * 1024u)

static int read_file(const char *file, struct oms_buf *b, struct oms_err *err)
{
    FILE *f = fopen(file, "rb");
    if (!f)
        return oms_err_set(err, OMS_E_IO, file, 0, 0, NULL, "cannot open: %s", strerror(errno));
    char chunk[65536];
    int rc = 0;
    for (;;) {
        size_t n = fread(chunk, 1, sizeof(chunk), f);
        if (n == 0)
            break;
        if (oms_buf_append(b, chunk, n) != 0) {
            rc = oms_err_set(err, OMS_E_INVAL, file, 0, 0, NULL, "file is larger than %u bytes",
                             SCENARIO_MAX_BYTES);
            break;
        }
    }
    if (!rc && ferror(f))
        rc = oms_err_set(err, OMS_E_IO, file, 0, 0, NULL, "read error: %s", strerror(errno));
    fclose(f);
    return rc;
}

char *scenario_where(const struct scenario *s, const char *path, char *out, size_t size)
{
    int line = 0, col = 0;
    jpos_lookup(s->pos, path, &line, &col);
    snprintf(out, size, "%s:%d:%d", s->file, line, col);
    return out;
}

struct checker {
    const char *file;
    struct jpos *pos;
    struct oms_err *errs;
    size_t max;
    size_t count;
};

static void report(struct checker *c, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(struct checker *c, const char *path, const char *fmt, ...)
{
    if (c->count < c->max) {
        int line = 0, col = 0;
        jpos_lookup(c->pos, path, &line, &col);
        va_list ap;
        va_start(ap, fmt);
        oms_err_clear(&c->errs[c->count]);
        oms_err_vset(&c->errs[c->count], OMS_E_INVAL, c->file, line, col, path, fmt, ap);
        va_end(ap);
    }
    c->count++;
}

/* ---- regular expressions: bounded before the C library compiles them ---- */

/* The C library's regcomp copies a group once per repetition and recurses once per nesting level:
 * "((a{1000}){1000}){1000}" would take many gigabytes and "((((...a))))" 20,000 deep overflows
 * the stack. A pattern is refused beyond these bounds (generous for any real check). */
#define REGEX_MAX_COPIES 100000.0
#define REGEX_MAX_DEPTH  100

struct regex_scan {
    const char *p;
    int depth;
    int too_deep;
};

static double regex_alternation(struct regex_scan *r);

/* One atom: a group, a bracket expression, an escaped or a plain character. */
static double regex_atom(struct regex_scan *r)
{
    char ch = *r->p++;
    if (ch == '(') {
        if (++r->depth > REGEX_MAX_DEPTH) {
            r->too_deep = 1;
            return REGEX_MAX_COPIES + 1;
        }
        double inner = regex_alternation(r);
        r->depth--;
        if (*r->p == ')')
            r->p++;
        return inner + 1;
    }
    if (ch == '[') {
        if (*r->p == '^')
            r->p++;
        if (*r->p == ']')
            r->p++;
        while (*r->p && *r->p != ']') {
            if (r->p[0] == '[' && (r->p[1] == ':' || r->p[1] == '.' || r->p[1] == '=')) {
                const char *end = strstr(r->p + 2, (const char[]){r->p[1], ']', '\0'});
                r->p = end ? end + 2 : r->p + strlen(r->p);
            } else {
                r->p++;
            }
        }
        if (*r->p)
            r->p++;
    } else if (ch == '\\' && *r->p) {
        r->p++;
    }
    return 1;
}

/* How many copies "{m,n}" (or "*", "+", "?") makes of what it follows. */
static double regex_quantifier(struct regex_scan *r)
{
    char ch = *r->p;
    if (ch == '*' || ch == '?') {
        r->p++;
        return 1;
    }
    if (ch == '+') { /* "a+" is compiled as "aa*" */
        r->p++;
        return 2;
    }
    if (ch != '{')
        return 0;
    const char *q = r->p + 1;
    double low = 0, high = -1;
    while (*q >= '0' && *q <= '9')
        low = low * 10 + (*q++ - '0');
    if (*q == ',') {
        q++;
        if (*q >= '0' && *q <= '9')
            high = 0;
        while (*q >= '0' && *q <= '9')
            high = high * 10 + (*q++ - '0');
        if (high < 0)
            high = low + 1; /* "{m,}": m copies and a star */
    }
    if (*q != '}')
        return 0; /* not a bound: regcomp judges it */
    r->p = q + 1;
    double n = high > low ? high : low;
    return n > 1 ? n : 1;
}

static double regex_sequence(struct regex_scan *r)
{
    double total = 0;
    while (*r->p && *r->p != '|' && *r->p != ')' && total <= REGEX_MAX_COPIES) {
        double piece = regex_atom(r);
        for (double n = regex_quantifier(r); n > 0 && piece <= REGEX_MAX_COPIES;
             n = regex_quantifier(r))
            piece *= n;
        total += piece;
    }
    return total;
}

static double regex_alternation(struct regex_scan *r)
{
    double total = regex_sequence(r);
    while (*r->p == '|' && total <= REGEX_MAX_COPIES) {
        r->p++;
        total += regex_sequence(r);
    }
    return total;
}

/* Refuses, at path, a pattern too large or too deep for regcomp. Returns 1 when it did. */
static int check_regex(struct checker *c, const char *pattern, const char *path)
{
    struct regex_scan r = {.p = pattern};
    double copies = 0;
    while (*r.p && copies <= REGEX_MAX_COPIES) {
        copies += regex_alternation(&r);
        if (*r.p == ')') /* unbalanced: regcomp says so */
            r.p++;
    }
    if (r.too_deep)
        report(c, path, "the regular expression nests groups more than %d deep", REGEX_MAX_DEPTH);
    else if (copies > REGEX_MAX_COPIES)
        report(c, path,
               "the regular expression's repetitions would expand to more than %.0f copies; "
               "use smaller bounds",
               REGEX_MAX_COPIES);
    return r.too_deep || copies > REGEX_MAX_COPIES;
}

/* Checks every "$regex" pattern under v (but not inside "$literal" data). Returns how many were
 * refused. */
static size_t check_regexes(struct checker *c, const json_t *v, const char *path)
{
    char child[OMS_ERR_PATH_MAX];
    size_t refused = 0;
    if (json_is_array(v)) {
        size_t i;
        json_t *item;
        json_array_foreach((json_t *)v, i, item)
        {
            refused += check_regexes(c, item, oms_jpath_index(child, sizeof(child), path, i));
        }
    } else if (json_is_object(v)) {
        const char *key;
        json_t *item;
        json_object_foreach((json_t *)v, key, item)
        {
            oms_jpath_key(child, sizeof(child), path, key);
            if (strcmp(key, "$literal") == 0)
                continue;
            if (strcmp(key, "$regex") == 0 && json_is_string(item))
                refused += (size_t)check_regex(c, json_string_value(item), child);
            else
                refused += check_regexes(c, item, child);
        }
    }
    return refused;
}

static void check_matchers(struct checker *c, const json_t *v, const char *path)
{
    struct oms_err e = {0};
    if (v && check_regexes(c, v, path) == 0 && matcher_validate(v, path, &e) != 0)
        report(c, e.path, "%s", e.message);
}

static void check_calls(struct checker *c, const json_t *calls, const char *path)
{
    char p[OMS_ERR_PATH_MAX], q[OMS_ERR_PATH_MAX];
    const json_t *list = json_is_object(calls) ? json_object_get(calls, "$unordered") : calls;
    const char *base =
        json_is_object(calls) ? oms_jpath_key(q, sizeof(q), path, "$unordered") : path;
    size_t i;
    json_t *call;
    json_array_foreach((json_t *)list, i, call)
    {
        oms_jpath_index(p, sizeof(p), base, i);
        const char *key;
        json_t *v;
        json_object_foreach(call, key, v)
        {
            char kp[OMS_ERR_PATH_MAX];
            check_matchers(c, v, oms_jpath_key(kp, sizeof(kp), p, key));
        }
        if (json_object_get(call, "signed_with") && json_object_get(call, "unsigned"))
            report(c, p, "a call cannot be both \"signed_with\" and \"unsigned\"");
    }
}

/* then.packages.<id> at q: item keys are item ids with a status each; reservations and
 * discrepancies may hold matchers. */
static void check_package_expectation(struct checker *c, const json_t *v, const char *q)
{
    const json_t *items = json_object_get(v, "items");
    char ip[OMS_ERR_PATH_MAX], tmp[OMS_ERR_PATH_MAX];
    const char *ik;
    json_t *iv;
    json_object_foreach((json_t *)items, ik, iv)
    {
        const char *d = ik + strspn(ik, "0123456789");
        oms_jpath_key(ip, sizeof(ip), oms_jpath_key(tmp, sizeof(tmp), q, "items"), ik);
        if (!ik[0] || *d)
            report(c, ip, "item keys must be item ids, found \"%s\"", ik);
        else if (!json_is_string(iv) && !json_is_integer(iv))
            report(c, ip, "expected a status name or number");
    }
    char rp[OMS_ERR_PATH_MAX];
    check_matchers(c, json_object_get(v, "reservations"),
                   oms_jpath_key(rp, sizeof(rp), q, "reservations"));
    check_matchers(c, json_object_get(v, "discrepancies"),
                   oms_jpath_key(rp, sizeof(rp), q, "discrepancies"));
}

static void check_expectations(struct checker *c, const json_t *then, const char *path)
{
    char p[OMS_ERR_PATH_MAX], q[OMS_ERR_PATH_MAX];
    if (!then)
        return;
    const json_t *response = json_object_get(then, "response");
    if (response) {
        oms_jpath_key(p, sizeof(p), path, "response");
        check_matchers(c, json_object_get(response, "status"),
                       oms_jpath_key(q, sizeof(q), p, "status"));
        check_matchers(c, json_object_get(response, "body"),
                       oms_jpath_key(q, sizeof(q), p, "body"));
        check_matchers(c, json_object_get(response, "headers"),
                       oms_jpath_key(q, sizeof(q), p, "headers"));
    }
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(then, "responses"), key, v)
    {
        oms_jpath_key(q, sizeof(q), oms_jpath_key(p, sizeof(p), path, "responses"), key);
        char bp[OMS_ERR_PATH_MAX];
        check_matchers(c, json_object_get(v, "body"), oms_jpath_key(bp, sizeof(bp), q, "body"));
    }
    json_object_foreach(json_object_get(then, "packages"), key, v)
    {
        check_package_expectation(
            c, v, oms_jpath_key(q, sizeof(q), oms_jpath_key(p, sizeof(p), path, "packages"), key));
    }
    json_object_foreach(json_object_get(then, "locations"), key, v)
    {
        oms_jpath_key(q, sizeof(q), oms_jpath_key(p, sizeof(p), path, "locations"), key);
        check_matchers(c, v, q);
    }
    check_matchers(c, json_object_get(then, "outbox"), oms_jpath_key(p, sizeof(p), path, "outbox"));
    const json_t *log = json_object_get(then, "transition_log");
    if (log) {
        oms_jpath_key(p, sizeof(p), path, "transition_log");
        if (json_is_object(log) && !matcher_is_matcher(log)) {
            json_t *count = json_object_get(log, "count");
            if (json_object_size(log) != 1 || !count)
                report(c, p, "expected a list of entries, a matcher, or {\"count\": n}");
            else
                check_matchers(c, count, oms_jpath_key(q, sizeof(q), p, "count"));
        } else if (!json_is_array(log) && !matcher_is_matcher(log)) {
            report(c, p, "expected a list of entries, a matcher, or {\"count\": n}");
        } else {
            check_matchers(c, log, p);
        }
    }
    if (json_object_get(then, "omnitron"))
        check_calls(c, json_object_get(then, "omnitron"),
                    oms_jpath_key(p, sizeof(p), path, "omnitron"));
    const json_t *hooks = json_object_get(then, "webhooks");
    if (json_is_object(hooks)) {
        json_object_foreach((json_t *)hooks, key, v)
        {
            oms_jpath_key(q, sizeof(q), oms_jpath_key(p, sizeof(p), path, "webhooks"), key);
            check_calls(c, v, q);
        }
    }
}

/* A crash step (schema first, then what a schema cannot say). */
static void check_crash(struct checker *c, const struct scenario_step *st, const char *p)
{
    char q[OMS_ERR_PATH_MAX], b[OMS_ERR_PATH_MAX], pb[OMS_ERR_PATH_MAX];
    const json_t *r = st->request;
    const json_t *burst = json_object_get(r, "burst");
    const json_t *after = json_object_get(r, "after");
    if (st->concurrent > 1)
        report(c, oms_jpath_key(q, sizeof(q), st->path, "concurrent"),
               "a crash step sends its commands as a \"burst\" (burst.concurrent)");
    if (json_object_get(st->then, "response") || json_object_get(st->then, "responses"))
        report(c, oms_jpath_key(q, sizeof(q), st->path, "then"),
               "a crash step checks its commands itself (answered, in flight, lost): it has no "
               "\"response\" or \"responses\" to check");
    if (!burst) {
        static const char *const needs_burst[] = {"after", "at", "seed", "delay_ms"};
        for (size_t i = 0; i < OMS_ARRAY_LEN(needs_burst); i++)
            if (json_object_get(r, needs_burst[i]))
                report(c, oms_jpath_key(q, sizeof(q), p, needs_burst[i]),
                       "\"%s\" is about the commands of a \"burst\"; without one the target is "
                       "killed at once",
                       needs_burst[i]);
        return;
    }
    oms_jpath_key(b, sizeof(b), p, "burst");
    if (!after == !json_object_get(r, "at"))
        report(c, p,
               "a burst needs when to kill: \"after\": N (after the Nth answer) or \"at\": "
               "\"random\", not %s",
               after ? "both" : "neither");
    if (json_object_get(r, "seed") && !json_object_get(r, "at"))
        report(c, oms_jpath_key(q, sizeof(q), p, "seed"),
               "\"seed\" draws the moment of \"at\": \"random\"; \"after\" needs none");
    const json_t *packages = json_object_get(burst, "packages");
    size_t count = 0;
    if (json_is_array(packages)) {
        count = json_array_size(packages);
        for (size_t i = 0; i < count; i++)
            for (size_t j = 0; j < i; j++)
                if (json_equal(json_array_get(packages, i), json_array_get(packages, j))) {
                    char pk[OMS_ERR_PATH_MAX];
                    oms_jpath_index(q, sizeof(q), oms_jpath_key(pk, sizeof(pk), b, "packages"), i);
                    report(c, q, "package %lld is listed twice; a burst sends one command each",
                           (long long)json_integer_value(json_array_get(packages, i)));
                    j = i;
                }
    } else {
        count = (size_t)json_integer_value(json_object_get(packages, "count"));
    }
    if (after && (size_t)json_integer_value(after) > count)
        report(c, oms_jpath_key(q, sizeof(q), p, "after"),
               "the burst has %zu command(s): it cannot be killed after answer %lld", count,
               (long long)json_integer_value(after));
    if (json_object_get(json_object_get(burst, "body"), "package"))
        report(c, oms_jpath_key(q, sizeof(q), oms_jpath_key(pb, sizeof(pb), b, "body"), "package"),
               "the harness sets \"package\" to each package of the burst; remove it");
}

static void check_request(struct checker *c, const struct scenario_step *st)
{
    static const char *const keys[] = {"command", "http", "lifecycle", "receivers", "crash"};
    char p[OMS_ERR_PATH_MAX], q[OMS_ERR_PATH_MAX];
    oms_jpath_key(p, sizeof(p), st->path, keys[st->kind]);
    const json_t *r = st->request;
    if (st->kind == STEP_CRASH) {
        check_crash(c, st, p);
        return;
    }
    if (st->kind == STEP_RECEIVERS) {
        if (st->concurrent > 1)
            report(c, oms_jpath_key(q, sizeof(q), st->path, "concurrent"),
                   "only command and http steps can be sent concurrently");
        if (json_object_get(st->then, "response") || json_object_get(st->then, "responses"))
            report(c, oms_jpath_key(q, sizeof(q), st->path, "then"),
                   "a receivers step sends no request to the target: it has no response");
        return;
    }
    if (st->kind == STEP_LIFECYCLE) {
        if (json_object_get(r, "action") && !json_object_get(r, "package"))
            report(c, p, "a lifecycle action needs the \"package\" it acts on");
        if (json_object_get(r, "plan") && json_object_get(r, "package"))
            report(c, oms_jpath_key(q, sizeof(q), p, "package"),
                   "\"plan\" carries its package inside; remove \"package\"");
        if (st->concurrent > 1)
            report(c, oms_jpath_key(q, sizeof(q), st->path, "concurrent"),
                   "only command and http steps can be sent concurrently");
        return;
    }
    if (st->kind == STEP_HTTP && !json_object_get(r, "path"))
        report(c, p, "an http step needs a \"path\"");
    if (st->kind == STEP_COMMAND && !json_object_get(r, "path") && !json_object_get(r, "package"))
        report(c, p, "a command step needs \"package\" (the id in the path) or \"path\"");
    if (json_object_get(r, "body") && json_object_get(r, "raw_body"))
        report(c, p, "give either \"body\" (JSON) or \"raw_body\" (exact text), not both");
    if (st->concurrent > 1 && json_object_get(st->then, "response"))
        report(
            c,
            oms_jpath_key(q, sizeof(q), oms_jpath_key(p, sizeof(p), st->path, "then"), "response"),
            "a concurrent step has several responses: check them with \"responses\"");
}

struct rule_walk {
    struct checker *c;
    const json_t *known; /* the catalogue's rules; NULL: any id */
};

/* A {"$rule": [id, ...]} must name a rule of the catalogue, as "rules" must. */
static int check_rule_id(const char *id, const char *path, void *arg)
{
    struct rule_walk *w = arg;
    if (!w->known)
        return 0;
    size_t k;
    json_t *r;
    json_array_foreach((json_t *)w->known, k, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "id")), id) == 0)
            return 0;
    }
    report(w->c, path, "\"%s\" is not a rule of the contract (see spec/rules.json)", id);
    return 0;
}

/* Repeated values of a list, found in one pass with a hash (a JSON object keyed by value), so a
 * list of any length is checked in linear time and each repeated value is reported once. */
struct repeat {
    size_t first;  /* index of the first occurrence */
    size_t second; /* index of the second occurrence; SIZE_MAX while there is none */
    size_t count;
};

struct repeats {
    json_t *slots;     /* value -> its slot number */
    struct repeat *by; /* per slot */
    size_t *slot_of;   /* per entry; SIZE_MAX when the entry has no value */
};

static void repeats_init(struct repeats *r, const char *const *values, size_t n)
{
    r->slots = json_object();
    r->by = oms_xcalloc(n + 1, sizeof(*r->by));
    r->slot_of = oms_xcalloc(n + 1, sizeof(*r->slot_of));
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        r->slot_of[i] = SIZE_MAX;
        if (!values[i])
            continue;
        json_t *slot = json_object_get(r->slots, values[i]);
        if (!slot) {
            /* A key jansson refuses (not UTF-8) cannot repeat one it took: count it alone. */
            if (json_object_set_new(r->slots, values[i], json_integer((json_int_t)used)) != 0)
                continue;
            r->by[used] = (struct repeat){.first = i, .second = SIZE_MAX, .count = 1};
            r->slot_of[i] = used++;
            continue;
        }
        struct repeat *rep = &r->by[json_integer_value(slot)];
        r->slot_of[i] = (size_t)json_integer_value(slot);
        if (rep->second == SIZE_MAX)
            rep->second = i;
        rep->count++;
    }
}

/* The value's repeat record when entry i is the first repetition of its value, else NULL. */
static const struct repeat *repeats_at(const struct repeats *r, size_t i)
{
    if (r->slot_of[i] == SIZE_MAX)
        return NULL;
    const struct repeat *rep = &r->by[r->slot_of[i]];
    return rep->second == i ? rep : NULL;
}

static void repeats_cleanup(struct repeats *r)
{
    json_decref(r->slots);
    free(r->by);
    free(r->slot_of);
}

/* "twice" or "N times", into out. */
static const char *times(char *out, size_t size, size_t count)
{
    if (count == 2)
        snprintf(out, size, "twice");
    else
        snprintf(out, size, "%zu times", count);
    return out;
}

/* Each rule must be in the catalogue and listed once. */
static void check_rules(struct checker *c, const struct scenario *s, const json_t *known_rules)
{
    char p[OMS_ERR_PATH_MAX], first[OMS_ERR_PATH_MAX], n[32];
    json_t *known = json_object();
    size_t k;
    json_t *r;
    json_array_foreach((json_t *)known_rules, k, r)
    {
        const char *id = json_string_value(json_object_get(r, "id"));
        if (id)
            json_object_set_new(known, id, json_true());
    }
    struct repeats reps;
    repeats_init(&reps, s->rules, s->rule_count);
    for (size_t i = 0; i < s->rule_count; i++) {
        if (known_rules && s->rules[i] && !json_object_get(known, s->rules[i])) {
            struct suggest near;
            suggest_init(&near, s->rules[i]);
            json_array_foreach((json_t *)known_rules, k, r)
            {
                suggest_consider(&near, json_string_value(json_object_get(r, "id")));
            }
            report(c, oms_jpath_index(p, sizeof(p), "$.rules", i),
                   "\"%s\" is not an id of the contract (docs/spec.md, spec/rules.json)%s%s%s",
                   s->rules[i], near.best ? "; did you mean \"" : "", near.best ? near.best : "",
                   near.best ? "\"?" : "");
        }
        const struct repeat *rep = repeats_at(&reps, i);
        if (rep)
            report(c, oms_jpath_index(p, sizeof(p), "$.rules", i),
                   "rule \"%s\" is listed %s (first at %s); list each rule once", s->rules[i],
                   times(n, sizeof(n), rep->count),
                   oms_jpath_index(first, sizeof(first), "$.rules", rep->first));
    }
    repeats_cleanup(&reps);
    json_decref(known);
}

/* Subscriptions name receivers once each, so calls can be told apart. */
static void check_receivers(struct checker *c, const struct scenario *s)
{
    const json_t *subs = json_object_get(s->given, "subscriptions");
    size_t count = json_array_size(subs);
    const char **names = oms_xcalloc(count + 1, sizeof(*names));
    for (size_t i = 0; i < count; i++)
        names[i] = json_string_value(json_object_get(json_array_get(subs, i), "receiver"));
    struct repeats reps;
    repeats_init(&reps, names, count);
    for (size_t i = 0; i < count; i++) {
        const struct repeat *rep = repeats_at(&reps, i);
        if (!rep)
            continue;
        char p[OMS_ERR_PATH_MAX], q[OMS_ERR_PATH_MAX], first[OMS_ERR_PATH_MAX], n[32];
        oms_jpath_index(q, sizeof(q), "$.given.subscriptions", i);
        oms_jpath_index(first, sizeof(first), "$.given.subscriptions", rep->first);
        if (rep->count == 2)
            snprintf(n, sizeof(n), "two");
        else
            snprintf(n, sizeof(n), "%zu", rep->count);
        report(c, oms_jpath_key(p, sizeof(p), q, "receiver"),
               "receiver \"%s\" is used by %s subscriptions (first at %s); give each its own name",
               names[i], n, first);
    }
    repeats_cleanup(&reps);
    free(names);
}

static void check_semantics(struct checker *c, struct scenario *s, const json_t *known_rules)
{
    struct rule_walk walk = {c, known_rules};
    char p[OMS_ERR_PATH_MAX];
    check_rules(c, s, known_rules);
    for (size_t i = 0; i < s->step_count; i++) {
        check_request(c, &s->steps[i]);
        check_expectations(c, s->steps[i].then,
                           oms_jpath_key(p, sizeof(p), s->steps[i].path, "then"));
    }
    check_expectations(c, s->then, "$.then");
    for (size_t i = 0; i < s->step_count; i++)
        if (s->steps[i].then)
            matcher_each_rule(s->steps[i].then,
                              oms_jpath_key(p, sizeof(p), s->steps[i].path, "then"), check_rule_id,
                              &walk);
    if (s->then)
        matcher_each_rule(s->then, "$.then", check_rule_id, &walk);
    check_receivers(c, s);
}

char *scenario_id_from_file(const char *file, char *out, size_t size)
{
    const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    size_t len = strlen(base);
    if (len >= 5 && strcmp(base + len - 5, ".json") == 0)
        len -= 5;
    size_t n = 0;
    int dash = 0;
    for (size_t i = 0; i < len && n + 2 < size; i++) {
        char ch = (char)tolower((unsigned char)base[i]);
        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
            if (dash && n > 0)
                out[n++] = '-';
            out[n++] = ch;
            dash = 0;
        } else {
            dash = 1;
        }
    }
    out[n] = '\0';
    if (n == 0)
        snprintf(out, size, "scenario");
    return out;
}

static void fill(struct scenario *s)
{
    s->id = json_string_value(json_object_get(s->doc, "id"));
    if (!s->id) {
        char id[256];
        s->id_owned = oms_xstrdup(scenario_id_from_file(s->file, id, sizeof(id)));
        s->id = s->id_owned;
        s->id_from_file = 1;
    }
    s->name = json_string_value(json_object_get(s->doc, "name"));
    s->description = json_string_value(json_object_get(s->doc, "description"));
    json_t *rules = json_object_get(s->doc, "rules");
    s->rule_count = json_array_size(rules);
    s->rules = oms_xcalloc(s->rule_count + 1, sizeof(char *));
    for (size_t i = 0; i < s->rule_count; i++)
        s->rules[i] = json_string_value(json_array_get(rules, i));
    json_t *tags = json_object_get(s->doc, "tags");
    s->tag_count = json_array_size(tags);
    s->tags = oms_xcalloc(s->tag_count + 1, sizeof(char *));
    for (size_t i = 0; i < s->tag_count; i++)
        s->tags[i] = json_string_value(json_array_get(tags, i));
    s->given = json_object_get(s->doc, "given");
    if (!s->given) {
        json_object_set_new(s->doc, "given", json_object());
        s->given = json_object_get(s->doc, "given");
    }
    json_t *when = json_object_get(s->doc, "when");
    s->step_count = json_array_size(when);
    s->steps = oms_xcalloc(s->step_count + 1, sizeof(*s->steps));
    for (size_t i = 0; i < s->step_count; i++) {
        json_t *step = json_array_get(when, i);
        struct scenario_step *st = &s->steps[i];
        oms_jpath_index(st->path, sizeof(st->path), "$.when", i);
        st->name = json_string_value(json_object_get(step, "name"));
        if (json_object_get(step, "http")) {
            st->kind = STEP_HTTP;
            st->request = json_object_get(step, "http");
        } else if (json_object_get(step, "lifecycle")) {
            st->kind = STEP_LIFECYCLE;
            st->request = json_object_get(step, "lifecycle");
        } else if (json_object_get(step, "receivers")) {
            st->kind = STEP_RECEIVERS;
            st->request = json_object_get(step, "receivers");
        } else if (json_object_get(step, "crash")) {
            st->kind = STEP_CRASH;
            st->request = json_object_get(step, "crash");
        } else {
            st->kind = STEP_COMMAND;
            st->request = json_object_get(step, "command");
        }
        json_t *copies = json_object_get(step, "concurrent");
        st->concurrent = copies ? (unsigned)json_integer_value(copies) : 1;
        st->then = json_object_get(step, "then");
    }
    s->then = json_object_get(s->doc, "then");
}

size_t scenario_load_text(const char *file, const char *text, size_t len, struct schema *schema,
                          const json_t *known_rules, struct scenario **out, struct oms_err *errs,
                          size_t max)
{
    struct oms_err one = {0};
    *out = NULL;
    if (len > SCENARIO_MAX_BYTES) {
        oms_err_set(&one, OMS_E_INVAL, file, 0, 0, NULL, "file is larger than %u bytes",
                    SCENARIO_MAX_BYTES);
        if (max > 0)
            errs[0] = one;
        return 1;
    }
    json_t *doc = oms_json_load_buf(text, len, file, &one);
    if (!doc) {
        if (max > 0)
            errs[0] = one;
        return 1;
    }
    struct checker c = {.file = file, .errs = errs, .max = max};
    c.pos = jpos_index(text, len);

    if (schema) {
        struct schema_issue issues[32];
        size_t n = schema_validate(schema, doc, issues, OMS_ARRAY_LEN(issues));
        for (size_t i = 0; i < n && i < OMS_ARRAY_LEN(issues); i++)
            report(&c, issues[i].path, "%s", issues[i].message);
        if (n > OMS_ARRAY_LEN(issues))
            c.count += n - OMS_ARRAY_LEN(issues);
    }
    struct scenario *s = OMS_NEW(struct scenario);
    s->file = oms_xstrdup(file);
    s->doc = doc;
    s->pos = c.pos;
    if (c.count == 0) {
        fill(s);
        check_semantics(&c, s, known_rules);
    }
    if (c.count > 0) {
        scenario_destroy(s);
        return c.count;
    }
    *out = s;
    return 0;
}

size_t scenario_load(const char *file, struct schema *schema, const json_t *known_rules,
                     struct scenario **out, struct oms_err *errs, size_t max)
{
    struct oms_buf text;
    struct oms_err one = {0};
    *out = NULL;
    oms_buf_init(&text, SCENARIO_MAX_BYTES);
    if (read_file(file, &text, &one) != 0) {
        if (max > 0)
            errs[0] = one;
        oms_buf_cleanup(&text);
        return 1;
    }
    size_t n =
        scenario_load_text(file, oms_buf_str(&text), text.len, schema, known_rules, out, errs, max);
    oms_buf_cleanup(&text);
    return n;
}

int scenario_spec_load(const char *dir, struct schema **schema, json_t **rules, struct oms_err *err)
{
    char path[4096];
    *schema = NULL;
    *rules = NULL;
    snprintf(path, sizeof(path), "%s/scenario.schema.json", dir);
    if (schema_load(path, schema, err) != 0)
        return err->code ? err->code : OMS_E_IO;
    snprintf(path, sizeof(path), "%s/rules.json", dir);
    json_t *doc = oms_json_load_file(path, err);
    if (!doc) {
        schema_destroy(*schema);
        *schema = NULL;
        return err->code ? err->code : OMS_E_IO;
    }
    *rules = json_incref(json_object_get(doc, "rules"));
    json_decref(doc);
    return 0;
}

void scenario_destroy(struct scenario *s)
{
    if (!s)
        return;
    free(s->file);
    free(s->id_owned);
    json_decref(s->doc);
    jpos_destroy(s->pos);
    free(s->rules);
    free(s->tags);
    free(s->steps);
    free(s);
}

int scenario_kills_target(const struct scenario *s)
{
    for (size_t i = 0; i < s->step_count; i++)
        if (s->steps[i].kind == STEP_CRASH)
            return 1;
    return 0;
}

/* ---- file discovery ---- */

struct file_list {
    char **items;
    size_t count;
    size_t cap;
};

static void list_add(struct file_list *l, const char *path)
{
    if (l->count == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 64;
        l->items = oms_xrealloc(l->items, l->cap * sizeof(char *));
    }
    l->items[l->count++] = oms_xstrdup(path);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int walk(const char *path, struct file_list *l, int top, struct oms_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return oms_err_set(err, OMS_E_NOENT, path, 0, 0, NULL, "no such file or directory");
    if (!S_ISDIR(st.st_mode)) {
        if (top || ends_with(path, ".json"))
            list_add(l, path);
        return 0;
    }
    /* In a folder the harness wrote reports into, results.json is a report, not a scenario. */
    char marker[4096];
    snprintf(marker, sizeof(marker), "%s/%s", path, SCENARIO_REPORT_MARKER);
    int reports_here = stat(marker, &st) == 0;
    DIR *d = opendir(path);
    if (!d)
        return oms_err_set(err, OMS_E_IO, path, 0, 0, NULL, "cannot read directory: %s",
                           strerror(errno));
    int rc = 0;
    while (rc == 0) {
        struct dirent *e = readdir(d);
        if (!e)
            break;
        if (e->d_name[0] == '.' || (reports_here && strcmp(e->d_name, "results.json") == 0))
            continue;
        char child[4096];
        snprintf(child, sizeof(child), "%s%s%s", path, ends_with(path, "/") ? "" : "/", e->d_name);
        rc = walk(child, l, 0, err);
    }
    closedir(d);
    return rc;
}

static int compare_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int scenario_find_files(char *const *paths, size_t n, char ***files, size_t *count,
                        struct oms_err *err)
{
    struct file_list l = {0};
    for (size_t i = 0; i < n; i++) {
        int rc = walk(paths[i], &l, 1, err);
        if (rc != 0) {
            scenario_free_files(l.items, l.count);
            return rc;
        }
    }
    if (l.count > 1)
        qsort(l.items, l.count, sizeof(char *), compare_paths);
    *files = l.items;
    *count = l.count;
    return 0;
}

void scenario_free_files(char **files, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(files[i]);
    free(files);
}
