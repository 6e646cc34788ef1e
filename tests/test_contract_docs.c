/* test_contract_docs: the contract ships with the project - every id of spec/rules.json has its
 * heading and basis in docs/spec.md (and the other way round), each entry's source and
 * assumptions are consistent, links in the Markdown documents stay inside the repository, and a
 * scenario can name every id of the catalogue; and the profile is documented - every key of
 * profiles/default.json is described by spec/profile.schema.json and named in docs/profile.md,
 * every key of the schema is named there too, and the schema agrees with the profile loader. */
#include "support.h"

#include "oms_profile.h"
#include "scenario.h"
#include "schema.h"

#include <limits.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- helpers ---- */

/* The whole file as a new string; fails the test when it cannot be read. */
static char *slurp(const char *relative)
{
    const char *path = support_path(relative);
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    char *text = NULL;
    size_t len = 0, cap = 0;
    char chunk[8192];
    size_t n;
    for (n = fread(chunk, 1, sizeof(chunk), f); n > 0; n = fread(chunk, 1, sizeof(chunk), f)) {
        if (len + n + 1 > cap) {
            cap = (len + n + 1) * 2;
            text = realloc(text, cap);
            assert_non_null(text);
        }
        memcpy(text + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (!text)
        text = calloc(1, 1);
    text[len] = '\0';
    return text;
}

static json_t *load_rules_doc(void)
{
    json_error_t e;
    json_t *doc = json_load_file(support_path("spec/rules.json"), 0, &e);
    if (!doc)
        fail_msg("spec/rules.json: %d:%d: %s", e.line, e.column, e.text);
    return doc;
}

static const json_t *rule_by_id(const json_t *rules, const char *id)
{
    return support_find_string(rules, "id", id);
}

/* The section of docs/spec.md under "### <id>" up to the next heading, as a new string; NULL
 * when there is no such heading. Fails the test when the heading is there twice. */
static char *section(const char *spec, const char *id)
{
    char heading[64];
    snprintf(heading, sizeof(heading), "\n### %s\n", id);
    const char *at = strstr(spec, heading);
    if (!at)
        return NULL;
    if (strstr(at + 1, heading))
        fail_msg("docs/spec.md has the heading \"### %s\" twice", id);
    const char *body = at + strlen(heading);
    const char *end = body;
    for (end = strchr(end, '\n'); end && end[1] != '#'; end = strchr(end + 1, '\n'))
        ;
    size_t n = end ? (size_t)(end - body) : strlen(body);
    char *s = malloc(n + 1);
    assert_non_null(s);
    memcpy(s, body, n);
    s[n] = '\0';
    return s;
}

static int is_assumption_id(const char *id)
{
    return id[0] == 'A' && id[1] == '-';
}

/* ---- spec/rules.json ---- */

/* Every entry has the shape {"id", "title", "basis", "source", "assumptions", "doc", "kind"},
 * with a basis of the three, a source that fits it, and assumptions that exist. */
static void test_rules_json_entries_are_consistent(void **state)
{
    (void)state;
    json_t *doc = load_rules_doc();
    assert_string_equal(json_string_value(json_object_get(doc, "contract")), "docs/spec.md");
    const json_t *rules = json_object_get(doc, "rules");
    assert_true(json_array_size(rules) > 0);
    regex_t idre;
    assert_int_equal(regcomp(&idre, "^[CEQOPAR]-[0-9]+$", REG_EXTENDED | REG_NOSUB), 0);
    size_t counts[3] = {0};
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        const char *id = json_string_value(json_object_get(r, "id"));
        const char *title = json_string_value(json_object_get(r, "title"));
        const char *basis = json_string_value(json_object_get(r, "basis"));
        const char *source = json_string_value(json_object_get(r, "source"));
        const char *kind = json_string_value(json_object_get(r, "kind"));
        const json_t *assumptions = json_object_get(r, "assumptions");
        if (!id || regexec(&idre, id, 0, NULL, 0) != 0)
            fail_msg("rules[%zu]: id \"%s\" is not of the form X-n", i, id ? id : "(none)");
        if (!title || !*title || !source || !*source || !basis || !kind ||
            !json_is_array(assumptions))
            fail_msg("%s: needs a title, basis, source, kind and assumptions list", id);
        for (size_t j = 0; j < i; j++)
            if (strcmp(json_string_value(json_object_get(json_array_get(rules, j), "id")), id) == 0)
                fail_msg("%s is listed twice", id);
        char want_doc[64], lower[16];
        snprintf(lower, sizeof(lower), "%s", id);
        lower[0] = (char)(lower[0] - 'A' + 'a');
        snprintf(want_doc, sizeof(want_doc), "docs/spec.md#%s", lower);
        assert_string_equal(json_string_value(json_object_get(r, "doc")), want_doc);

        if (strcmp(basis, "documented") == 0) {
            counts[0]++;
            /* The vendor section, as docs/spec.md names it ("Process, step 5" -> *Process*). */
            assert_string_equal(kind, "rule");
            assert_false(is_assumption_id(source));
        } else if (strcmp(basis, "assumed") == 0) {
            counts[1]++;
            if (!is_assumption_id(source) || !rule_by_id(rules, source))
                fail_msg("%s: an assumed rule's source must be an assumption of the catalogue, "
                         "not \"%s\"",
                         id, source);
            int listed = 0;
            size_t k;
            json_t *a;
            json_array_foreach(assumptions, k, a)
            {
                listed |= strcmp(json_string_value(a), source) == 0;
            }
            if (!listed)
                fail_msg("%s: its source %s is not among its assumptions", id, source);
        } else if (strcmp(basis, "reference") == 0) {
            counts[2]++;
            assert_string_equal(source, "oms-reference");
            assert_string_equal(kind, "reference");
            assert_int_equal(json_array_size(assumptions), 0);
        } else {
            fail_msg("%s: basis \"%s\" is not documented, assumed or reference", id, basis);
        }
        /* kind follows the id: rules C/E/Q/O/P, assumptions A, reference behaviours R. */
        const char *want_kind = id[0] == 'A' ? "assumption" : id[0] == 'R' ? "reference" : "rule";
        assert_string_equal(kind, want_kind);
        size_t k;
        json_t *a;
        json_array_foreach(assumptions, k, a)
        {
            if (!json_is_string(a) || !is_assumption_id(json_string_value(a)) ||
                !rule_by_id(rules, json_string_value(a)))
                fail_msg("%s: assumptions[%zu] is not an assumption of the catalogue", id, k);
        }
    }
    regfree(&idre);
    /* All three bases are in use, and A-1..A-6 are kept. */
    assert_true(counts[0] > 0 && counts[1] > 0 && counts[2] > 0);
    for (int n = 1; n <= 6; n++) {
        char id[8];
        snprintf(id, sizeof(id), "A-%d", n);
        assert_non_null(rule_by_id(rules, id));
    }
    for (int n = 1; n <= 5; n++) {
        char id[8];
        snprintf(id, sizeof(id), "R-%d", n);
        assert_non_null(rule_by_id(rules, id));
    }
    json_decref(doc);
}

/* ---- docs/spec.md ---- */

/* Each id has exactly one "### <id>" heading; under it a "- Basis: **<basis>**" line equal to
 * the catalogue's, and a link to each assumption the catalogue lists for it. */
static void test_spec_md_has_every_id_with_its_basis(void **state)
{
    (void)state;
    json_t *doc = load_rules_doc();
    char *spec = slurp("docs/spec.md");
    size_t i;
    json_t *r;
    json_array_foreach(json_object_get(doc, "rules"), i, r)
    {
        const char *id = json_string_value(json_object_get(r, "id"));
        const char *basis = json_string_value(json_object_get(r, "basis"));
        char *body = section(spec, id);
        if (!body)
            fail_msg("docs/spec.md has no heading \"### %s\"", id);
        char line[96];
        snprintf(line, sizeof(line), "\n- Basis: **%s**", basis);
        char *with_nl = support_printf("\n%s", body);
        if (!strstr(with_nl, line))
            fail_msg("docs/spec.md, ### %s: no line \"- Basis: **%s**\"", id, basis);
        /* Exactly one basis line. */
        const char *first = strstr(with_nl, "\n- Basis: ");
        if (strstr(first + 1, "\n- Basis: "))
            fail_msg("docs/spec.md, ### %s: more than one basis line", id);
        size_t k;
        json_t *a;
        json_array_foreach(json_object_get(r, "assumptions"), k, a)
        {
            const char *aid = json_string_value(a);
            if (strcmp(aid, id) == 0)
                continue;
            char link[48];
            snprintf(link, sizeof(link), "[%s](#a-%s)", aid, aid + 2);
            if (!strstr(body, link))
                fail_msg("docs/spec.md, ### %s: the assumption %s is not linked (%s)", id, aid,
                         link);
        }
        if (strcmp(basis, "documented") == 0) {
            /* The section names the vendor document's section, in italics. */
            char section_name[128];
            snprintf(section_name, sizeof(section_name), "*%s",
                     json_string_value(json_object_get(r, "source")));
            char *comma = strchr(section_name, ',');
            char *paren = strstr(section_name, " (");
            if (comma)
                *comma = '\0';
            if (paren)
                *paren = '\0';
            if (!strstr(body, section_name))
                fail_msg("docs/spec.md, ### %s: does not name the vendor section %s*", id,
                         section_name);
        }
        if (is_assumption_id(id) && !strstr(body, "\n- Why: ") && strncmp(body, "- Why: ", 7))
            fail_msg("docs/spec.md, ### %s: an assumption needs its reasoning (\"- Why:\")", id);
        if (is_assumption_id(id) && !strstr(body, "\n- Profile: "))
            fail_msg("docs/spec.md, ### %s: an assumption says which profile keys declare it", id);
        free(with_nl);
        free(body);
    }
    free(spec);
    json_decref(doc);
}

/* Every "### X-n" heading of docs/spec.md is an entry of the catalogue. */
static void test_spec_md_headings_are_in_the_catalogue(void **state)
{
    (void)state;
    json_t *doc = load_rules_doc();
    char *spec = slurp("docs/spec.md");
    regex_t re;
    assert_int_equal(regcomp(&re, "^### [A-Z]-[0-9]+$", REG_EXTENDED | REG_NOSUB), 0);
    size_t headings = 0;
    for (char *line = spec; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (regexec(&re, line, 0, NULL, 0) == 0) {
            headings++;
            if (!rule_by_id(json_object_get(doc, "rules"), line + 4))
                fail_msg("docs/spec.md: \"%s\" is not in spec/rules.json", line);
        }
        line = nl ? nl + 1 : NULL;
    }
    regfree(&re);
    assert_int_equal(headings, json_array_size(json_object_get(doc, "rules")));
    free(spec);
    json_decref(doc);
}

/* The GitHub anchor of a heading: lower case, spaces to '-', other punctuation dropped. */
static void anchor_of(const char *heading, char *out, size_t size)
{
    size_t n = 0;
    for (const char *p = heading; *p && n + 1 < size; p++) {
        if (*p >= 'A' && *p <= 'Z')
            out[n++] = (char)(*p - 'A' + 'a');
        else if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_')
            out[n++] = *p;
        else if (*p == ' ')
            out[n++] = '-';
    }
    out[n] = '\0';
}

/* Calls fn for each line of a Markdown text outside fenced code blocks. */
static void each_prose_line(char *text, void (*fn)(const char *line, void *arg), void *arg)
{
    int fenced = 0;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (strncmp(line, "```", 3) == 0)
            fenced = !fenced;
        else if (!fenced)
            fn(line, arg);
        if (nl)
            *nl = '\n';
        line = nl ? nl + 1 : NULL;
    }
}

