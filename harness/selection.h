/* selection: which scenarios a run takes - --filter GLOB, --tag, --rule and --id (any case), and
 * --exclude - and, for each value that matches no scenario, a message with the nearest value that
 * would have (a mistyped selection must never pass a CI gate by running nothing). */
#ifndef SELECTION_H
#define SELECTION_H

#include <jansson.h>
#include <stddef.h>

#include "oms_buf.h"
#include "scenario.h"
#include "suite.h"

/* What an --exclude value names. "tag:T", "rule:R", "id:I", "path:P" say it; without a prefix a
 * rule-shaped value (C-7) is a rule, one with a "/" or ending in ".json" a path, and any other
 * word an id or a tag (both are excluded). */
enum selection_kind { SELECTION_TAG, SELECTION_RULE, SELECTION_ID, SELECTION_PATH, SELECTION_WORD };

/* Reads an --exclude value: its kind and where the name starts. Returns 0, or OMS_E_INVAL with why
 * (a prefix that is none of tag/rule/id/path, or an empty name) written into why. */
int selection_parse_exclude(const char *value, enum selection_kind *kind, const char **name,
                            char *why, size_t size);

/* 1 when opt selects sc (the filter, tags, rules and ids it names, and no exclude matches). */
int selection_keeps(const struct scenario *sc, const struct suite_options *opt);

/* Appends one line ("no scenario has tag \"webhok\"; did you mean \"webhooks\"?") per value of
 * opt that matches none of the n scenarios, with the nearest tag, rule (of the catalogue, the
 * "rules" array of spec/rules.json, or of the scenarios), id or path. Returns how many. */
size_t selection_misses(struct scenario *const *items, size_t n, const struct suite_options *opt,
                        const json_t *catalogue, struct oms_buf *out);

/* For a selection that keeps nothing though each value matches some scenario: one line saying
 * how many scenarios each option takes, so the user sees which combination is empty. */
void selection_explain(struct scenario *const *items, size_t n, const struct suite_options *opt,
                       struct oms_buf *out);

#endif
