/* oms_json: jansson helpers. */
#include "oms_json.h"

#include "oms_alloc.h"
#include "oms_buf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A trailing comma is the commonest slip in a hand-edited file, and jansson reports it only as an
 * unexpected '}' or ']' after it: name it, at the comma. data may be NULL (nothing to look at).
 * Returns 1 and fills err when the error is one. */
static int trailing_comma(const char *data, size_t len, const json_error_t *je, const char *source,
                          struct oms_err *err)
{
    if (!data || je->position <= 0 || (size_t)je->position > len)
        return 0;
    size_t at = (size_t)je->position - 1;
    char closer = data[at];
    if (closer != '}' && closer != ']')
        return 0;
    while (at > 0 && data[at - 1] && strchr(" \t\r\n", data[at - 1]))
        at--;
    if (at == 0 || data[at - 1] != ',')
        return 0;
    int line = 1, column = 1;
    for (size_t i = 0; i + 1 < at; i++) {
        if (data[i] == '\n') {
            line++;
            column = 1;
        } else if (((unsigned char)data[i] & 0xC0) != 0x80) {
            column++; /* columns count characters, not UTF-8 continuation bytes */
        }
    }
    oms_err_set(err, OMS_E_INVAL, source, line, column, NULL,
                "invalid JSON: a trailing comma before '%c' (JSON allows none: remove the comma)",
                closer);
    return 1;
}

static json_t *from_error(const json_error_t *je, const char *data, size_t len, const char *source,
                          struct oms_err *err)
{
    if (trailing_comma(data, len, je, source, err))
        return NULL;
    oms_err_set(err, OMS_E_INVAL, source, je->line > 0 ? je->line : 0,
                je->column > 0 ? je->column : 0, NULL, "invalid JSON: %s", je->text);
    return NULL;
}

/* The whole file as a new string (the caller frees it), or NULL when it cannot be read. */
static char *slurp(const char *filename, size_t *len)
{
    FILE *f = fopen(filename, "rb");
    if (!f)
        return NULL;
    struct oms_buf b;
    oms_buf_init(&b, 0);
    oms_buf_append_stream(&b, f); /* what could be read: for the error's line and column */
    fclose(f);
    return oms_buf_take(&b, len);
}

json_t *oms_json_load_file(const char *filename, struct oms_err *err)
{
    json_error_t je;
    json_t *v = json_load_file(filename, JSON_REJECT_DUPLICATES, &je);
    if (!v) {
        if (json_error_code(&je) == json_error_cannot_open_file) {
            oms_err_set(err, OMS_E_IO, filename, 0, 0, NULL, "cannot read file: %s", je.text);
            return NULL;
        }
        size_t len = 0;
        char *text = slurp(filename, &len);
        from_error(&je, text, len, filename, err);
        free(text);
        return NULL;
    }
    return v;
}

json_t *oms_json_load_buf(const char *data, size_t len, const char *source, struct oms_err *err)
{
    json_error_t je;
    json_t *v = json_loadb(data ? data : "", data ? len : 0, JSON_REJECT_DUPLICATES, &je);
    if (!v)
        return from_error(&je, data, data ? len : 0, source, err);
    return v;
}

void oms_json_append_string(struct oms_buf *b, const char *s, size_t len)
{
    /* As jansson writes strings: the mandatory escapes, short forms where JSON has them. */
    static const char hex[] = "0123456789ABCDEF";
    oms_buf_append(b, "\"", 1);
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        oms_buf_append(b, s + run, i - run);
        run = i + 1;
        char esc[7] = {'\\', 0, 0, 0, 0, 0, 0};
        size_t n = 2;
        switch (ch) {
        case '"':
        case '\\':
            esc[1] = (char)ch;
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[ch >> 4];
            esc[5] = hex[ch & 15];
            n = 6;
        }
        oms_buf_append(b, esc, n);
    }
    oms_buf_append(b, s + run, len - run);
    oms_buf_append(b, "\"", 1);
}

void oms_json_append_int(struct oms_buf *b, int64_t v)
{
    char digits[24];
    size_t at = sizeof(digits);
    /* Negated as unsigned, so INT64_MIN is written too. */
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        digits[--at] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        digits[--at] = '-';
    oms_buf_append(b, digits + at, sizeof(digits) - at);
}

void oms_json_append(struct oms_buf *b, const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        oms_buf_append(b, "{", 1);
        const char *key;
        size_t key_len;
        json_t *item;
        int first = 1;
        json_object_keylen_foreach((json_t *)v, key, key_len, item)
        {
            if (!first)
                oms_buf_append(b, ",", 1);
            first = 0;
            oms_json_append_string(b, key, key_len);
            oms_buf_append(b, ":", 1);
            oms_json_append(b, item);
        }
        oms_buf_append(b, "}", 1);
        return;
    }
    case JSON_ARRAY:
        oms_buf_append(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i)
                oms_buf_append(b, ",", 1);
            oms_json_append(b, json_array_get(v, i));
        }
        oms_buf_append(b, "]", 1);
        return;
    case JSON_STRING:
        oms_json_append_string(b, json_string_value(v), json_string_length(v));
        return;
    case JSON_INTEGER:
        oms_json_append_int(b, json_integer_value(v));
        return;
    case JSON_REAL: {
        /* jansson's own rendering of a real (precision, exponent, the ".0"). */
        char *text = json_dumps(v, JSON_ENCODE_ANY);
        oms_buf_puts(b, text ? text : "null");
        free(text);
        return;
    }
    case JSON_TRUE:
        oms_buf_append(b, "true", 4);
        return;
    case JSON_FALSE:
        oms_buf_append(b, "false", 5);
        return;
    case JSON_NULL:
    default:
        oms_buf_append(b, "null", 4);
        return;
    }
}