struct anchors {
    char list[32768]; /* " a b c " */
    size_t used;
};

static void collect_anchor(const char *line, void *arg)
{
    struct anchors *a = arg;
    if (line[0] != '#')
        return;
    while (*line == '#')
        line++;
    while (*line == ' ')
        line++;
    char anchor[256];
    anchor_of(line, anchor, sizeof(anchor));
    a->used += (size_t)snprintf(a->list + a->used, sizeof(a->list) - a->used, "%s ", anchor);
    assert_true(a->used < sizeof(a->list));
}

/* The anchors of a Markdown file of the repository ("docs/spec.md"). */
static void anchors_of(const char *relative, struct anchors *a)
{
    char *text = slurp(relative);
    snprintf(a->list, sizeof(a->list), " ");
    a->used = 1;
    each_prose_line(text, collect_anchor, a);
    free(text);
}

struct link_check {
    const char *file; /* repository-relative, "docs/spec.md" */
    char dir[PATH_MAX];
    char root[PATH_MAX];
    size_t links;
};

static void check_line_links(const char *line, void *arg)
{
    struct link_check *c = arg;
    for (const char *p = line; (p = strstr(p, "](")); p += 2) {
        const char *target = p + 2;
        const char *close = strchr(target, ')');
        if (!close)
            fail_msg("%s: a link is not closed: %s", c->file, p);
        char link[512];
        snprintf(link, sizeof(link), "%.*s", (int)(close - target), target);
        c->links++;
        if (strstr(link, "://") || link[0] == '/' || strstr(link, "shared/"))
            fail_msg("%s links outside the repository: %s", c->file, link);
        char *hash = strchr(link, '#');
        char anchor[256] = "";
        if (hash) {
            snprintf(anchor, sizeof(anchor), "%s", hash + 1);
            *hash = '\0';
        }
        char rel[PATH_MAX], real[PATH_MAX * 2];
        if (link[0] == '\0') {
            snprintf(rel, sizeof(rel), "%s", c->file);
        } else {
            snprintf(real, sizeof(real), "%s/%s", c->dir, link);
            if (!realpath(real, rel))
                fail_msg("%s links to %s, which does not exist", c->file, link);
            size_t n = strlen(c->root);
            if (strncmp(rel, c->root, n) != 0 || rel[n] != '/')
                fail_msg("%s links outside the repository: %s (%s)", c->file, link, rel);
            memmove(rel, rel + n + 1, strlen(rel + n + 1) + 1);
        }
        size_t len = strlen(rel);
        if (anchor[0] && len > 3 && strcmp(rel + len - 3, ".md") == 0) {
            struct anchors *a = malloc(sizeof(*a));
            assert_non_null(a);
            anchors_of(rel, a);
            char needle[300];
            snprintf(needle, sizeof(needle), " %s ", anchor);
            if (!strstr(a->list, needle))
                fail_msg("%s: the link %s#%s names no heading of %s", c->file, link, anchor, rel);
            free(a);
        }
    }
}

