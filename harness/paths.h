/* paths: where refund-harness finds its bundled data (scenarios, profiles, spec schemas): installed
 * beside the executable, in ../share/refund-harness; for a program of the build tree, the source
 * tree it was built from. */
#ifndef PATHS_H
#define PATHS_H

#include <stddef.h>

/* The folder under the install prefix that holds the data. */
#define PATHS_SHARE "share/refund-harness"

/* Writes "<data folder>/<sub>" into out: the installed folder when it holds
 * spec/scenario.schema.json, else the source tree when this executable is the build tree's.
 * Returns 0, or OMS_E_NOENT with out saying where it looked. */
int paths_data(const char *sub, char *out, size_t size);

#endif
