/* proc: the built programs as child processes for tests - start with stdout on a pipe, read the
 * URL they print, stop them and check how they ended, and kill whatever a failed test left. */
#include "proc.h"

#include "oms_time.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef REFUND_BIN_DIR
#error "REFUND_BIN_DIR must name the directory of the built programs"
#endif

/* Every pid the test started and has not reaped, so teardown can kill them after a failure. */
static pid_t live[MAX_PROCS];

static void live_add(pid_t pid)
{
    for (size_t i = 0; i < MAX_PROCS; i++)
        if (live[i] == 0) {
            live[i] = pid;
            return;
        }
    fail_msg("more than %d live processes", MAX_PROCS);
}

void proc_forget(pid_t pid)
{
    for (size_t i = 0; i < MAX_PROCS; i++)
        if (live[i] == pid)
            live[i] = 0;
}

/* The temporary directory and database of the running test, removed by teardown even when the
 * test failed half-way. */
char proc_temp_dir[64];
char proc_temp_db[128];

/* Removes the database and its WAL files, then the directory. */
static void remove_db(const char *dir, const char *db)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        char path[4200];
        snprintf(path, sizeof(path), "%s%s", db, suffixes[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* Creates the temporary directory and names the database in it (proc_temp_dir, proc_temp_db). */
void proc_make_temp_db(void)
{
    snprintf(proc_temp_dir, sizeof(proc_temp_dir), "/tmp/refund-standalone-XXXXXX");
    assert_non_null(mkdtemp(proc_temp_dir));
    snprintf(proc_temp_db, sizeof(proc_temp_db), "%s/sandbox.db", proc_temp_dir);
}

int proc_teardown(void **state)
{
    (void)state;
    for (size_t i = 0; i < MAX_PROCS; i++)
        if (live[i] > 0) {
            kill(live[i], SIGKILL);
            waitpid(live[i], NULL, 0);
            live[i] = 0;
        }
    if (proc_temp_dir[0])
        remove_db(proc_temp_dir, proc_temp_db);
    proc_temp_dir[0] = '\0';
    return 0;
}

const char *proc_bin(const char *name)
{
    static char path[4096];
    snprintf(path, sizeof(path), "%s/%s", REFUND_BIN_DIR, name);
    return path;
}

/* Starts argv[0] from REFUND_BIN_DIR with stdout (and stderr when capture_err) on pipes. */
void proc_spawn(struct proc *p, const char *const *argv, int capture_err)
{
    int out[2], err[2] = {-1, -1};
    char path[4096];
    snprintf(path, sizeof(path), "%s", proc_bin(argv[0]));
    if (access(path, X_OK) != 0)
        fail_msg("%s is not built: %s", path, strerror(errno));
    assert_int_equal(pipe(out), 0);
    if (capture_err)
        assert_int_equal(pipe(err), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        if (capture_err)
            dup2(err[1], STDERR_FILENO);
        close(out[0]);
        close(out[1]);
        if (capture_err) {
            close(err[0]);
            close(err[1]);
        }
        execv(path, (char *const *)argv);
        _exit(127);
    }
    live_add(pid);
    close(out[1]);
    if (capture_err)
        close(err[1]);
    p->pid = pid;
    p->out_fd = out[0];
    p->err_fd = capture_err ? err[0] : -1;
    p->url[0] = '\0';
}

/* Reads fd until EOF or the deadline - or, with until_listening, until a whole "listening on" line
 * arrived - appending to buf (NUL-terminated, capped). Returns 2 for the line, 1 at EOF, 0 at the
 * deadline. */
int proc_read_until(int fd, char *buf, size_t size, int64_t deadline, const char *until)
{
    size_t len = strlen(buf);
    for (;;) {
        int64_t left = deadline - oms_time_mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int rc = poll(&pfd, 1, (int)(left < 100 ? left : 100));
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc <= 0)
            continue;
        char chunk[512];
        ssize_t n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return 1;
        size_t take = (size_t)n < size - 1 - len ? (size_t)n : size - 1 - len;
        memcpy(buf + len, chunk, take);
        len += take;
        buf[len] = '\0';
        const char *line = until ? strstr(buf, until) : NULL;
        if (line && strchr(line, '\n'))
            return 2;
    }
}

/* Waits for the "<program>: listening on URL" line and keeps the URL. */
void proc_wait_listening(struct proc *p, const char *name)
{
    char buf[1024] = "";
    int rc = proc_read_until(p->out_fd, buf, sizeof(buf), oms_time_mono_ms() + START_TIMEOUT_MS,
                             "listening on ");
    const char *at = strstr(buf, "listening on ");
    if (rc != 2 || !at)
        fail_msg("%s did not print \"listening on URL\" in time; stdout so far: \"%s\"", name, buf);
    at += strlen("listening on ");
    size_t n = strcspn(at, "\r\n");
    if (n == 0 || n >= sizeof(p->url))
        fail_msg("%s printed a strange URL: \"%s\"", name, buf);
    memcpy(p->url, at, n);
    p->url[n] = '\0';
    if (strncmp(p->url, "http://127.0.0.1:", 17) != 0 || strcmp(p->url, "http://127.0.0.1:0") == 0)
        fail_msg("%s listens on \"%s\", expected 127.0.0.1 and an ephemeral port", name, p->url);
}

/* Polls waitpid until the process ends or the deadline passes. Returns 1 and the status, or 0. */
int proc_wait_exit(pid_t pid, int64_t timeout_ms, int *status)
{
    int64_t deadline = oms_time_mono_ms() + timeout_ms;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid) {
            proc_forget(pid);
            return 1;
        }
        if (r < 0 && errno != EINTR)
            fail_msg("waitpid(%d): %s", (int)pid, strerror(errno));
        if (oms_time_mono_ms() > deadline)
            return 0;
        oms_time_sleep_ms(10);
    }
}

/* SIGTERM, then it must exit 0 within STOP_TIMEOUT_MS; killed with SIGKILL (and the test fails)
 * otherwise. */
void proc_stop(struct proc *p, const char *name)
{
    assert_int_equal(kill(p->pid, SIGTERM), 0);
    int status = 0;
    if (!proc_wait_exit(p->pid, STOP_TIMEOUT_MS, &status)) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
        proc_forget(p->pid);
        close(p->out_fd);
        fail_msg("%s did not exit within %d ms of SIGTERM", name, STOP_TIMEOUT_MS);
    }
    close(p->out_fd);
    if (p->err_fd >= 0)
        close(p->err_fd);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("%s ended with %s %d after SIGTERM, expected exit 0", name,
                 WIFEXITED(status) ? "exit code" : "signal",
                 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}