/* Links of every Markdown document: a path names a file of the repository (never outside it, no
 * absolute URL), and an anchor names a heading of the file it points into. */
static void test_markdown_links_stay_in_the_repository(void **state)
{
    (void)state;
    static const char *const files[] = {
        "README.md",
        "docs/spec.md",
        "docs/profile.md",
        "docs/reference-impl.md",
        "docs/fixture-protocol.md",
        "docs/scenario-format.md",
        "docs/results-format.md",
        "docs/vendor-guide.md",
        "bench/README.md",
        "reports/README.md",
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        struct link_check c = {.file = files[i]};
        assert_non_null(realpath(support_path("."), c.root));
        snprintf(c.dir, sizeof(c.dir), "%s", support_path(files[i]));
        *strrchr(c.dir, '/') = '\0';
        char *text = slurp(files[i]);
        each_prose_line(text, check_line_links, &c);
        free(text);
        if (strcmp(files[i], "docs/spec.md") == 0)
            assert_true(c.links > 50); /* every rule links its assumptions */
    }
}

/* ---- the profile: spec/profile.schema.json, docs/profile.md, the loader ---- */

static json_t *load_json(const char *relative)
{
    json_error_t e;
    json_t *doc = json_load_file(support_path(relative), 0, &e);
    if (!doc)
        fail_msg("%s: %d:%d: %s", relative, e.line, e.column, e.text);
    return doc;
}

