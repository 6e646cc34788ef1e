/* capture: runs a program to its end with its output captured, within a time limit, and the
 * temporary directories and files the command-line tests write. */
#include "capture.h"

#include "oms_buf.h"
#include "proc.h"
#include "oms_time.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* After the program exits, how long helpers that still hold its output may keep writing. */
#define CAPTURE_GRACE_MS 2000

/* 1 when the environment entry (or change) a names the same variable as b. */
static int same_name(const char *a, const char *b)
{
    size_t n = strcspn(a, "="), m = strcspn(b, "=");
    return n == m && strncmp(a, b, n) == 0;
}

/* The test's environment with the changes applied: a new array of borrowed strings. */
static char **build_env(const char *const *changes)
{
    size_t n = 0, m = 0, k = 0;
    while (environ[n])
        n++;
    while (changes && changes[m])
        m++;
    char **envp = calloc(n + m + 1, sizeof(*envp));
    assert_non_null(envp);
    for (size_t i = 0; i < n; i++) {
        int changed = 0;
        for (size_t j = 0; j < m; j++)
            changed |= same_name(environ[i], changes[j]);
        if (!changed)
            envp[k++] = environ[i];
    }
    for (size_t j = 0; j < m; j++)
        if (strchr(changes[j], '='))
            envp[k++] = (char *)changes[j];
    envp[k] = NULL;
    return envp;
}

