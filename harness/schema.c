/* schema: a small JSON Schema validator for scenario and profile files. */
#include "schema.h"

#include "oms_alloc.h"
#include "oms_json.h"

#include <libgen.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pattern {
    char *source;
    regex_t re;
    int ok;
};

/* A schema file another one names in "$ref": "file.json". */
struct external {
    char *name;
    struct schema *s;
};

struct schema {
    json_t *doc;
    struct pattern *patterns;
    size_t pattern_count;
    struct external *externals;
    size_t external_count;
};

struct run {
    struct schema *s; /* the schema whose "#/$defs/..." references are being resolved */
    struct schema_issue *issues;
    size_t max;
    size_t count;
};

static void issue(struct run *r, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void issue(struct run *r, const char *path, const char *fmt, ...)
{
    if (r->count < r->max) {
        struct schema_issue *i = &r->issues[r->count];
        snprintf(i->path, sizeof(i->path), "%s", path);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(i->message, sizeof(i->message), fmt, ap);
        va_end(ap);
    }
    r->count++;
}

size_t schema_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 64 || lb > 64)
        return la > lb ? la : lb;
    size_t prev[65], cur[65];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(size_t) * (lb + 1));
    }
    return prev[lb];
}

static struct pattern *pattern_get(struct schema *s, const char *source)
{
    for (size_t i = 0; i < s->pattern_count; i++)
        if (strcmp(s->patterns[i].source, source) == 0)
            return &s->patterns[i];
    s->patterns = oms_xrealloc(s->patterns, (s->pattern_count + 1) * sizeof(*s->patterns));
    struct pattern *p = &s->patterns[s->pattern_count++];
    p->source = oms_xstrdup(source);
    p->ok = regcomp(&p->re, source, REG_EXTENDED | REG_NOSUB) == 0;
    return p;
}

static int pattern_match(struct schema *s, const char *source, const char *text)
{
    struct pattern *p = pattern_get(s, source);
    return p->ok && regexec(&p->re, text, 0, NULL, 0) == 0;
}

struct schema *schema_external(const struct schema *s, const char *name)
{
    for (size_t i = 0; s && i < s->external_count; i++)
        if (strcmp(s->externals[i].name, name) == 0)
            return s->externals[i].s;
    return NULL;
}

static const json_t *resolve(struct schema *s, const json_t *node)
{
    for (int depth = 0; depth < 16; depth++) {
        const char *ref = json_string_value(json_object_get(node, "$ref"));
        if (!ref)
            return node;
        if (strncmp(ref, "#/$defs/", 8) != 0)
            return node;
        const json_t *target = json_object_get(json_object_get(s->doc, "$defs"), ref + 8);
        if (!target)
            return node;
        node = target;
    }
    return node;
}

static int type_matches(const char *type, const json_t *v)
{
    if (!type)
        return 0;
    if (strcmp(type, "object") == 0)
        return json_is_object(v);
    if (strcmp(type, "array") == 0)
        return json_is_array(v);
    if (strcmp(type, "string") == 0)
        return json_is_string(v);
    if (strcmp(type, "integer") == 0)
        return json_is_integer(v);
    if (strcmp(type, "number") == 0)
        return json_is_number(v);
    if (strcmp(type, "boolean") == 0)
        return json_is_boolean(v);
    if (strcmp(type, "null") == 0)
        return json_is_null(v);
    return 0;
}

static int check_type(struct run *r, const json_t *schema, const json_t *v, const char *path)
{
    const json_t *type = json_object_get(schema, "type");
    if (!type)
        return 1;
    char wanted[128] = "";
    if (json_is_string(type)) {
        if (type_matches(json_string_value(type), v))
            return 1;
        snprintf(wanted, sizeof(wanted), "%s", json_string_value(type));
    } else {
        size_t i, n = 0;
        json_t *t;
        json_array_foreach(type, i, t)
        {
            if (type_matches(json_string_value(t), v))
                return 1;
            n += (size_t)snprintf(wanted + n, sizeof(wanted) - n, "%s%s",
                                  i == 0                           ? ""
                                  : i + 1 == json_array_size(type) ? " or "
                                                                   : ", ",
                                  json_string_value(t));
            if (n >= sizeof(wanted))
                break;
        }
    }
    issue(r, path, "expected %s %s, found %s", strchr("aeiou", wanted[0]) ? "an" : "a", wanted,
          oms_json_type_name(v));
    return 0;
}

static void validate(struct run *r, const json_t *schema, const json_t *v, const char *path,
                     int patch);

/* patch: v is an RFC 7396 merge patch of such an object - keys may be left out and null deletes
 * one - down to the first array, whose items replace whole values and are checked in full. */