/* A node of the profile schema with its local "#/$defs/name" reference followed. */
static const json_t *resolve_def(const json_t *root, const json_t *node)
{
    const char *ref = json_string_value(json_object_get(node, "$ref"));
    if (!ref)
        return node;
    assert_int_equal(strncmp(ref, "#/$defs/", 8), 0);
    const json_t *def = json_object_get(json_object_get(root, "$defs"), ref + 8);
    if (!def)
        fail_msg("spec/profile.schema.json: %s leads nowhere", ref);
    return def;
}

/* docs/profile.md names a key by its path in backticks: `delivery.omnitron_retry.countdown`,
 * `transitions[].sync_remote`; the members of a map by a placeholder: `omnitron.status_map.<`. */
static int doc_mentions(const char *doc, const char *path)
{
    char needle[600];
    snprintf(needle, sizeof(needle), "`%s`", path);
    return strstr(doc, needle) != NULL;
}

static int doc_mentions_map(const char *doc, const char *parent)
{
    char needle[600];
    snprintf(needle, sizeof(needle), "`%s.<", parent);
    return strstr(doc, needle) != NULL;
}

static void join(char *out, size_t size, const char *parent, const char *key)
{
    snprintf(out, size, "%s%s%s", parent, parent[0] ? "." : "", key);
}

