/* selection: choosing scenarios, and saying why a choice is empty. */
#include "selection.h"

#include "oms_error.h"

#include "suggest.h"

#include <ctype.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
    const char *prefix;
    enum selection_kind kind;
} PREFIXES[] = {
    {"tag", SELECTION_TAG},
    {"rule", SELECTION_RULE},
    {"id", SELECTION_ID},
    {"path", SELECTION_PATH},
};

/* "C-7", "q-1": letters, a dash, digits. */
static int rule_shaped(const char *v)
{
    const char *p = v;
    while (isalpha((unsigned char)*p))
        p++;
    if (p == v || *p != '-' || !isdigit((unsigned char)p[1]))
        return 0;
    for (p++; *p; p++)
        if (!isdigit((unsigned char)*p))
            return 0;
    return 1;
}

int selection_parse_exclude(const char *value, enum selection_kind *kind, const char **name,
                            char *why, size_t size)
{
    const char *colon = strchr(value, ':');
    *name = value;
    if (colon) {
        size_t len = (size_t)(colon - value);
        char prefix[32];
        snprintf(prefix, sizeof(prefix), "%.*s", (int)(len < 31 ? len : 31), value);
        struct suggest s;
        suggest_init(&s, prefix);
        for (size_t i = 0; i < sizeof(PREFIXES) / sizeof(PREFIXES[0]); i++) {
            suggest_consider(&s, PREFIXES[i].prefix);
            if (strlen(PREFIXES[i].prefix) == len && strncmp(PREFIXES[i].prefix, value, len) == 0) {
                *kind = PREFIXES[i].kind;
                *name = colon + 1;
            }
        }
        if (*name == value) {
            snprintf(why, size, "\"%s\" is none of tag:, rule:, id:, path:", prefix);
            suggest_append(&s, why, size);
            return OMS_E_INVAL;
        }
    } else if (rule_shaped(value)) {
        *kind = SELECTION_RULE;
    } else if (strchr(value, '/') ||
               (strlen(value) > 5 && strcmp(value + strlen(value) - 5, ".json") == 0)) {
        *kind = SELECTION_PATH;
    } else {
        *kind = SELECTION_WORD;
    }
    if (!**name) {
        snprintf(why, size, "names nothing after \"%.*s\"", (int)(*name - value), value);
        return OMS_E_INVAL;
    }
    return 0;
}

static int any_same(const char *const *list, size_t n, const char *want)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(list[i], want) == 0)
            return 1;
    return 0;
}

/* 1 when file is want or lies under the folder want; compared as real paths when both exist, so
 * "./scenarios/quota" excludes "scenarios/quota/x.json". */
static int path_matches(const char *file, const char *want)
{
    char real_file[PATH_MAX], real_want[PATH_MAX];
    if (realpath(file, real_file) && realpath(want, real_want)) {
        file = real_file;
        want = real_want;
    }
    size_t n = strlen(want);
    while (n > 1 && want[n - 1] == '/')
        n--;
    return strncmp(file, want, n) == 0 && (file[n] == '\0' || file[n] == '/');
}

static int exclude_matches(const struct scenario *sc, const char *value)
{
    enum selection_kind kind;
    const char *name;
    char why[160];
    if (selection_parse_exclude(value, &kind, &name, why, sizeof(why)) != 0)
        return 0;
    switch (kind) {
    case SELECTION_TAG:
        return any_same(sc->tags, sc->tag_count, name);
    case SELECTION_RULE:
        return any_same(sc->rules, sc->rule_count, name);
    case SELECTION_ID:
        return strcasecmp(sc->id, name) == 0;
    case SELECTION_PATH:
        return path_matches(sc->file, name);
    case SELECTION_WORD:
        return strcasecmp(sc->id, name) == 0 || any_same(sc->tags, sc->tag_count, name);
    }
    return 0;
}

static int any_wanted(const char *const *have, size_t n, char **wanted, size_t m)
{
    for (size_t j = 0; j < m; j++)
        if (any_same(have, n, wanted[j]))
            return 1;
    return 0;
}

static int filter_keeps(const struct scenario *sc, const char *glob)
{
    return fnmatch(glob, sc->name, 0) == 0 || fnmatch(glob, sc->file, 0) == 0;
}

