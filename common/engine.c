/* engine: command validation and transition effects, driven by profile tables. */
#include "engine.h"

#include "oms_error.h"
#include "oms_quota.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int valid_slug(const char *s, size_t len)
{
    if (len == 0 || len > 200)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return 0;
    return 1;
}

/* A short description of a JSON value for messages: 'the string "501"', 'the number 1.5'. */
static void describe(const json_t *v, char *out, size_t size)
{
    switch (json_typeof(v)) {
    case JSON_STRING:
        snprintf(out, size, "the string \"%.40s\"", json_string_value(v));
        break;
    case JSON_INTEGER:
        snprintf(out, size, "the number %lld", (long long)json_integer_value(v));
        break;
    case JSON_REAL:
        snprintf(out, size, "the number %g", json_real_value(v));
        break;
    case JSON_TRUE:
        snprintf(out, size, "true");
        break;
    case JSON_FALSE:
        snprintf(out, size, "false");
        break;
    case JSON_NULL:
        snprintf(out, size, "null");
        break;
    case JSON_ARRAY:
        snprintf(out, size, "a list");
        break;
    case JSON_OBJECT:
        snprintf(out, size, "an object");
        break;
    }
}

static const struct oms_profile_transition *
parse_transition_id(const struct oms_profile *p, const json_t *v, int *bad, struct valerr *errors)
{
    char what[96];
    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
        describe(v, what, sizeof(what));
        valerr_add(errors, "transition", "must be a positive integer transition id, not %s", what);
        *bad = 1;
        return NULL;
    }
    const struct oms_profile_transition *t = oms_profile_transition_by_id(p, json_integer_value(v));
    if (!t) {
        valerr_add(errors, "transition", "transition %lld does not exist in this installation",
                   (long long)json_integer_value(v));
        *bad = 1;
    }
    return t;
}

static const struct oms_profile_transition *parse_slug(const struct oms_profile *p, const json_t *v,
                                                       int *bad, struct valerr *errors)
{
    char what[96];
    if (!json_is_string(v) || !valid_slug(json_string_value(v), json_string_length(v))) {
        describe(v, what, sizeof(what));
        valerr_add(errors, "slug",
                   "must be a slug (letters, digits, '-' and '_', at most 200), not %s", what);
        *bad = 1;
        return NULL;
    }
    const struct oms_profile_transition *t =
        oms_profile_transition_by_slug(p, json_string_value(v));
    if (!t) {
        valerr_add(errors, "slug", "no transition has the slug \"%s\" in this installation",
                   json_string_value(v));
        *bad = 1;
    }
    return t;
}

int engine_parse_command(const struct oms_profile *p, int64_t path_package, const json_t *body,
                         struct engine_command *cmd, struct valerr *errors)
{
    char what[96];
    memset(cmd, 0, sizeof(*cmd));
    if (!json_is_object(body)) {
        describe(body, what, sizeof(what));
        valerr_add(errors, "non_field_errors", "the request body must be a JSON object, not %s",
                   what);
        return OMS_E_INVAL;
    }

    /* SPEC C-3, A-2 */
    json_t *pkg = json_object_get(body, "package");
    if (!pkg) {
        valerr_add(errors, "package", "this field is required");
    } else if (!json_is_integer(pkg) || json_integer_value(pkg) <= 0) {
        describe(pkg, what, sizeof(what));
        valerr_add(errors, "package", "must be a positive integer package id, not %s", what);
    } else if (json_integer_value(pkg) != path_package) {
        valerr_add(errors, "package",
                   "package %lld in the body does not match package %lld in the path",
                   (long long)json_integer_value(pkg), (long long)path_package);
    } else {
        cmd->package = json_integer_value(pkg);
    }

    /* SPEC C-4 */
    json_t *tid = json_object_get(body, "transition");
    json_t *slug = json_object_get(body, "slug");
    int bad = 0;
    const struct oms_profile_transition *by_id =
        tid ? parse_transition_id(p, tid, &bad, errors) : NULL;
    const struct oms_profile_transition *by_slug = slug ? parse_slug(p, slug, &bad, errors) : NULL;
    if (!tid && !slug) {
        valerr_add(errors, "non_field_errors",
                   "one of \"transition\" (the transition id) or \"slug\" is required");
    } else if (!bad && by_id && by_slug && by_id != by_slug) {
        valerr_add(errors, "non_field_errors",
                   "transition %lld (\"%s\") and slug \"%s\" name different transitions",
                   (long long)by_id->id, by_id->slug, by_slug->slug);
    } else if (!bad) {
        cmd->transition = by_id ? by_id : by_slug;
    }

    /* SPEC C-8 */
    json_t *sync = json_object_get(body, "sync_remote_order_status");
    if (sync && !json_is_boolean(sync)) {
        describe(sync, what, sizeof(what));
        valerr_add(errors, "sync_remote_order_status", "must be a boolean (true or false), not %s",
                   what);
    }
    cmd->sync_remote_order_status = sync ? json_is_true(sync) : oms_profile_sync_default(p);

    return valerr_any(errors) ? OMS_E_INVAL : 0;
}

int engine_check_source(const struct oms_profile *p, const struct oms_profile_transition *t,
                        int64_t package_id, int64_t current_status, struct valerr *errors)
{
    if (oms_profile_transition_allows(t, current_status))
        return 0;
    char current[96], allowed[512] = "";
    size_t n = 0;
    for (size_t i = 0; i < t->source_count && n < sizeof(allowed); i++) {
        char label[96];
        oms_profile_status_label(p, t->sources[i], label, sizeof(label));
        n += (size_t)snprintf(allowed + n, sizeof(allowed) - n, "%s%s", i ? ", " : "", label);
    }
    valerr_add(errors, "non_field_errors",
               "package %lld is in status %s; transition \"%s\" is allowed only from %s",
               (long long)package_id,
               oms_profile_status_label(p, current_status, current, sizeof(current)), t->slug,
               allowed);
    return OMS_E_CONFLICT;
}

void engine_effects(const struct oms_profile *p, const struct oms_profile_transition *t,
                    int64_t source, int sync_flag, struct engine_effects *out)
{
    out->target = t->target;
    out->delete_reservations = oms_profile_transition_deletes_reservations(t, source);
    out->delete_discrepancies = oms_profile_transition_deletes_discrepancies(t, source);
    out->quota_delta = oms_quota_delta(p, source, t->target);
    out->remote_status =
        t->sync_remote && sync_flag ? oms_profile_omnitron_status(p, t->target) : NULL;
    out->event_type = t->event_type;
}