struct profile_walk {
    const json_t *root; /* the schema */
    const char *doc;    /* docs/profile.md */
    size_t keys;
    /* Objects the schema closes (additionalProperties false), as "a/0/b" steps into the profile,
     * with their schema node, for the loader comparison below. */
    char closed[64][128];
    const json_t *closed_schema[64];
    size_t closed_count;
};

/* Walks a profile value beside its schema: every key must be described by the schema and named
 * in docs/profile.md. */
static void walk_profile(struct profile_walk *w, const json_t *schema, const json_t *v,
                         const char *path, const char *steps)
{
    schema = resolve_def(w->root, schema);
    if (json_is_object(v)) {
        const json_t *props = json_object_get(schema, "properties");
        const json_t *additional = json_object_get(schema, "additionalProperties");
        if (json_is_false(additional)) {
            assert_true(w->closed_count < 64);
            snprintf(w->closed[w->closed_count], sizeof(w->closed[0]), "%s", steps);
            w->closed_schema[w->closed_count++] = schema;
        }
        const char *key;
        json_t *child;
        json_object_foreach((json_t *)v, key, child)
        {
            char cpath[512], csteps[256];
            join(cpath, sizeof(cpath), path, key);
            snprintf(csteps, sizeof(csteps), "%s%s%s", steps, steps[0] ? "/" : "", key);
            const json_t *sub = json_object_get(props, key);
            int map_member = 0;
            if (!sub && json_is_object(additional)) {
                sub = additional;
                map_member = 1;
            }
            if (!sub)
                fail_msg("profiles/default.json: %s is not described by spec/profile.schema.json",
                         cpath);
            if (!doc_mentions(w->doc, cpath) && !(map_member && doc_mentions_map(w->doc, path)))
                fail_msg("profiles/default.json: %s is not described in docs/profile.md (no `%s`)",
                         cpath, cpath);
            w->keys++;
            walk_profile(w, sub, child, cpath, csteps);
        }
    } else if (json_is_array(v)) {
        const json_t *items = json_object_get(schema, "items");
        if (!items && json_array_size(v) > 0)
            fail_msg("profiles/default.json: the items of %s are not described by the schema",
                     path);
        char cpath[512], csteps[256];
        snprintf(cpath, sizeof(cpath), "%s[]", path);
        size_t i;
        json_t *item;
        json_array_foreach((json_t *)v, i, item)
        {
            snprintf(csteps, sizeof(csteps), "%s/%zu", steps, i);
            walk_profile(w, items, item, cpath, csteps);
        }
    }
}

/* Every key path of profiles/default.json is described by spec/profile.schema.json and named in
 * docs/profile.md; the default profile passes the schema. */
