/* workspace: a temporary folder for tests that run refund-harness as a program - scenarios/ to
 * write scenario files into, reports/ for its reports, a home/ path for programs that want one -
 * removed
 * by the teardown even after a failed assertion. */
#ifndef WORKSPACE_H
#define WORKSPACE_H

struct workspace {
    char *dir;
    char *scenarios; /* created */
    char *reports;   /* not created: the harness must make it */
    char *home;      /* not created: for a program that wants a HOME of its own */
};

/* cmocka setup and teardown; *state is the struct workspace. */
int workspace_setup(void **state);
int workspace_teardown(void **state);

/* A scenario: one Waiting package packed for refund, expecting the location's quota to end at
 * expected_quota (0 is right; anything else fails) from initial_quota (1 is right; anything else
 * makes the target refuse the initial state, an error). name is JSON string content. The caller
 * frees the text. */
char *workspace_scenario_text(const char *name, int initial_quota, int expected_quota);
/* Writes that scenario as dir/file (dir NULL: the workspace's scenarios/); returns the path, which
 * the caller frees. */
char *workspace_write_scenario(const struct workspace *w, const char *dir, const char *file,
                               const char *name, int initial_quota, int expected_quota);

#endif
