/* bench_proc: child server processes for the benchmarks. */
#define _POSIX_C_SOURCE 200809L
#include "bench_proc.h"

#include "oms_time.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Copies the URL that follows marker in line (up to whitespace) into out. */
static int take_url(const char *line, const char *marker, char *out, size_t size)
{
    const char *at = strstr(line, marker);
    if (!at)
        return 0;
    at += strlen(marker);
    size_t n = strcspn(at, " \t\r\n");
    if (n == 0 || n >= size)
        return 0;
    memcpy(out, at, n);
    out[n] = '\0';
    return 1;
}

int bench_proc_start(struct bench_proc *p, char *const argv[], const char *log_path,
                     int want_control, int timeout_ms)
{
    memset(p, 0, sizeof(*p));
    int fds[2];
    if (pipe(fds) != 0) {
        fprintf(stderr, "bench: pipe: %s\n", strerror(errno));
        return -1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "bench: fork: %s\n", strerror(errno));
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (pid == 0) {
        int err = open(log_path ? log_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fds[1], STDOUT_FILENO);
        if (err >= 0)
            dup2(err, STDERR_FILENO);
        close(fds[0]);
        close(fds[1]);
        execvp(argv[0], argv);
        fprintf(stderr, "bench: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    p->pid = pid;
    p->out_fd = fds[0];

    char buf[4096];
    size_t len = 0;
    int64_t deadline = oms_time_mono_ms() + timeout_ms;
    for (;;) {
        int have_control = !want_control || p->control_url[0];
        if (p->url[0] && have_control)
            return 0;
        int64_t left = deadline - oms_time_mono_ms();
        struct pollfd pfd = {.fd = p->out_fd, .events = POLLIN};
        if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
            break;
        ssize_t got = read(p->out_fd, buf + len, sizeof(buf) - 1 - len);
        if (got <= 0)
            break;
        len += (size_t)got;
        buf[len] = '\0';
        char *nl;
        for (nl = strchr(buf, '\n'); nl; nl = strchr(buf, '\n')) {
            *nl = '\0';
            if (!p->url[0])
                take_url(buf, "listening on ", p->url, sizeof(p->url));
            if (!p->control_url[0])
                take_url(buf, "control on ", p->control_url, sizeof(p->control_url));
            size_t used = (size_t)(nl - buf) + 1;
            memmove(buf, nl + 1, len - used + 1);
            len -= used;
        }
        if (len == sizeof(buf) - 1)
            len = 0;
    }
    fprintf(stderr, "bench: %s did not report \"listening on URL\" within %d ms\n", argv[0],
            timeout_ms);
    bench_proc_stop(p);
    return -1;
}

static long status_kb(const struct bench_proc *p, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%ld/status", (long)p->pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long kb = -1;
    size_t klen = strlen(key);
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, key, klen) == 0) {
            char *end = NULL;
            kb = strtol(line + klen, &end, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

long bench_proc_hwm_kb(const struct bench_proc *p)
{
    return status_kb(p, "VmHWM:");
}

long bench_proc_rss_kb(const struct bench_proc *p)
{
    return status_kb(p, "VmRSS:");
}

void bench_proc_stop(struct bench_proc *p)
{
    if (!p || p->pid <= 0)
        return;
    kill(p->pid, SIGTERM);
    int64_t deadline = oms_time_mono_ms() + 10000;
    int status;
    while (waitpid(p->pid, &status, WNOHANG) == 0) {
        if (oms_time_mono_ms() > deadline) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &status, 0);
            break;
        }
        oms_time_sleep_ms(10);
    }
    close(p->out_fd);
    p->pid = 0;
}
