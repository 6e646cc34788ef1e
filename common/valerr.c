/* valerr: field-by-field validation errors and the E-1 envelope. */
#include "valerr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "oms_json.h"

void valerr_init(struct valerr *v)
{
    v->fields = json_object();
}

void valerr_cleanup(struct valerr *v)
{
    json_decref(v->fields);
    v->fields = NULL;
}

void valerr_add(struct valerr *v, const char *field, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_t *key = oms_json_string_lossy(field, strlen(field));
    json_t *list = json_object_get(v->fields, json_string_value(key));
    if (!list) {
        list = json_array();
        json_object_set_new(v->fields, json_string_value(key), list);
    }
    json_array_append_new(list, oms_json_string_lossy(msg, strlen(msg)));
    json_decref(key);
}

int valerr_any(const struct valerr *v)
{
    return json_object_size(v->fields) > 0;
}

json_t *valerr_envelope(const struct valerr *v, int status)
{
    return json_pack("{s:O, s:i}", "error", v->fields, "status_code", status);
}

json_t *valerr_single(int status, const char *field, const char *message)
{
    /* Both may repeat bytes of the request (a method, a path) that are not UTF-8: they are made
     * valid rather than losing the whole envelope (SPEC E-1). */
    struct valerr v;
    valerr_init(&v);
    valerr_add(&v, field, "%s", message);
    json_t *doc = valerr_envelope(&v, status);
    valerr_cleanup(&v);
    return doc;
}
