/* tier: rule catalogue lookups and check verdicts by basis. */
#include "tier.h"

#include "oms_alloc.h"

#include <stdlib.h>
#include <string.h>

struct tier {
    json_t *by_id; /* id -> catalogue entry */
    int strict;
};

struct tier *tier_create(const json_t *rules, int strict)
{
    struct tier *t = oms_xcalloc(1, sizeof(*t));
    t->by_id = json_object();
    t->strict = strict;
    size_t i;
    json_t *r;
    json_array_foreach((json_t *)rules, i, r)
    {
        const char *id = json_string_value(json_object_get(r, "id"));
        if (id)
            json_object_set(t->by_id, id, r);
    }
    return t;
}

void tier_destroy(struct tier *t)
{
    if (!t)
        return;
    json_decref(t->by_id);
    free(t);
}

const char *tier_basis(const struct tier *t, const char *rule)
{
    if (!t || !rule)
        return NULL;
    return json_string_value(json_object_get(json_object_get(t->by_id, rule), "basis"));
}

const char *tier_title(const struct tier *t, const char *rule)
{
    if (!t || !rule)
        return NULL;
    return json_string_value(json_object_get(json_object_get(t->by_id, rule), "title"));
}

int tier_soft(const struct tier *t, const char *rule)
{
    const char *basis = tier_basis(t, rule);
    return t && !t->strict && basis && strcmp(basis, "reference") == 0;
}

int tier_soft_cb(const char *rule, void *arg)
{
    return tier_soft(arg, rule);
}

/* 1 when pattern is kind or a dotted prefix of it. */
static int covers(const char *pattern, const char *kind)
{
    size_t n = strlen(pattern);
    return strncmp(pattern, kind, n) == 0 && (kind[n] == '\0' || kind[n] == '.');
}

const char *tier_rule_for(const struct tier *t, const char *kind, const char *const *rules,
                          size_t n)
{
    for (size_t i = 0; t && kind && i < n; i++) {
        const json_t *checks = json_object_get(json_object_get(t->by_id, rules[i]), "checks");
        size_t k;
        json_t *c;
        json_array_foreach((json_t *)checks, k, c)
        {
            if (json_is_string(c) && covers(json_string_value(c), kind))
                return rules[i];
        }
    }
    return n ? rules[0] : NULL;
}

static void set_rule(const struct tier *t, struct result_check *c, const char *rule)
{
    if (rule && (!c->rule || strcmp(c->rule, rule) != 0)) {
        free(c->rule);
        c->rule = oms_xstrdup(rule);
    }
    free(c->basis);
    c->basis = tier_basis(t, c->rule) ? oms_xstrdup(tier_basis(t, c->rule)) : NULL;
}

/* The rule a difference falls under: its own, or the check's. */
static const char *diff_rule(const struct result_check *c, const json_t *d)
{
    const char *rule = json_string_value(json_object_get(d, "rule"));
    return rule ? rule : c->rule;
}

void tier_settle(const struct tier *t, struct result_check *c)
{
    if (c->state == CHECK_SKIPPED) {
        set_rule(t, c, NULL);
        return;
    }
    size_t n = json_array_size(c->mismatches);
    if (n == 0) {
        c->state = CHECK_PASSED;
        set_rule(t, c, NULL);
        return;
    }
    /* Failures first, notes after, each in their order: the first difference decides. */
    json_t *hard = json_array(), *soft = json_array();
    size_t i;
    json_t *d;
    json_array_foreach(c->mismatches, i, d)
    {
        const char *basis = tier_basis(t, diff_rule(c, d));
        if (basis)
            json_object_set_new(d, "basis", json_string(basis));
        json_array_append(tier_soft(t, diff_rule(c, d)) ? soft : hard, d);
    }
    c->state = json_array_size(hard) ? CHECK_FAILED : CHECK_NOTED;
    json_array_extend(hard, soft);
    json_decref(soft);
    json_decref(c->mismatches);
    c->mismatches = hard;
    const json_t *decisive = json_array_get(c->mismatches, 0);
    char *rule = oms_xstrdup(diff_rule(c, decisive));
    set_rule(t, c, rule);
    free(rule);
    free(c->message);
    c->message = oms_xstrdup(json_string_value(json_object_get(decisive, "message")));
}

static void settle_all(const struct tier *t, struct result_check *checks, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tier_settle(t, &checks[i]);
}

void tier_settle_scenario(const struct tier *t, struct result_scenario *s)
{
    for (size_t i = 0; i < s->step_count; i++)
        settle_all(t, s->steps[i].checks, s->steps[i].check_count);
    settle_all(t, s->checks, s->check_count);
    result_scenario_settle(s);
}