static int not_excluded(const struct scenario *sc, const struct suite_options *opt)
{
    for (size_t i = 0; i < opt->exclude_count; i++)
        if (exclude_matches(sc, opt->excludes[i]))
            return 0;
    return 1;
}

int selection_keeps(const struct scenario *sc, const struct suite_options *opt)
{
    if (opt->filter && !filter_keeps(sc, opt->filter))
        return 0;
    if (opt->tag_count && !any_wanted(sc->tags, sc->tag_count, opt->tags, opt->tag_count))
        return 0;
    if (opt->rule_count && !any_wanted(sc->rules, sc->rule_count, opt->rules, opt->rule_count))
        return 0;
    if (opt->id_count && !any_wanted(&sc->id, 1, opt->ids, opt->id_count))
        return 0;
    return not_excluded(sc, opt);
}

/* ---- what matches nothing ---- */

enum field { TAGS, RULES, IDS, PATHS };

/* Offers every tag, rule, id or path (file and its folders) of the scenarios to s. */
static void consider_all(struct suggest *s, struct scenario *const *items, size_t n, enum field f)
{
    for (size_t i = 0; i < n; i++) {
        const struct scenario *sc = items[i];
        if (f == TAGS)
            for (size_t k = 0; k < sc->tag_count; k++)
                suggest_consider(s, sc->tags[k]);
        if (f == RULES)
            for (size_t k = 0; k < sc->rule_count; k++)
                suggest_consider(s, sc->rules[k]);
        if (f == IDS)
            suggest_consider(s, sc->id);
        if (f == PATHS)
            suggest_consider(s, sc->file);
    }
}

static int in_catalogue(const json_t *catalogue, const char *rule)
{
    size_t i;
    json_t *r;
    json_array_foreach(catalogue, i, r)
    {
        const char *id = json_string_value(json_object_get(r, "id"));
        if (id && strcasecmp(id, rule) == 0)
            return 1;
    }
    return 0;
}

/* "; did you mean \"X\"?" when s found one. */
static void did_you_mean(const struct suggest *s, struct oms_buf *out)
{
    if (s->best)
        oms_buf_printf(out, "; did you mean \"%s\"?", s->best);
    oms_buf_puts(out, "\n");
}

static size_t tag_misses(struct scenario *const *items, size_t n, const struct suite_options *opt,
                         struct oms_buf *out)
{
    size_t misses = 0;
    for (size_t t = 0; t < opt->tag_count; t++) {
        size_t hits = 0;
        for (size_t i = 0; i < n; i++)
            hits += any_same(items[i]->tags, items[i]->tag_count, opt->tags[t]);
        if (hits)
            continue;
        struct suggest s;
        suggest_init(&s, opt->tags[t]);
        consider_all(&s, items, n, TAGS);
        oms_buf_printf(out, "no scenario has tag \"%s\"", opt->tags[t]);
        did_you_mean(&s, out);
        misses++;
    }
    return misses;
}

static size_t rule_misses(struct scenario *const *items, size_t n, const struct suite_options *opt,
                          const json_t *catalogue, struct oms_buf *out)
{
    size_t misses = 0;
    for (size_t r = 0; r < opt->rule_count; r++) {
        size_t hits = 0;
        for (size_t i = 0; i < n; i++)
            hits += any_same(items[i]->rules, items[i]->rule_count, opt->rules[r]);
        if (hits)
            continue;
        misses++;
        oms_buf_printf(out, "no scenario exercises rule \"%s\"", opt->rules[r]);
        if (in_catalogue(catalogue, opt->rules[r])) {
            oms_buf_puts(out, " (it is in the catalogue, but no scenario here names it)\n");
            continue;
        }
        struct suggest s;
        suggest_init(&s, opt->rules[r]);
        size_t i;
        json_t *rule;
        json_array_foreach(catalogue, i, rule)
        {
            suggest_consider(&s, json_string_value(json_object_get(rule, "id")));
        }
        consider_all(&s, items, n, RULES);
        oms_buf_puts(out, ", which is not a rule of the catalogue (spec/rules.json)");
        did_you_mean(&s, out);
    }
    return misses;
}

