/* oms_log: leveled diagnostics to stderr. */
#include "oms_log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

static _Atomic int current_level = OMS_LOG_WARN;

void oms_log_set_level(enum oms_log_level level)
{
    atomic_store(&current_level, (int)level);
}

enum oms_log_level oms_log_get_level(void)
{
    return (enum oms_log_level)atomic_load(&current_level);
}

void oms_log(enum oms_log_level level, const char *component, const char *fmt, ...)
{
    static const char *names[] = {"error", "warning", "info", "debug"};
    if ((int)level > atomic_load(&current_level))
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* One fprintf per line keeps lines from different threads whole. */
    fprintf(stderr, "%s: %s: %s\n", component, names[level], line);
}