static void test_default_profile_keys_are_documented(void **state)
{
    (void)state;
    json_t *schema_doc = load_json("spec/profile.schema.json");
    json_t *profile = load_json("profiles/default.json");
    char *doc = slurp("docs/profile.md");
    struct profile_walk *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    w->root = schema_doc;
    w->doc = doc;
    walk_profile(w, schema_doc, profile, "", "");
    /* The walk saw every section of the default profile. */
    assert_true(w->keys > 60);

    struct schema *s = schema_from_json(schema_doc);
    struct schema_issue issues[8];
    memset(issues, 0, sizeof(issues));
    if (schema_validate(s, profile, issues, 8) != 0)
        fail_msg("profiles/default.json does not pass its schema: %s: %s", issues[0].path,
                 issues[0].message);
    schema_destroy(s);
    free(w);
    free(doc);
    json_decref(profile);
    json_decref(schema_doc);
}

/* The other way round: every key the schema describes - including those the default profile does
 * not use, such as statuses[].key or quota.counting.statuses - is named in docs/profile.md. */
static void walk_schema(const json_t *root, const json_t *node, const char *path, const char *doc,
                        size_t *count, int depth)
{
    assert_true(depth < 12);
    node = resolve_def(root, node);
    const json_t *props = json_object_get(node, "properties");
    const char *key;
    json_t *sub;
    json_object_foreach((json_t *)props, key, sub)
    {
        char cpath[512];
        join(cpath, sizeof(cpath), path, key);
        if (!doc_mentions(doc, cpath))
            fail_msg("spec/profile.schema.json describes %s, which docs/profile.md does not name",
                     cpath);
        (*count)++;
        walk_schema(root, sub, cpath, doc, count, depth + 1);
    }
    const json_t *additional = json_object_get(node, "additionalProperties");
    if (json_is_object(additional) && !doc_mentions_map(doc, path))
        fail_msg("spec/profile.schema.json: the members of %s are not named in docs/profile.md "
                 "(`%s.<...>`)",
                 path, path);
    const json_t *items = json_object_get(node, "items");
    if (items) {
        char cpath[512];
        snprintf(cpath, sizeof(cpath), "%s[]", path);
        walk_schema(root, items, cpath, doc, count, depth + 1);
    }
}

static void test_profile_schema_keys_are_documented(void **state)
{
    (void)state;
    json_t *schema_doc = load_json("spec/profile.schema.json");
    char *doc = slurp("docs/profile.md");
    size_t count = 0;
    walk_schema(schema_doc, schema_doc, "", doc, &count, 0);
    assert_true(count > 40);
    free(doc);
    json_decref(schema_doc);
}

/* The value at "a/0/b" in doc (borrowed), or NULL. */
static json_t *at_steps(json_t *doc, const char *steps)
{
    char copy[256];
    snprintf(copy, sizeof(copy), "%s", steps);
    json_t *v = doc;
    for (char *step = copy; v && *step;) {
        char *slash = strchr(step, '/');
        if (slash)
            *slash = '\0';
        v = json_is_array(v) ? json_array_get(v, strtoul(step, NULL, 10))
                             : json_object_get(v, step);
        step = slash ? slash + 1 : step + strlen(step);
    }
    return v;
}

static int loader_accepts(const json_t *doc)
{
    struct oms_profile *p = NULL;
    struct oms_err err = {0};
    int rc = oms_profile_from_json(doc, "mutated profile", &p, &err);
    oms_profile_unref(p);
    return rc == 0;
}

static size_t schema_refuses(struct schema *s, const json_t *doc)
{
    struct schema_issue issues[8];
    return schema_validate(s, doc, issues, 8);
}

/* The schema and the loader agree on the default profile mutated: an unknown key in any object
 * the schema closes, a missing required key, and values out of range are refused by both; keys
 * the default profile leaves out are accepted by both. */
