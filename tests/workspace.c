/* workspace: temporary folders for tests that run refund-harness. */
#include "workspace.h"

#include "capture.h"
#include "support.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int workspace_setup(void **state)
{
    struct workspace *w = calloc(1, sizeof(*w));
    if (!w)
        return -1;
    w->dir = capture_temp_dir("harness");
    w->scenarios = support_printf("%s/scenarios", w->dir);
    w->reports = support_printf("%s/reports", w->dir);
    w->home = support_printf("%s/home", w->dir);
    *state = w;
    if (mkdir(w->scenarios, 0755) != 0) {
        print_error("cannot create folders in %s: %s\n", w->dir, strerror(errno));
        return -1;
    }
    return 0;
}

int workspace_teardown(void **state)
{
    struct workspace *w = *state;
    if (!w)
        return 0;
    capture_remove_tree(w->dir);
    free(w->dir);
    free(w->scenarios);
    free(w->reports);
    free(w->home);
    free(w);
    *state = NULL;
    return 0;
}

char *workspace_scenario_text(const char *name, int initial_quota, int expected_quota)
{
    return support_printf(
        "{\n"
        "  \"name\": \"%s\",\n"
        "  \"rules\": [\"C-2\"],\n"
        "  \"tags\": [\"cli\"],\n"
        "  \"given\": {\n"
        "    \"locations\": [{\"id\": 1, \"max_quota\": 10, \"quota\": %d}],\n"
        "    \"packages\": [{\"id\": 501, \"location\": 1, \"status\": \"Waiting\",\n"
        "                  \"items\": [{\"id\": 9001, \"order_item\": 7001}]}]\n"
        "  },\n"
        "  \"when\": [{\"command\": {\"package\": 501, \"body\": {\"package\": 501, "
        "\"transition\": 17}}}],\n"
        "  \"then\": {\n"
        "    \"response\": {\"status\": 204},\n"
        "    \"locations\": {\"1\": {\"quota\": %d}}\n"
        "  }\n"
        "}\n",
        name, initial_quota, expected_quota);
}

char *workspace_write_scenario(const struct workspace *w, const char *dir, const char *file,
                               const char *name, int initial_quota, int expected_quota)
{
    char *path = support_printf("%s/%s", dir ? dir : w->scenarios, file);
    char *text = workspace_scenario_text(name, initial_quota, expected_quota);
    capture_write_file(path, text);
    free(text);
    return path;
}
