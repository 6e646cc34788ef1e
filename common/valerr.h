/* valerr: collects the validation errors of one request, field by field, and renders the SPEC
 * E-1 envelope {"error": {"<field>" | "non_field_errors": ["message", ...]}, "status_code": N}. */
#ifndef VALERR_H
#define VALERR_H

#include <jansson.h>

struct valerr {
    json_t *fields; /* object: field -> array of messages, in the order they were added */
};

/* Prepares an empty collection; valerr_cleanup frees it (then it may be initialised again). */
void valerr_init(struct valerr *v);
void valerr_cleanup(struct valerr *v);
/* Adds a message under field ("non_field_errors" for the request as a whole). */
void valerr_add(struct valerr *v, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int valerr_any(const struct valerr *v);
/* The envelope for status (new reference). */
json_t *valerr_envelope(const struct valerr *v, int status);
/* A one-message envelope, for 401/404/405/413/415 (new reference). */
json_t *valerr_single(int status, const char *field, const char *message);

#endif
