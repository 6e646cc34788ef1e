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
    json_t *list = json_object_get(v->fields, field);
    if (!list) {
        list = json_array();
        json_object_set_new(v->fields, field, list);
    }
    json_array_append_new(list, oms_json_string_lossy(msg, strlen(msg)));
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
    /* Messages may quote what the client sent (a path, a media type): invalid UTF-8 in them is
     * shown as U+FFFD, never turned into a null body. */
    json_t *key = oms_json_string_lossy(field, strlen(field));
    json_t *list = json_array();
    json_array_append_new(list, oms_json_string_lossy(message, strlen(message)));
    json_t *fields = json_object();
    json_object_set_new(fields, json_string_value(key), list);
    json_decref(key);
    return json_pack("{s:o, s:i}", "error", fields, "status_code", status);
}