static void test_profile_schema_agrees_with_the_loader(void **state)
{
    (void)state;
    json_t *schema_doc = load_json("spec/profile.schema.json");
    json_t *profile = load_json("profiles/default.json");
    char *doc = slurp("docs/profile.md");
    struct profile_walk *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    w->root = schema_doc;
    w->doc = doc;
    walk_profile(w, schema_doc, profile, "", "");
    struct schema *s = schema_from_json(schema_doc);
    assert_int_equal(schema_refuses(s, profile), 0);
    assert_true(loader_accepts(profile));
    assert_true(w->closed_count >= 10);
    for (size_t i = 0; i < w->closed_count; i++) {
        /* An unknown key. */
        json_t *m = json_deep_copy(profile);
        json_t *obj = at_steps(m, w->closed[i]);
        assert_non_null(obj);
        json_object_set_new(obj, "zz_unknown", json_integer(1));
        if (!schema_refuses(s, m) || loader_accepts(m))
            fail_msg("an unknown key at \"%s\": schema refuses %d, loader refuses %d", w->closed[i],
                     schema_refuses(s, m) > 0, !loader_accepts(m));
        json_decref(m);
        /* Each required key left out. */
        size_t k;
        json_t *req;
        json_array_foreach(json_object_get(w->closed_schema[i], "required"), k, req)
        {
            m = json_deep_copy(profile);
            json_object_del(at_steps(m, w->closed[i]), json_string_value(req));
            if (!schema_refuses(s, m) || loader_accepts(m))
                fail_msg("\"%s\" without %s: schema refuses %d, loader refuses %d", w->closed[i],
                         json_string_value(req), schema_refuses(s, m) > 0, !loader_accepts(m));
            json_decref(m);
        }
    }
    /* Values out of range, or of the wrong shape: both refuse. */
    static const struct {
        const char *steps;
        const char *key;
        const char *value;
    } bad[] = {
        {"limits", "max_body_bytes", "15"},
        {"limits", "max_body_bytes", "1048577"},
        {"delivery", "timeout_ms", "9"},
        {"delivery", "timeout_ms", "600001"},
        {"delivery/webhook_retry", "countdown", "86401"},
        {"delivery/webhook_retry", "countdown", "-1"},
        {"delivery/omnitron_retry", "max_retries", "101"},
        {"delivery/omnitron_retry", "choice", "\"backoff\""},
        {"transitions/0", "slug", "\"packed for refund\""},
        {"transitions/0", "id", "0"},
        {"statuses/0", "value", "0"},
        {"omnitron", "path", "\"api/i1\""},
        {"", "tokens", "[]"},
        {"", "statuses", "[]"},
        {"", "sync_remote_order_status_default", "\"true\""},
        {"lifecycle", "cancel", "[]"},
        {"webhook", "signature_header", "\"\""},
        {"", "version", "0"},
        {"assumptions/0", "id", "\"3\""},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        json_t *m = json_deep_copy(profile);
        json_object_set_new(at_steps(m, bad[i].steps), bad[i].key, support_parse(bad[i].value));
        if (!schema_refuses(s, m) || loader_accepts(m))
            fail_msg("%s.%s = %s: schema refuses %d, loader refuses %d", bad[i].steps, bad[i].key,
                     bad[i].value, schema_refuses(s, m) > 0, !loader_accepts(m));
        json_decref(m);
    }
    /* Keys the default profile leaves out, and null policies: both accept. */
    static const struct {
        const char *steps;
        const char *key;
        const char *value;
    } good[] = {
        {"statuses/0", "key", "\"waiting_here\""},
        {"quota/counting", "statuses", "[\"Packed\"]"},
        {"delivery", "webhook_retry", "null"},
        {"delivery/omnitron_retry", "countdown", "0.5"},
        {"webhook", "signature_prefix", "\"\""},
        {"transitions/0", "delete_reservations_from", "[\"Waiting\", 920]"},
        {"lifecycle", "plan_status", "920"},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        json_t *m = json_deep_copy(profile);
        json_object_set_new(at_steps(m, good[i].steps), good[i].key, support_parse(good[i].value));
        if (schema_refuses(s, m) || !loader_accepts(m))
            fail_msg("%s.%s = %s: schema refuses %d, loader refuses %d", good[i].steps, good[i].key,
                     good[i].value, schema_refuses(s, m) > 0, !loader_accepts(m));
        json_decref(m);
    }
    schema_destroy(s);
    free(w);
    free(doc);
    json_decref(profile);
    json_decref(schema_doc);
}

/* ---- the fixture protocol ---- */