static void check_object(struct run *r, const json_t *schema, const json_t *v, const char *path,
                         int patch)
{
    const json_t *props = json_object_get(schema, "properties");
    const json_t *patterns = json_object_get(schema, "patternProperties");
    const json_t *additional = json_object_get(schema, "additionalProperties");
    const json_t *required = json_object_get(schema, "required");
    const json_t *exactly = json_object_get(schema, "x-exactlyOne");
    char child[OMS_ERR_PATH_MAX];

    size_t i;
    json_t *name;
    json_array_foreach(required, i, name)
    {
        if (!patch && !json_object_get(v, json_string_value(name)))
            issue(r, path, "missing required key \"%s\"", json_string_value(name));
    }
    if (exactly && !patch) {
        size_t present = 0;
        char list[256] = "";
        size_t n = 0;
        json_array_foreach(exactly, i, name)
        {
            present += json_object_get(v, json_string_value(name)) != NULL;
            n += (size_t)snprintf(list + n, sizeof(list) - n, "%s\"%s\"", i ? " or " : "",
                                  json_string_value(name));
            if (n >= sizeof(list))
                break;
        }
        if (present != 1)
            issue(r, path, "expected exactly one of %s, found %zu", list, present);
    }

    const char *key;
    json_t *value;
    json_object_foreach((json_t *)v, key, value)
    {
        oms_jpath_key(child, sizeof(child), path, key);
        /* In a merge patch, null deletes the key: fine unless the result would lack it. */
        int deletes = patch && json_is_null(value);
        if (deletes) {
            json_array_foreach(required, i, name)
            {
                if (strcmp(json_string_value(name), key) == 0)
                    issue(r, child, "null would delete the required key \"%s\"", key);
            }
        }
        int matched = 0;
        const json_t *sub = json_object_get(props, key);
        if (sub) {
            matched = 1;
            if (!deletes)
                validate(r, sub, value, child, patch);
        }
        const char *pat;
        json_t *psub;
        json_object_foreach((json_t *)patterns, pat, psub)
        {
            if (pattern_match(r->s, pat, key)) {
                matched = 1;
                if (!deletes)
                    validate(r, psub, value, child, patch);
            }
        }
        if (matched || !additional)
            continue;
        if (json_is_object(additional)) {
            if (!deletes)
                validate(r, additional, value, child, patch);
            continue;
        }
        if (!json_is_false(additional))
            continue;
        /* An unknown key: say what was expected, and what was probably meant. */
        const char *best = NULL;
        size_t best_d = 3;
        char list[512] = "";
        size_t n = 0;
        const char *pk;
        json_t *pv;
        json_object_foreach((json_t *)props, pk, pv)
        {
            size_t d = schema_edit_distance(key, pk);
            if (d < best_d) {
                best_d = d;
                best = pk;
            }
            if (n < sizeof(list))
                n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", n ? ", " : "", pk);
        }
        json_object_foreach((json_t *)patterns, pk, pv)
        {
            if (n < sizeof(list))
                n += (size_t)snprintf(list + n, sizeof(list) - n, "%skeys matching %s",
                                      n ? ", " : "", pk);
        }
        if (best)
            issue(r, child, "unknown key \"%s\" (did you mean \"%s\"?)", key, best);
        else
            issue(r, child, "unknown key \"%s\" (expected %s)", key, list[0] ? list : "none");
    }
}

static void check_array(struct run *r, const json_t *schema, const json_t *v, const char *path)
{
    const json_t *items = json_object_get(schema, "items");
    const json_t *min = json_object_get(schema, "minItems");
    const json_t *max = json_object_get(schema, "maxItems");
    size_t n = json_array_size(v);
    if (min && (json_int_t)n < json_integer_value(min))
        issue(r, path, "expected at least %lld item(s), found %zu",
              (long long)json_integer_value(min), n);
    if (max && (json_int_t)n > json_integer_value(max))
        issue(r, path, "expected at most %lld item(s), found %zu",
              (long long)json_integer_value(max), n);
    if (!items)
        return;
    char child[OMS_ERR_PATH_MAX];
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        /* An array replaces a value whole, even in a merge patch: its items are checked in full. */
        validate(r, items, item, oms_jpath_index(child, sizeof(child), path, i), 0);
    }
}

/* A string's length as JSON Schema counts it: in characters (code points), not bytes. */
static size_t characters(const json_t *v)
{
    const char *p = json_string_value(v);
    size_t n = 0, len = json_string_length(v);
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)p[i] & 0xC0) != 0x80;
    return n;
}

static void check_scalar(struct run *r, const json_t *schema, const json_t *v, const char *path)
{
    const json_t *c = json_object_get(schema, "const");
    if (c && !json_equal((json_t *)c, (json_t *)v)) {
        char *want = oms_json_dumps(c);
        issue(r, path, "expected %s", want);
        free(want);
    }
    const json_t *e = json_object_get(schema, "enum");
    if (e) {
        int found = 0;
        size_t i;
        json_t *opt;
        json_array_foreach(e, i, opt)
        {
            found |= json_equal(opt, (json_t *)v);
        }
        if (!found) {
            char *want = oms_json_dumps(e);
            issue(r, path, "expected one of %s", want);
            free(want);
        }
    }
    if (json_is_number(v)) {
        const json_t *min = json_object_get(schema, "minimum");
        const json_t *max = json_object_get(schema, "maximum");
        if (min && json_number_value(v) < json_number_value(min))
            issue(r, path, "expected at least %g, found %g", json_number_value(min),
                  json_number_value(v));
        if (max && json_number_value(v) > json_number_value(max))
            issue(r, path, "expected at most %g, found %g", json_number_value(max),
                  json_number_value(v));
    }
    if (json_is_string(v)) {
        const json_t *min = json_object_get(schema, "minLength");
        const json_t *max = json_object_get(schema, "maxLength");
        const char *pat = json_string_value(json_object_get(schema, "pattern"));
        json_int_t length = (json_int_t)characters(v);
        if (min && length < json_integer_value(min))
            issue(r, path, "expected a string of at least %lld character(s)",
                  (long long)json_integer_value(min));
        if (max && length > json_integer_value(max))
            issue(r, path, "expected a string of at most %lld character(s), found %lld",
                  (long long)json_integer_value(max), (long long)length);
        if (pat && !pattern_match(r->s, pat, json_string_value(v)))
            issue(r, path, "\"%.80s\" does not match the pattern %s", json_string_value(v), pat);
    }
}

