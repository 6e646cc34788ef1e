/* paths: the bundled data, found relative to the executable. */
#include "paths.h"

#include "oms_error.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Set by the build: the source tree, and the folder its programs are built into. */
#ifndef REFUND_SOURCE_DIR
#define REFUND_SOURCE_DIR ""
#endif
#ifndef REFUND_BUILD_BIN_DIR
#define REFUND_BUILD_BIN_DIR ""
#endif

/* The folder of this executable, resolved, into out (size PATH_MAX); "" when unknown. */
static void exe_dir(char *out)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[n > 0 ? n : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash)
        *slash = '\0';
    if (!exe[0] || !realpath(exe, out))
        out[0] = '\0';
}

static int has_schema(const char *dir)
{
    char probe[2 * PATH_MAX];
    int n = snprintf(probe, sizeof(probe), "%s/spec/scenario.schema.json", dir);
    return n > 0 && (size_t)n < sizeof(probe) && access(probe, R_OK) == 0;
}

int paths_data(const char *sub, char *out, size_t size)
{
    char here[PATH_MAX], installed[PATH_MAX + 64], resolved[PATH_MAX], bin[PATH_MAX];
    exe_dir(here);
    snprintf(installed, sizeof(installed), "%s/../" PATHS_SHARE, here);
    if (here[0] && has_schema(installed) && realpath(installed, resolved)) {
        snprintf(out, size, "%s/%s", resolved, sub);
        return 0;
    }
    /* The source tree only for the build tree's own programs: an installed copy never reads it. */
    int in_build_tree = here[0] && realpath(REFUND_BUILD_BIN_DIR, bin) && strcmp(here, bin) == 0;
    if (in_build_tree && has_schema(REFUND_SOURCE_DIR)) {
        snprintf(out, size, "%s/%s", REFUND_SOURCE_DIR, sub);
        return 0;
    }
    snprintf(out, size,
             "cannot find the bundled data (%s): %s has no spec/scenario.schema.json (an install "
             "keeps the data in ../" PATHS_SHARE " beside the program's folder)",
             sub, here[0] ? installed : "the program's folder (/proc/self/exe unreadable)");
    return OMS_E_NOENT;
}
