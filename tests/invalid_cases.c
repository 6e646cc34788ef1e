/* invalid_cases: the table of broken scenario files (see invalid_cases.h). */
#include "invalid_cases.h"

const struct invalid_case INVALID[] = {
    {"unknown-key-typo.json", 3, 17, "$.descripton",
     "unknown key \"descripton\" (did you mean \"description\"?)"},
    {"missing-name.json", 1, 1, "$", "missing required key \"name\""},
    {"id-not-kebab-case.json", 2, 9, "$.id",
     "\"Packed_For_Refund\" does not match the pattern ^[a-z0-9]+(-[a-z0-9]+)*$"},
    {"unknown-rule.json", 3, 20, "$.rules[1]",
     "\"C-99\" is not an id of the contract (docs/spec.md, spec/rules.json); did you mean "
     "\"C-9\"?"},
    {"status-wrong-type.json", 7, 44, "$.given.packages[0].status",
     "expected a string or integer, found boolean"},
    {"command-and-http.json", 5, 5, "$.when[0]",
     "expected exactly one of \"command\" or \"http\" or \"lifecycle\" or \"receivers\" or "
     "\"crash\", found 2"},
    {"command-without-package.json", 5, 17, "$.when[0].command",
     "a command step needs \"package\""},
    {"body-and-raw-body.json", 5, 17, "$.when[0].command",
     "give either \"body\" (JSON) or \"raw_body\""},
    {"trailing-comma.json", 4, 42, "", "invalid JSON: a trailing comma before '}'"},
    {"duplicate-key.json", 4, 8, "", "duplicate object key"},
    {"unknown-matcher.json", 8, 25, "$.then.response.body.error", "unknown matcher \"$regexp\""},
    {"bad-regex.json", 7, 54, "$.then.webhooks.erp[0].body.event.uuid[\"$regex\"]",
     "invalid regular expression"},
    {"receiver-twice.json", 7, 59, "$.given.subscriptions[1].receiver",
     "receiver \"erp\" is used by two subscriptions"},
    {"rule-listed-twice.json", 3, 20, "$.rules[1]", "rule \"C-2\" is listed twice"},
    {"concurrent-single-response.json", 8, 28, "$.when[0].then.response",
     "a concurrent step has several responses"},
    {"http-without-path.json", 4, 21, "$.when[0].http", "an http step needs a \"path\""},
    {"item-key-not-id.json", 6, 45, "$.then.packages[\"501\"].items.SKU-1",
     "item keys must be item ids, found \"SKU-1\""},
    {"lifecycle-action-without-package.json", 4, 26, "$.when[0].lifecycle",
     "a lifecycle action needs the \"package\""},
    {"signed-and-unsigned.json", 6, 26, "$.then.webhooks.erp[0]",
     "a call cannot be both \"signed_with\" and \"unsigned\""},
    {"status-code-matcher-range-shape.json", 5, 46, "$.then.response.status[\"$range\"]",
     "expected [min, max] numbers"},
    {"status-name-typo.json", 7, 44, "$.given.packages[0].status",
     "\"Wating\" is not a status of the profile's catalogue; did you mean \"Waiting\"?"},
    {"rule-id-near-miss.json", 3, 13, "$.rules[0]",
     "\"Q-01\" is not an id of the contract (docs/spec.md, spec/rules.json); did you mean "
     "\"Q-1\"?"},
    {"slug-typo-expecting-success.json", 8, 74, "$.when[0].command.body.slug",
     "slug \"packed_for_refund\" is not a transition of the profile, yet the step expects 204; "
     "did you mean \"packed-for-refund\"?"},
    {"event-type-typo.json", 5, 38, "$.given.subscriptions[0].event_type",
     "\"package.status.packed-for-refund\" is the event type of no transition of the profile, so "
     "this subscription would never be called; did you mean "
     "\"package.status.packed_for_refund\"?"},
    {"lifecycle-action-typo.json", 4, 37, "$.when[0].lifecycle.action",
     "\"out_of_stok\" is not a lifecycle action of the profile (its \"lifecycle\"); did you mean "
     "\"out_of_stock\"?"},
    {"expected-status-typo.json", 5, 43, "$.then.packages[\"501\"].status",
     "\"Packed for Refnud\" is not a status of the profile's catalogue; did you mean \"Packed for "
     "Refund\"?"},
    {"matcher-mixed-with-keys.json", 5, 33, "$.then.response.body",
     "matcher \"$partial\" must be the only key"},
    /* Profile files (statuses/transitions, no "when") are checked against the profile schema and
     * the profile loader; a scenario's profile overrides against the schema as a merge patch. */
    {"profile-unknown-key.json", 8, 52, "$.delivery.webhok_retry",
     "unknown key \"webhok_retry\" (did you mean \"webhook_retry\"?)"},
    {"profile-unknown-status.json", 4, 82, "$.transitions[0].sources[1]",
     "\"Out of Stock\" does not name a status of the catalogue"},
    {"scenario-profile-override-typo.json", 4, 105,
     "$.given.profile.delivery.webhook_retry.max_retry", "unknown key \"max_retry\""},
    {"crash-after-beyond-burst.json", 5, 87, "$.when[0].crash.after",
     "the burst has 3 command(s): it cannot be killed after answer 5"},
    {"crash-burst-without-moment.json", 5, 15, "$.when[0].crash",
     "a burst needs when to kill: \"after\": N (after the Nth answer) or \"at\": \"random\", "
     "not neither"},
    {"crash-after-without-burst.json", 5, 25, "$.when[0].crash.after",
     "\"after\" is about the commands of a \"burst\""},
    {"crash-with-response.json", 6, 14, "$.when[0].then",
     "a crash step checks its commands itself"},
    {"crash-package-twice.json", 5, 45, "$.when[0].crash.burst.packages[2]",
     "package 1 is listed twice"},
    {"crash-body-with-package.json", 5, 66, "$.when[0].crash.burst.body.package",
     "the harness sets \"package\" to each package of the burst"},
    {"fault-path-control-endpoint.json", 4, 74, "$.given.receivers.webhook.faults[0].path",
     "\"/__journal\" does not match the pattern"},
};

const size_t INVALID_COUNT = sizeof(INVALID) / sizeof(INVALID[0]);