char *oms_json_dumps(const json_t *value)
{
    if (!value)
        return oms_xstrdup("null");
    /* Our own writer: jansson's json_dumps checks every object and array for a reference loop
     * through a hash table keyed by its printed address, several times the cost of the rest. */
    struct oms_buf b;
    oms_buf_init(&b, 0);
    oms_json_append(&b, value);
    return oms_buf_take(&b, NULL);
}

char *oms_json_dumps_pretty(const json_t *value)
{
    if (!value)
        return oms_xstrdup("null");
    char *s = json_dumps(value, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENCODE_ANY);
    if (!s)
        return oms_xstrdup("null");
    return s;
}

static int is_identifier(const char *key)
{
    if (!key[0] || isdigit((unsigned char)key[0]))
        return 0;
    for (const char *p = key; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            return 0;
    return 1;
}

char *oms_jpath_key(char *out, size_t size, const char *parent, const char *key)
{
    if (is_identifier(key))
        snprintf(out, size, "%s.%s", parent && parent[0] ? parent : "$", key);
    else
        snprintf(out, size, "%s[\"%s\"]", parent && parent[0] ? parent : "$", key);
    return out;
}

char *oms_jpath_index(char *out, size_t size, const char *parent, size_t index)
{
    snprintf(out, size, "%s[%zu]", parent && parent[0] ? parent : "$", index);
    return out;
}

int oms_json_int(const json_t *value, int64_t *out)
{
    if (!json_is_integer(value))
        return OMS_E_INVAL;
    *out = (int64_t)json_integer_value(value);
    return 0;
}

int oms_json_equal(const json_t *a, const json_t *b)
{
    return json_equal((json_t *)a, (json_t *)b);
}

const char *oms_json_type_name(const json_t *v)
{
    if (!v)
        return "missing";
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "object";
    case JSON_ARRAY:
        return "array";
    case JSON_STRING:
        return "string";
    case JSON_INTEGER:
        return "integer";
    case JSON_REAL:
        return "real";
    case JSON_TRUE:
    case JSON_FALSE:
        return "boolean";
    case JSON_NULL:
        return "null";
    }
    return "unknown";
}

void oms_json_merge(json_t *target, const json_t *patch)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *)patch, key, value)
    {
        json_t *cur = json_object_get(target, key);
        if (json_is_null(value)) {
            json_object_del(target, key);
        } else if (json_is_object(value)) {
            /* RFC 7396: a patch object merges into an object, or into an empty one, so its own
             * nulls delete rather than being stored; the patch is never shared with target. */
            if (!json_is_object(cur)) {
                cur = json_object();
                json_object_set_new(target, key, cur);
            }
            oms_json_merge(cur, value);
        } else {
            json_object_set_new(target, key, json_deep_copy(value));
        }
    }
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 when the bytes there are not one. */
static size_t utf8_seq(const unsigned char *p, size_t left)
{
    size_t n;
    unsigned cp;
    if (p[0] < 0x80)
        return 1;
    if ((p[0] & 0xE0) == 0xC0) {
        n = 2;
        cp = p[0] & 0x1F;
    } else if ((p[0] & 0xF0) == 0xE0) {
        n = 3;
        cp = p[0] & 0x0F;
    } else if ((p[0] & 0xF8) == 0xF0) {
        n = 4;
        cp = p[0] & 0x07;
    } else {
        return 0;
    }
    if (n > left)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

json_t *oms_json_string_lossy(const char *data, size_t len)
{
    json_t *s = json_stringn(data ? data : "", data ? len : 0);
    if (s)
        return s;
    struct oms_buf b;
    oms_buf_init(&b, 0);
    const unsigned char *p = (const unsigned char *)data;
    size_t i = 0;
    while (i < len) {
        size_t n = p[i] ? utf8_seq(p + i, len - i) : 1;
        if (n == 0) {
            oms_buf_append(&b, "\xEF\xBF\xBD", 3);
            i++;
        } else {
            oms_buf_append(&b, p + i, n);
            i += n;
        }
    }
    s = json_stringn(oms_buf_str(&b), b.len);
    oms_buf_cleanup(&b);
    return s ? s : json_string("");
}

int oms_json_check_keys(const json_t *obj, const char *path, const char *const *allowed,
                        const char *source, struct oms_err *err)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v)
    {
        size_t i = 0;
        while (allowed[i] && strcmp(allowed[i], key) != 0)
            i++;
        if (allowed[i])
            continue;
        char p[OMS_ERR_PATH_MAX], list[512] = "";
        size_t n = 0;
        for (size_t j = 0; allowed[j] && n < sizeof(list); j++)
            n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", j ? ", " : "", allowed[j]);
        return oms_err_set(err, OMS_E_INVAL, source, 0, 0, oms_jpath_key(p, sizeof(p), path, key),
                           "unknown key \"%s\" (expected one of: %s)", key, list);
    }
    return 0;
}

const json_t *oms_json_find_by_id(const json_t *list, int64_t id)
{
    size_t i;
    json_t *e;
    json_array_foreach((json_t *)list, i, e)
    {
        json_t *v = json_object_get(e, "id");
        if (json_is_integer(v) && json_integer_value(v) == id)
            return e;
    }
    return NULL;
}