/* Every capability of the OpenAPI document's enum has a row in docs/fixture-protocol.md's table,
 * and the document's version says which protocol it describes. */
static void test_fixture_capabilities_documented(void **state)
{
    (void)state;
    json_t *api = load_json("docs/fixture-protocol.openapi.json");
    char *doc = slurp("docs/fixture-protocol.md");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(api, "info"), "x-protocol-version")), 1);
    const json_t *caps =
        at_steps(api, "components/schemas/Capabilities/properties/capabilities/items/enum");
    assert_true(json_array_size(caps) >= 10);
    size_t i;
    json_t *c;
    json_array_foreach(caps, i, c)
    {
        char row[96];
        snprintf(row, sizeof(row), "`%s`", json_string_value(c));
        const char *table = strstr(doc, "| capability | meaning |");
        assert_non_null(table);
        const char *end = strstr(table, "\n\n");
        const char *at = strstr(table, row);
        if (!at || (end && at > end))
            fail_msg("capability %s is not in docs/fixture-protocol.md's table", row);
    }
    int outbox = 0;
    json_array_foreach(caps, i, c)
    {
        outbox |= strcmp(json_string_value(c), "outbox") == 0;
    }
    assert_true(outbox);
    free(doc);
    json_decref(api);
}

/* ---- scenarios may name every id ---- */

/* A scenario naming any id of the catalogue (a rule, an assumption or a reference behaviour)
 * passes the scenario schema and the catalogue check; an id outside it does not. */
static void test_scenario_can_name_every_catalogue_id(void **state)
{
    (void)state;
    json_t *doc = load_rules_doc();
    const json_t *rules = json_object_get(doc, "rules");
    struct schema *schema = NULL;
    struct oms_err err = {0};
    assert_int_equal(schema_load(support_path("spec/scenario.schema.json"), &schema, &err), 0);
    char dir[] = "/tmp/refund-contract-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char *file = support_printf("%s/names.json", dir);
    size_t i;
    json_t *r;
    json_array_foreach(rules, i, r)
    {
        const char *id = json_string_value(json_object_get(r, "id"));
        FILE *f = fopen(file, "w");
        assert_non_null(f);
        fprintf(f,
                "{\"name\": \"names %s\", \"rules\": [\"%s\"], \"when\": [{\"command\": "
                "{\"package\": 501}}]}\n",
                id, id);
        fclose(f);
        struct scenario *s = NULL;
        struct oms_err errs[4];
        memset(errs, 0, sizeof(errs));
        size_t n = scenario_load(file, schema, rules, &s, errs, 4);
        if (n != 0)
            fail_msg("a scenario naming %s is refused: %s", id, errs[0].message);
        assert_non_null(s);
        assert_string_equal(s->rules[0], id);
        scenario_destroy(s);
    }
    /* A well-formed id outside the catalogue is refused by the catalogue check. */
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs("{\"name\": \"x\", \"rules\": [\"R-99\"], \"when\": [{\"command\": {\"package\": 1}}]}\n",
          f);
    fclose(f);
    struct scenario *s = NULL;
    struct oms_err errs[4];
    memset(errs, 0, sizeof(errs));
    assert_int_equal(scenario_load(file, schema, rules, &s, errs, 4), 1);
    assert_null(s);
    assert_string_equal(errs[0].path, "$.rules[0]");
    assert_non_null(strstr(errs[0].message, "\"R-99\" is not an id of the contract"));
    unlink(file);
    rmdir(dir);
    free(file);
    schema_destroy(schema);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_json_entries_are_consistent),
        cmocka_unit_test(test_spec_md_has_every_id_with_its_basis),
        cmocka_unit_test(test_spec_md_headings_are_in_the_catalogue),
        cmocka_unit_test(test_markdown_links_stay_in_the_repository),
        cmocka_unit_test(test_scenario_can_name_every_catalogue_id),
        cmocka_unit_test(test_default_profile_keys_are_documented),
        cmocka_unit_test(test_profile_schema_keys_are_documented),
        cmocka_unit_test(test_profile_schema_agrees_with_the_loader),
        cmocka_unit_test(test_fixture_capabilities_documented),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
