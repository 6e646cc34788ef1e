/* profile_file: profile files, from bytes to a checked profile. */
#include "profile_file.h"

#include "jpos.h"
#include "oms_alloc.h"
#include "oms_buf.h"
#include "oms_json.h"
#include "oms_profile.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The largest profile file read (the same cap as a scenario file). */
#define PROFILE_FILE_MAX_BYTES (8u * 1024u * 1024u)

struct sink {
    const char *file;
    const struct jpos *pos;
    struct oms_err *errs;
    size_t max;
    size_t count;
};

static void add(struct sink *k, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void add(struct sink *k, const char *path, const char *fmt, ...)
{
    if (k->count < k->max) {
        int line = 0, col = 0;
        jpos_lookup(k->pos, path, &line, &col);
        va_list ap;
        va_start(ap, fmt);
        oms_err_clear(&k->errs[k->count]);
        oms_err_vset(&k->errs[k->count], OMS_E_INVAL, k->file, line, col, path, fmt, ap);
        va_end(ap);
    }
    k->count++;
}

int profile_file_is(const json_t *doc)
{
    return json_is_object(doc) && !json_object_get(doc, "when") &&
           (json_object_get(doc, "statuses") || json_object_get(doc, "transitions"));
}

/* The file's bytes into b; 0, or OMS_E_IO when it cannot be read whole. */
static int read_all(const char *file, struct oms_buf *b)
{
    FILE *f = fopen(file, "rb");
    if (!f)
        return OMS_E_IO;
    int rc = oms_buf_append_stream(b, f);
    fclose(f);
    return rc;
}

size_t profile_file_check(const char *file, struct schema *schema, int *is_profile,
                          struct oms_err *errs, size_t max)
{
    *is_profile = 0;
    struct oms_buf text;
    oms_buf_init(&text, PROFILE_FILE_MAX_BYTES);
    json_t *doc = NULL;
    if (read_all(file, &text) == 0)
        doc = json_loadb(oms_buf_str(&text), text.len, JSON_REJECT_DUPLICATES, NULL);
    if (!profile_file_is(doc)) {
        json_decref(doc);
        oms_buf_cleanup(&text);
        return 0;
    }
    *is_profile = 1;
    struct jpos *pos = jpos_index(oms_buf_str(&text), text.len);
    oms_buf_cleanup(&text);
    struct sink k = {.file = file, .pos = pos, .errs = errs, .max = errs ? max : 0};

    struct schema_issue issues[32];
    size_t n = schema_validate(schema, doc, issues, OMS_ARRAY_LEN(issues));
    for (size_t i = 0; i < n && i < OMS_ARRAY_LEN(issues); i++)
        add(&k, issues[i].path, "%s", issues[i].message);
    if (n > OMS_ARRAY_LEN(issues))
        k.count += n - OMS_ARRAY_LEN(issues);
    if (n == 0) {
        /* The loader's own checks: catalogue references, uniqueness, lifecycle slugs. */
        struct oms_profile *p = NULL;
        struct oms_err err = {0};
        if (oms_profile_from_json(doc, file, &p, &err) != 0)
            add(&k, err.path[0] ? err.path : "$", "%s", err.message);
        oms_profile_unref(p);
    }
    jpos_destroy(pos);
    json_decref(doc);
    return k.count;
}
