/* subscription: validation of webhook subscriptions (the whisperer hooks API and fixtures share
 * it), SPEC C-9 and O-2. */
#ifndef SUBSCRIPTION_H
#define SUBSCRIPTION_H

#include <jansson.h>

#include "store.h"
#include "valerr.h"

/* A validated subscription whose strings point into the document or into owned buffers. */
struct subscription_input {
    struct store_subscription sub;
    char *headers_text; /* owned */
    char *retry_text;   /* owned */
};

/* Validates doc, collecting every field error into errors (unknown keys too when strict). Returns
 * 0 and fills in (release with subscription_input_cleanup), or OMS_E_INVAL. doc must outlive in. */
int subscription_validate(const json_t *doc, int strict, struct subscription_input *in,
                          struct valerr *errors);
void subscription_input_cleanup(struct subscription_input *in);

#endif
