/* jpos: a position index built by scanning valid JSON text once. */
#include "jpos.h"

#include "oms_alloc.h"
#include "oms_buf.h"
#include "oms_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    char *path;
    int line;
    int column;
};

struct jpos {
    struct entry *entries;
    size_t count;
    size_t cap;
};

struct scan {
    const char *s;
    size_t len;
    size_t i;
    int line;
    int col;
    struct jpos *out;
};

static void add(struct jpos *p, const char *path, int line, int column)
{
    if (p->count == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->entries = oms_xrealloc(p->entries, p->cap * sizeof(*p->entries));
    }
    p->entries[p->count].path = oms_xstrdup(path);
    p->entries[p->count].line = line;
    p->entries[p->count].column = column;
    p->count++;
}

static int peek(struct scan *sc)
{
    return sc->i < sc->len ? (unsigned char)sc->s[sc->i] : -1;
}

static void advance(struct scan *sc)
{
    if (sc->i >= sc->len)
        return;
    if (sc->s[sc->i] == '\n') {
        sc->line++;
        sc->col = 1;
    } else if (((unsigned char)sc->s[sc->i] & 0xC0) != 0x80) {
        sc->col++; /* columns count characters, not UTF-8 continuation bytes */
    }
    sc->i++;
}

static void skip_ws(struct scan *sc)
{
    int c;
    for (c = peek(sc); c == ' ' || c == '\t' || c == '\n' || c == '\r'; c = peek(sc))
        advance(sc);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return 0;
}

static void put_utf8(struct oms_buf *b, unsigned cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    oms_buf_append(b, u, n);
}

/* Reads a string token (at its opening quote) and decodes it into b. */
static void read_string(struct scan *sc, struct oms_buf *b)
{
    advance(sc); /* opening quote */
    int c;
    for (c = peek(sc); c != -1 && c != '"'; c = peek(sc)) {
        if (c == '\\') {
            advance(sc);
            c = peek(sc);
            advance(sc);
            switch (c) {
            case 'n':
                oms_buf_append(b, "\n", 1);
                break;
            case 't':
                oms_buf_append(b, "\t", 1);
                break;
            case 'r':
                oms_buf_append(b, "\r", 1);
                break;
            case 'b':
                oms_buf_append(b, "\b", 1);
                break;
            case 'f':
                oms_buf_append(b, "\f", 1);
                break;
            case 'u': {
                unsigned cp = 0;
                for (int k = 0; k < 4; k++) {
                    cp = cp * 16 + (unsigned)hexval(peek(sc));
                    advance(sc);
                }
                if (cp >= 0xD800 && cp < 0xDC00 && peek(sc) == '\\') {
                    advance(sc);
                    advance(sc); /* 'u' */
                    unsigned lo = 0;
                    for (int k = 0; k < 4; k++) {
                        lo = lo * 16 + (unsigned)hexval(peek(sc));
                        advance(sc);
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                put_utf8(b, cp);
                break;
            }
            default: {
                char ch = (char)c;
                oms_buf_append(b, &ch, 1);
            }
            }
        } else {
            char ch = (char)c;
            oms_buf_append(b, &ch, 1);
            advance(sc);
        }
    }
    advance(sc); /* closing quote */
}

static void value(struct scan *sc, const char *path, int depth);

static void object(struct scan *sc, const char *path, int depth)
{
    advance(sc); /* { */
    skip_ws(sc);
    struct oms_buf key;
    oms_buf_init(&key, 0);
    while (peek(sc) == '"') {
        oms_buf_reset(&key);
        read_string(sc, &key);
        skip_ws(sc);
        advance(sc); /* : */
        char child[1024];
        oms_jpath_key(child, sizeof(child), path, oms_buf_str(&key));
        value(sc, child, depth + 1);
        skip_ws(sc);
        if (peek(sc) == ',') {
            advance(sc);
            skip_ws(sc);
        }
    }
    advance(sc); /* } */
    oms_buf_cleanup(&key);
}

static void array(struct scan *sc, const char *path, int depth)
{
    advance(sc); /* [ */
    skip_ws(sc);
    size_t index = 0;
    while (peek(sc) != ']' && peek(sc) != -1) {
        char child[1024];
        oms_jpath_index(child, sizeof(child), path, index++);
        value(sc, child, depth + 1);
        skip_ws(sc);
        if (peek(sc) == ',') {
            advance(sc);
            skip_ws(sc);
        }
    }
    advance(sc); /* ] */
}

static void value(struct scan *sc, const char *path, int depth)
{
    skip_ws(sc);
    add(sc->out, path, sc->line, sc->col);
    int c = peek(sc);
    if (depth > 200) {
        sc->i = sc->len;
        return;
    }
    if (c == '{') {
        object(sc, path, depth);
    } else if (c == '[') {
        array(sc, path, depth);
    } else if (c == '"') {
        struct oms_buf ignored;
        oms_buf_init(&ignored, 0);
        read_string(sc, &ignored);
        oms_buf_cleanup(&ignored);
    } else {
        for (c = peek(sc); c != -1 && c != ',' && c != '}' && c != ']' && c != ' ' && c != '\n' &&
                           c != '\r' && c != '\t';
             c = peek(sc))
            advance(sc);
    }
}

struct jpos *jpos_index(const char *text, size_t len)
{
    struct jpos *p = OMS_NEW(struct jpos);
    struct scan sc = {.s = text, .len = len, .line = 1, .col = 1, .out = p};
    if (text)
        value(&sc, "$", 0);
    return p;
}

void jpos_destroy(struct jpos *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->count; i++)
        free(p->entries[i].path);
    free(p->entries);
    free(p);
}

int jpos_lookup(const struct jpos *p, const char *path, int *line, int *column)
{
    char probe[1024];
    snprintf(probe, sizeof(probe), "%s", path);
    *line = 0;
    *column = 0;
    while (probe[0]) {
        for (size_t i = 0; i < p->count; i++) {
            if (strcmp(p->entries[i].path, probe) == 0) {
                *line = p->entries[i].line;
                *column = p->entries[i].column;
                return 0;
            }
        }
        /* Drop the last component: ".key", "[3]" or "[\"key\"]". */
        size_t n = strlen(probe);
        if (n <= 1)
            break;
        size_t cut = n;
        if (probe[n - 1] == ']') {
            /* Find the '[' that opens this bracket, skipping a quoted key's contents. */
            int quoted = n >= 2 && probe[n - 2] == '"';
            size_t k = n - 1;
            if (quoted) {
                k = n - 2;
                while (k > 0 && !(probe[k - 1] == '[' && probe[k] == '"' && k != n - 2))
                    k--;
                cut = k > 0 ? k - 1 : 0;
            } else {
                while (k > 0 && probe[k] != '[')
                    k--;
                cut = k;
            }
        } else {
            while (cut > 0 && probe[cut - 1] != '.')
                cut--;
            cut = cut > 0 ? cut - 1 : 0;
        }
        probe[cut] = '\0';
    }
    return OMS_E_NOENT;
}
