/* explore: `refund-harness explore` - generated cases run on the embedded reference and, with
 * --target, on the system under test, compared on what the contract decides; each kind of
 * difference is shrunk once and written as a scenario file that `run` replays
 * (docs/explore.md). Exit codes as `run`: 0 nothing found, 1 differences found, 2 usage,
 * 3 the environment failed. */
#ifndef EXPLORE_H
#define EXPLORE_H

#include <stdio.h>

/* The explore command; argv[0] is "explore". spec_dir holds scenario.schema.json and rules.json;
 * Returns the exit code. */
int explore_main(int argc, char **argv, const char *spec_dir);

/* The usage text of explore, into out. */
void explore_usage(FILE *out);

#endif
