/* oms_time: wall and monotonic clocks in milliseconds, ISO-8601 formatting, sleeping. */
#ifndef OMS_TIME_H
#define OMS_TIME_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t oms_time_wall_ms(void);
/* Milliseconds from an arbitrary origin that never goes back (CLOCK_MONOTONIC). */
int64_t oms_time_mono_ms(void);
/* Microseconds, monotonic; for durations. */
int64_t oms_time_mono_us(void);
/* Formats a wall time as "2026-11-23T12:00:00.123Z" into out (at least 32 bytes). Returns out. */
char *oms_time_iso8601(int64_t wall_ms, char *out, size_t size);
/* Sleeps ms milliseconds, resuming after signals. */
void oms_time_sleep_ms(int64_t ms);

#endif
