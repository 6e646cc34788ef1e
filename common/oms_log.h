/* oms_log: leveled diagnostics to stderr, shared by the servers and the harness. */
#ifndef OMS_LOG_H
#define OMS_LOG_H

enum oms_log_level { OMS_LOG_ERROR = 0, OMS_LOG_WARN, OMS_LOG_INFO, OMS_LOG_DEBUG };

/* Messages above level are dropped. Default: OMS_LOG_WARN. Thread-safe. */
void oms_log_set_level(enum oms_log_level level);
enum oms_log_level oms_log_get_level(void);
void oms_log(enum oms_log_level level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
