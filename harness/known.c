/* known: reading the known-failure list and marking results with it. */
#include "known.h"

#include "jpos.h"
#include "oms_alloc.h"
#include "oms_buf.h"
#include "oms_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KNOWN_MAX_BYTES (4u * 1024u * 1024u)

/* The file's bytes into b. Returns 0, or a negative code with err naming the file. */
static int read_all(const char *file, struct oms_buf *b, struct oms_err *err)
{
    FILE *f = fopen(file, "rb");
    if (!f)
        return oms_err_set(err, OMS_E_IO, file, 0, 0, NULL, "cannot open: %s", strerror(errno));
    int rc = oms_buf_append_stream(b, f);
    fclose(f);
    if (rc == OMS_E_INVAL)
        return oms_err_set(err, rc, file, 0, 0, NULL, "file is larger than %u bytes",
                           KNOWN_MAX_BYTES);
    if (rc != 0)
        return oms_err_set(err, rc, file, 0, 0, NULL, "cannot read the file");
    return 0;
}

static void add_error(struct oms_err *errs, size_t max, size_t *count, const char *file,
                      const struct jpos *pos, const char *path, const char *message)
{
    if (*count < max) {
        int line = 0, column = 0;
        jpos_lookup(pos, path, &line, &column);
        oms_err_clear(&errs[*count]);
        oms_err_set(&errs[*count], OMS_E_INVAL, file, line, column, path, "%s", message);
    }
    (*count)++;
}

/* The entries, once the document has the schema's shape; an id listed twice is an error. */
static void fill(const json_t *doc, const char *file, const struct jpos *pos,
                 struct known_list *out, struct oms_err *errs, size_t max, size_t *count)
{
    out->file = oms_xstrdup(file);
    out->items = oms_xcalloc(json_array_size(doc) + 1, sizeof(*out->items));
    size_t i;
    json_t *e;
    json_array_foreach(doc, i, e)
    {
        char path[OMS_ERR_PATH_MAX], id_path[OMS_ERR_PATH_MAX];
        oms_jpath_key(id_path, sizeof(id_path), oms_jpath_index(path, sizeof(path), "$", i), "id");
        const char *id = json_string_value(json_object_get(e, "id"));
        const struct known_failure *before = known_find(out, id);
        if (before) {
            char message[512];
            snprintf(message, sizeof(message), "\"%s\" is listed twice (first at line %d)", id,
                     before->line);
            add_error(errs, max, count, file, pos, id_path, message);
            continue;
        }
        struct known_failure *k = &out->items[out->count++];
        k->id = oms_xstrdup(id);
        k->reason = oms_xstrdup(json_string_value(json_object_get(e, "reason")));
        const char *issue = json_string_value(json_object_get(e, "issue"));
        k->issue = issue ? oms_xstrdup(issue) : NULL;
        jpos_lookup(pos, id_path, &k->line, &k->column);
    }
}

size_t known_load(const char *file, struct schema *schema, struct known_list *out,
                  struct oms_err *errs, size_t max)
{
    memset(out, 0, sizeof(*out));
    struct oms_buf text;
    oms_buf_init(&text, KNOWN_MAX_BYTES);
    struct oms_err one = {0};
    json_t *doc = NULL;
    if (read_all(file, &text, &one) == 0)
        doc = oms_json_load_buf(oms_buf_str(&text), text.len, file, &one);
    if (!doc) {
        if (max > 0)
            errs[0] = one;
        oms_buf_cleanup(&text);
        return 1;
    }
    struct jpos *pos = jpos_index(oms_buf_str(&text), text.len);
    oms_buf_cleanup(&text);
    struct schema_issue issues[16];
    size_t n = schema_validate(schema, doc, issues, OMS_ARRAY_LEN(issues));
    size_t count = 0;
    for (size_t i = 0; i < n && i < OMS_ARRAY_LEN(issues); i++)
        add_error(errs, max, &count, file, pos, issues[i].path, issues[i].message);
    if (n > OMS_ARRAY_LEN(issues))
        count += n - OMS_ARRAY_LEN(issues);
    if (count == 0)
        fill(doc, file, pos, out, errs, max, &count);
    jpos_destroy(pos);
    json_decref(doc);
    if (count)
        known_cleanup(out);
    return count;
}

void known_cleanup(struct known_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].id);
        free(l->items[i].reason);
        free(l->items[i].issue);
    }
    free(l->items);
    free(l->file);
    memset(l, 0, sizeof(*l));
}

const struct known_failure *known_find(const struct known_list *l, const char *id)
{
    for (size_t i = 0; l && id && i < l->count; i++)
        if (strcmp(l->items[i].id, id) == 0)
            return &l->items[i];
    return NULL;
}

void known_mark(const struct known_list *l, struct result_scenario *r)
{
    const struct known_failure *k = known_find(l, r->id);
    if (!k || r->outcome == RESULT_SKIP || r->environment)
        return;
    /* Passing with notes is passing: the listed failure is gone. */
    r->known = r->outcome == RESULT_PASS || r->outcome == RESULT_NOTED ? RESULT_KNOWN_FIXED
                                                                       : RESULT_KNOWN_FAILING;
    r->known_reason = oms_xstrdup(k->reason);
    r->known_issue = k->issue ? oms_xstrdup(k->issue) : NULL;
}
