/* oms_signal: clean shutdown for the standalone programs. Block SIGINT/SIGTERM before any thread
 * starts (threads inherit the mask), then wait for one in the main thread. */
#ifndef OMS_SIGNAL_H
#define OMS_SIGNAL_H

/* Blocks SIGINT and SIGTERM in the calling thread (and so in threads it creates later) and
 * ignores SIGPIPE. Call first in main(). */
void oms_signal_block_termination(void);
/* Waits until SIGINT or SIGTERM arrives; returns the signal number. */
int oms_signal_wait_termination(void);

#endif