static size_t id_misses(struct scenario *const *items, size_t n, const struct suite_options *opt,
                        struct oms_buf *out)
{
    size_t misses = 0;
    for (size_t k = 0; k < opt->id_count; k++) {
        size_t hits = 0;
        for (size_t i = 0; i < n; i++)
            hits += strcasecmp(items[i]->id, opt->ids[k]) == 0;
        if (hits)
            continue;
        struct suggest s;
        suggest_init(&s, opt->ids[k]);
        consider_all(&s, items, n, IDS);
        oms_buf_printf(out, "no scenario has id \"%s\"", opt->ids[k]);
        did_you_mean(&s, out);
        misses++;
    }
    return misses;
}

static size_t exclude_misses(struct scenario *const *items, size_t n,
                             const struct suite_options *opt, struct oms_buf *out)
{
    size_t misses = 0;
    for (size_t k = 0; k < opt->exclude_count; k++) {
        size_t hits = 0;
        for (size_t i = 0; i < n; i++)
            hits += exclude_matches(items[i], opt->excludes[k]);
        if (hits)
            continue;
        enum selection_kind kind = SELECTION_WORD;
        const char *name = opt->excludes[k];
        char why[160];
        selection_parse_exclude(opt->excludes[k], &kind, &name, why, sizeof(why));
        struct suggest s;
        suggest_init(&s, name);
        consider_all(&s, items, n,
                     kind == SELECTION_TAG    ? TAGS
                     : kind == SELECTION_RULE ? RULES
                     : kind == SELECTION_PATH ? PATHS
                                              : IDS);
        if (kind == SELECTION_WORD)
            consider_all(&s, items, n, TAGS);
        oms_buf_printf(out, "--exclude \"%s\" matches no scenario", opt->excludes[k]);
        did_you_mean(&s, out);
        misses++;
    }
    return misses;
}

size_t selection_misses(struct scenario *const *items, size_t n, const struct suite_options *opt,
                        const json_t *catalogue, struct oms_buf *out)
{
    size_t misses = tag_misses(items, n, opt, out) + rule_misses(items, n, opt, catalogue, out) +
                    id_misses(items, n, opt, out) + exclude_misses(items, n, opt, out);
    if (opt->filter) {
        size_t hits = 0;
        for (size_t i = 0; i < n; i++)
            hits += filter_keeps(items[i], opt->filter);
        if (!hits) {
            oms_buf_printf(out, "no scenario name or file matches --filter \"%s\"\n", opt->filter);
            misses++;
        }
    }
    return misses;
}

void selection_explain(struct scenario *const *items, size_t n, const struct suite_options *opt,
                       struct oms_buf *out)
{
    size_t tags = 0, rules = 0, ids = 0, filtered = 0, kept = 0;
    for (size_t i = 0; i < n; i++) {
        const struct scenario *sc = items[i];
        tags += any_wanted(sc->tags, sc->tag_count, opt->tags, opt->tag_count);
        rules += any_wanted(sc->rules, sc->rule_count, opt->rules, opt->rule_count);
        ids += any_wanted(&sc->id, 1, opt->ids, opt->id_count);
        filtered += opt->filter && filter_keeps(sc, opt->filter);
        kept += not_excluded(sc, opt);
    }
    char parts[512] = "";
    size_t len = 0;
    const struct {
        int given;
        size_t count;
        const char *what;
    } facts[] = {
        {opt->tag_count > 0, tags, "with the tag(s)"},
        {opt->rule_count > 0, rules, "exercising the rule(s)"},
        {opt->id_count > 0, ids, "with the id(s)"},
        {opt->filter != NULL, filtered, "matching --filter"},
        {opt->exclude_count > 0, kept, "left by --exclude"},
    };
    for (size_t i = 0; i < sizeof(facts) / sizeof(facts[0]) && len < sizeof(parts); i++)
        if (facts[i].given)
            len += (size_t)snprintf(parts + len, sizeof(parts) - len, "%s%zu %s", len ? ", " : "",
                                    facts[i].count, facts[i].what);
    oms_buf_printf(out, "no scenario meets every selection option together (of %zu: %s)\n", n,
                   parts);
}
