/* oms_signal: blocking and waiting for termination signals. */
#include "oms_signal.h"

#include <pthread.h>
#include <signal.h>

static void termination_set(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
}

void oms_signal_block_termination(void)
{
    sigset_t set;
    termination_set(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int oms_signal_wait_termination(void)
{
    sigset_t set;
    int sig = 0;
    termination_set(&set);
    while (sigwait(&set, &sig) != 0) {
    }
    return sig;
}