static void validate(struct run *r, const json_t *schema, const json_t *v, const char *path,
                     int patch)
{
    if (r->count >= r->max)
        return;
    patch |= json_is_true(json_object_get(schema, "x-mergePatch"));
    /* "$ref": "other.schema.json": the whole of another file, with its own $defs. */
    const char *ref = json_string_value(json_object_get(schema, "$ref"));
    struct schema *other = ref && ref[0] != '#' ? schema_external(r->s, ref) : NULL;
    if (other) {
        struct schema *outer = r->s;
        r->s = other;
        validate(r, other->doc, v, path, patch);
        r->s = outer;
        return;
    }
    schema = resolve(r->s, schema);
    if (!json_is_object(schema))
        return;
    if (!check_type(r, schema, v, path))
        return;
    check_scalar(r, schema, v, path);
    if (json_is_object(v))
        check_object(r, schema, v, path, patch);
    else if (json_is_array(v))
        check_array(r, schema, v, path);
}

struct schema *schema_from_json(const json_t *doc)
{
    struct schema *s = OMS_NEW(struct schema);
    s->doc = json_incref((json_t *)doc);
    return s;
}

static int load_at(const char *path, int depth, struct schema **out, struct oms_err *err);

/* Loads every file the document names in a "$ref" not starting with '#', from dir. */
static int load_externals(struct schema *s, const json_t *node, const char *dir, int depth,
                          struct oms_err *err)
{
    if (json_is_array(node)) {
        size_t i;
        json_t *v;
        json_array_foreach((json_t *)node, i, v)
        {
            if (load_externals(s, v, dir, depth, err) != 0)
                return OMS_E_INVAL;
        }
        return 0;
    }
    if (!json_is_object(node))
        return 0;
    const char *ref = json_string_value(json_object_get(node, "$ref"));
    if (ref && ref[0] != '#' && !schema_external(s, ref)) {
        if (depth >= 4 || strchr(ref, '/') || strchr(ref, '#'))
            return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, NULL,
                               "\"$ref\": \"%s\" must name a schema file beside this one "
                               "(no path, no fragment, at most 4 levels deep)",
                               ref);
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", dir, ref);
        struct schema *sub = NULL;
        if (load_at(path, depth + 1, &sub, err) != 0)
            return OMS_E_INVAL;
        s->externals = oms_xrealloc(s->externals, (s->external_count + 1) * sizeof(*s->externals));
        s->externals[s->external_count].name = oms_xstrdup(ref);
        s->externals[s->external_count].s = sub;
        s->external_count++;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)node, key, v)
    {
        if (load_externals(s, v, dir, depth, err) != 0)
            return OMS_E_INVAL;
    }
    return 0;
}

static int load_at(const char *path, int depth, struct schema **out, struct oms_err *err)
{
    *out = NULL;
    json_t *doc = oms_json_load_file(path, err);
    if (!doc)
        return OMS_E_INVAL;
    struct schema *s = schema_from_json(doc);
    json_decref(doc);
    char copy[4096];
    snprintf(copy, sizeof(copy), "%s", path);
    if (load_externals(s, s->doc, dirname(copy), depth, err) != 0) {
        oms_err_set_source(err, path);
        schema_destroy(s);
        return OMS_E_INVAL;
    }
    *out = s;
    return 0;
}

int schema_load(const char *path, struct schema **out, struct oms_err *err)
{
    return load_at(path, 0, out, err);
}

void schema_destroy(struct schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->pattern_count; i++) {
        if (s->patterns[i].ok)
            regfree(&s->patterns[i].re);
        free(s->patterns[i].source);
    }
    free(s->patterns);
    for (size_t i = 0; i < s->external_count; i++) {
        free(s->externals[i].name);
        schema_destroy(s->externals[i].s);
    }
    free(s->externals);
    json_decref(s->doc);
    free(s);
}

size_t schema_validate(struct schema *s, const json_t *doc, struct schema_issue *issues, size_t max)
{
    struct schema_issue scratch;
    /* With no room for issues, one is still counted so an invalid document never reads as valid. */
    struct run r = {.s = s, .issues = max ? issues : &scratch, .max = max ? max : 1};
    validate(&r, s->doc, doc, "$", 0);
    return r.count;
}
