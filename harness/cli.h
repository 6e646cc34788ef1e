/* cli: the command line of refund-harness - its subcommands and their options as tables (so the
 * parser, each subcommand's --help, the man page's test and the suggestions for a mistyped option
 * all read one list), parsing, and dispatch to the subcommand's handler (commands.h). */
#ifndef CLI_H
#define CLI_H

#include <stddef.h>
#include <stdio.h>

#include "explore.h"
#include "serve.h"
#include "suite.h"

enum cli_command_id {
    CLI_RUN,
    CLI_VALIDATE,
    CLI_LIST,
    CLI_SERVE,
    CLI_JOURNAL,
    CLI_EXPLORE,
    CLI_COMMAND_COUNT
};

/* The bit of a subcommand in cli_option.commands. */
#define CLI_ON(id) (1u << (id))

struct cli;

struct cli_command {
    enum cli_command_id id;
    const char *name;              /* "run" */
    int (*handler)(struct cli *c); /* returns the exit code; NULL: the command parses its own
                                      options (explore, explore.h) */
    const char *args;              /* "[options] [FILE|DIR...]" */
    const char *summary;           /* one line for the overview */
    const char *help;              /* what it does, one paragraph */
};

struct cli_option {
    const char *name;  /* "--jobs" */
    const char *alias; /* "-j", or NULL */
    const char *arg;   /* the value's name ("N"), or NULL for a flag */
    unsigned commands; /* CLI_ON() of every subcommand that takes it */
    const char *help;  /* one paragraph */
    /* Stores value (NULL for a flag). Returns 0, or -1 after printing why on stderr. */
    int (*set)(struct cli *c, const char *value);
};

/* Everything the command line said. Strings are borrowed from argv. */
struct cli {
    const struct cli_command *command;
    char **paths; /* FILE|DIR arguments (a new array of borrowed strings) */
    size_t path_count;
    const char *report_dir; /* "reports" */
    int no_reports;
    int strict;
    int color;                  /* -1: auto */
    int json;                   /* journal --json */
    int list;                   /* run --list: the same as the list command */
    int rules;                  /* list --rules: the rule catalogue with counts */
    int seed_given;             /* --seed was given (else run's seed comes from the clock) */
    const char *url;            /* journal --url */
    const char *profile_path;   /* --profile; NULL: the default */
    const char *known_failures; /* run --known-failures FILE, or NULL */
    struct suite_options suite;
    struct serve_options serve;
    struct explore_options explore; /* its own options; the shared ones come from suite */
};

/* The tables (static; *count set). */
const struct cli_command *cli_commands(size_t *count);
const struct cli_option *cli_options(size_t *count);

/* Parses argv into c (zeroed by the caller). Returns 0; 1 when --help or --version was printed
 * (exit 0); or OMS_E_INVAL after printing a usage error on stderr (exit 2). Free with cli_cleanup.
 */
int cli_parse(int argc, char **argv, struct cli *c);
void cli_cleanup(struct cli *c);

/* The help of one subcommand (its usage, what it does, every option it takes), or with cmd NULL
 * the overview (every subcommand, the exit status). */
void cli_help(const struct cli_command *cmd, FILE *out);

/* The whole program: parse, dispatch, clean up. Returns the exit code. */
int cli_main(int argc, char **argv);

#endif
