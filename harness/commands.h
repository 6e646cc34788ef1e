/* commands: what each subcommand of refund-harness does once its command line is parsed (cli.h
 * dispatches here). Each returns the process's exit code (enum commands_exit). */
#ifndef COMMANDS_H
#define COMMANDS_H

#include <jansson.h>

#include "oms_buf.h"

struct cli;
struct suite;

enum commands_exit {
    COMMANDS_GO_ON = -1, /* not an exit code: a step succeeded and the command goes on */
    COMMANDS_PASS = 0,   /* every selected scenario passed; the command did what was asked */
    COMMANDS_FAILED = 1, /* a scenario failed or errored, or --strict found an uncovered rule */
    COMMANDS_USAGE = 2,  /* an invalid scenario, nothing selected, or a usage error */
    COMMANDS_ENV = 3,    /* the environment failed: a port, a server, the target, the reports */
};

/* list --rules: one line per rule of catalogue (the "rules" array of spec/rules.json), in its
 * order - "ID<TAB>N<TAB>TITLE", then "<TAB>BASIS" when the rule has a "basis" (a string, strings
 * joined by ", ", anything else as compact JSON) - where N counts the scenarios of s exercising
 * it. Appends to out. */
void commands_rule_lines(const json_t *catalogue, const struct suite *s, struct oms_buf *out);

/* The subcommands, each given the parsed command line; each returns its exit code (enum
 * commands_exit) after printing what went wrong. */
int commands_run(struct cli *c);
int commands_validate(struct cli *c);
int commands_list(struct cli *c);
int commands_serve(struct cli *c);
int commands_journal(struct cli *c);
/* explore (explore.h): the options it shares with run, then its own. */
int commands_explore(struct cli *c);

#endif