/* In the child: its own process group (or session, with a terminal), the streams, then exec. */
static void child(const char *const *argv, char *const *envp, const struct capture_options *opt,
                  int out_w, const char *tty, int err_w)
{
    signal(SIGPIPE, SIG_DFL);
    if (opt->stdout_tty) {
        /* A new session without a terminal: opening the terminal makes it the controlling one. */
        setsid();
        out_w = open(tty, O_RDWR);
        if (out_w < 0) {
            dprintf(err_w, "capture: cannot open %s: %s\n", tty, strerror(errno));
            _exit(127);
        }
    } else {
        setpgid(0, 0);
    }
    int in = open("/dev/null", O_RDONLY);
    if (in < 0 || dup2(in, STDIN_FILENO) < 0 || dup2(out_w, STDOUT_FILENO) < 0 ||
        dup2(err_w, STDERR_FILENO) < 0)
        _exit(127);
    if (opt->cwd && chdir(opt->cwd) != 0) {
        dprintf(STDERR_FILENO, "capture: cannot enter %s: %s\n", opt->cwd, strerror(errno));
        _exit(127);
    }
    execve(argv[0], (char *const *)argv, envp);
    dprintf(STDERR_FILENO, "capture: cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

struct stream {
    int fd; /* -1 once closed */
    struct oms_buf buf;
};

/* Reads what is there; closes the stream at EOF or on an error (EIO: a terminal whose every
 * writer is gone). */
static void drain(struct stream *s)
{
    char chunk[8192];
    ssize_t n = read(s->fd, chunk, sizeof(chunk));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        close(s->fd);
        s->fd = -1;
        return;
    }
    if (s->buf.len + (size_t)n <= CAPTURE_MAX_BYTES)
        oms_buf_append(&s->buf, chunk, (size_t)n);
}

/* 1 when pid has ended, without reaping it: a zombie keeps its process group id reserved. */
static int ended(pid_t pid)
{
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

/* Opens the pipe (or terminal) of stdout: *r the parent's end, *w the child's (-1 with a
 * terminal, whose path is in tty). */
static void open_stdout(int want_tty, int *r, int *w, char *tty, size_t size)
{
    if (!want_tty) {
        int fds[2];
        assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
        *r = fds[0];
        *w = fds[1];
        return;
    }
    *r = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (*r < 0 || grantpt(*r) != 0 || unlockpt(*r) != 0 || ptsname_r(*r, tty, size) != 0)
        fail_msg("cannot open a pseudo-terminal: %s", strerror(errno));
    *w = -1;
}

int capture_run(const char *const *argv, const struct capture_options *opt, struct capture *r)
{
    static const struct capture_options defaults = {0};
    if (!opt)
        opt = &defaults;
    memset(r, 0, sizeof(*r));
    int64_t timeout = opt->timeout_ms > 0 ? opt->timeout_ms : CAPTURE_TIMEOUT_MS;
    char tty[128] = "";
    int out_w, err_fds[2];
    struct stream s[2];
    open_stdout(opt->stdout_tty, &s[0].fd, &out_w, tty, sizeof(tty));
    assert_int_equal(pipe2(err_fds, O_CLOEXEC), 0);
    s[1].fd = err_fds[0];
    oms_buf_init(&s[0].buf, 0);
    oms_buf_init(&s[1].buf, 0);
    char **envp = build_env(opt->env);

    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        child(argv, envp, opt, out_w, tty, err_fds[1]);
    if (!opt->stdout_tty) {
        setpgid(pid, pid); /* also in the child: whichever runs first */
        close(out_w);
    }
    close(err_fds[1]);
    free(envp);

    int64_t deadline = oms_time_mono_ms() + timeout;
    int64_t grace = 0; /* set when the program has ended */
    for (;;) {
        int64_t now = oms_time_mono_ms();
        if (!grace && ended(pid))
            grace = now + CAPTURE_GRACE_MS;
        int open_streams = (s[0].fd >= 0) + (s[1].fd >= 0);
        if (grace && (open_streams == 0 || now >= grace))
            break;
        if (!grace && now >= deadline) {
            r->timed_out = 1;
            break;
        }
        struct pollfd pfd[2];
        nfds_t n = 0;
        int which[2];
        for (int i = 0; i < 2; i++)
            if (s[i].fd >= 0) {
                pfd[n].fd = s[i].fd;
                pfd[n].events = POLLIN;
                pfd[n].revents = 0;
                which[n++] = i;
            }
        int rc = poll(pfd, n, 10);
        if (rc < 0 && errno != EINTR)
            fail_msg("poll: %s", strerror(errno));
        for (nfds_t i = 0; rc > 0 && i < n; i++)
            if (pfd[i].revents)
                drain(&s[which[i]]);
    }
    /* The group: the program at its deadline, or helpers it left behind. Its own pid is not yet
     * reaped, so the group id cannot belong to anyone else. */
    kill(-pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    for (int i = 0; i < 2; i++)
        if (s[i].fd >= 0)
            close(s[i].fd);
    r->out = oms_buf_take(&s[0].buf, &r->out_len);
    r->err = oms_buf_take(&s[1].buf, &r->err_len);
    if (r->timed_out) {
        r->code = -1;
        r->signal = SIGKILL;
    } else if (WIFEXITED(status)) {
        r->code = WEXITSTATUS(status);
    } else {
        r->code = -1;
        r->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    }
    if (r->code == 127 && strstr(r->err, "capture: "))
        fail_msg("%s", r->err);
    return r->code;
}

void capture_cleanup(struct capture *r)
{
    if (!r)
        return;
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof(*r));
}

int capture_find_program(const char *name, char *out, size_t size)
{
    const char *path = getenv("PATH");
    char *copy = strdup(path && *path ? path : "/usr/bin:/bin");
    assert_non_null(copy);
    int rc = -1;
    for (char *dir = copy, *next = NULL; dir && rc != 0; dir = next) {
        next = strchr(dir, ':');
        if (next)
            *next++ = '\0';
        snprintf(out, size, "%s/%s", *dir ? dir : ".", name);
        if (access(out, X_OK) == 0)
            rc = 0;
    }
    free(copy);
    return rc;
}

const char *capture_describe(const struct capture *r, char *buf, size_t size)
{
    if (r->timed_out)
        snprintf(buf, size, "killed at the deadline");
    else if (r->code < 0)
        snprintf(buf, size, "signal %d", r->signal);
    else
        snprintf(buf, size, "exit code %d", r->code);
    return buf;
}

char *capture_temp_dir(const char *name)
{
    const char *base = getenv("TMPDIR");
    char *path = support_printf("%s/refund-%s-XXXXXX", base && *base ? base : "/tmp", name);
    if (!mkdtemp(path))
        fail_msg("cannot create a temporary directory %s: %s", path, strerror(errno));
    return path;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void capture_remove_tree(const char *path)
{
    if (path)
        nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

void capture_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        fail_msg("cannot create %s: %s", path, strerror(errno));
    size_t n = strlen(text);
    int bad = fwrite(text, 1, n, f) != n;
    if (fclose(f) != 0 || bad)
        fail_msg("cannot write %s", path);
}

char *capture_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    struct oms_buf b;
    oms_buf_init(&b, 0);
    char chunk[8192];
    for (;;) {
        size_t n = fread(chunk, 1, sizeof(chunk), f);
        if (n == 0)
            break;
        oms_buf_append(&b, chunk, n);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        oms_buf_cleanup(&b);
        return NULL;
    }
    return oms_buf_take(&b, len);
}

int capture_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

int capture_harness(const char *const *args, const char *cwd, int64_t timeout_ms, struct capture *r)
{
    const char *argv[40];
    size_t n = 0;
    argv[n++] = proc_bin("refund-harness");
    for (size_t i = 0; args[i] && n + 1 < sizeof(argv) / sizeof(argv[0]); i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    struct capture_options opt = {.cwd = cwd, .timeout_ms = timeout_ms};
    capture_run(argv, &opt, r);
    if (r->timed_out || r->code < 0)
        fail_msg("refund-harness %s did not finish:\n%s%s", args[0], r->out, r->err);
    return r->code;
}

char *capture_same_file(const char *dir_a, const char *dir_b, const char *name)
{
    char *pa = support_printf("%s/%s", dir_a, name), *pb = support_printf("%s/%s", dir_b, name);
    size_t la = 0, lb = 0;
    char *ta = capture_read_file(pa, &la), *tb = capture_read_file(pb, &lb);
    if (!ta || !tb)
        fail_msg("%s: cannot read it in %s or %s", name, dir_a, dir_b);
    if (la != lb || memcmp(ta, tb, la) != 0)
        fail_msg("%s differs between two runs with one seed:\n%s\n---\n%s", name, ta, tb);
    free(tb);
    free(pa);
    free(pb);
    return ta;
}

json_t *capture_results(const char *dir)
{
    char *path = support_printf("%s/results.json", dir);
    json_t *doc = json_load_file(path, 0, NULL);
    if (!doc)
        fail_msg("no readable %s", path);
    free(path);
    return doc;
}
