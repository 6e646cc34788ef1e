/* sut: a target process started, killed and restarted by the harness. */
#include "sut.h"

#include "oms_fixture_token.h"

#include "oms_alloc.h"
#include "oms_buf.h"
#include "oms_http_client.h"
#include "oms_time.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define DEFAULT_READY_MS 30000
#define STOP_GRACE_MS    10000
#define POLL_MS          20
#define LOG_TAIL_BYTES   1500

struct sut {
    char *command; /* substituted */
    char *url;
    char *top; /* the temporary directory: data/ ({dir}) and target.log */
    char *dir; /* {dir} */
    char *log; /* the target's stdout and stderr, every start appended */
    unsigned port;
    int64_t ready_ms;
    sut_probe_fn probe;
    void *probe_arg;
    pid_t pid; /* the shell; its process group is the target's; 0 when not running */
    unsigned starts;
    char *fixture_token; /* NULL: inherited */
};

/* ---- helpers ---- */

/* text with every "{port}" and "{dir}" replaced: a new string. */
static char *substitute(const char *text, unsigned port, const char *dir)
{
    struct oms_buf b;
    oms_buf_init(&b, 0);
    for (const char *p = text; *p;) {
        if (strncmp(p, "{port}", 6) == 0) {
            oms_buf_printf(&b, "%u", port);
            p += 6;
        } else if (strncmp(p, "{dir}", 5) == 0) {
            oms_buf_puts(&b, dir);
            p += 5;
        } else {
            oms_buf_append(&b, p, 1);
            p++;
        }
    }
    return oms_buf_take(&b, NULL);
}

/* A loopback port nobody listens on now. The target binds it after the harness let it go; the
 * small race with another program is the price of a port the target itself can be told. */
static int free_port(unsigned *port, struct oms_err *err)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return oms_err_set(err, OMS_E_ENV, NULL, 0, 0, NULL, "cannot create a socket: %s",
                           strerror(errno));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    int rc = 0;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0)
        rc = oms_err_set(err, OMS_E_ENV, NULL, 0, 0, NULL, "cannot find a free loopback port: %s",
                         strerror(errno));
    else
        *port = ntohs(a.sin_port);
    close(fd);
    return rc;
}

/* A temporary directory whose name a shell command can carry unquoted. */
static char *make_top(struct oms_err *err)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp || strpbrk(tmp, " \t\n'\"\\$`;&|<>()*?[]{}~#!") != NULL)
        tmp = "/tmp";
    char path[4096];
    snprintf(path, sizeof(path), "%s/refund-harness-target.XXXXXX", tmp);
    if (!mkdtemp(path)) {
        oms_err_set(err, OMS_E_ENV, path, 0, 0, NULL, "cannot create a temporary directory: %s",
                    strerror(errno));
        return NULL;
    }
    return oms_xstrdup(path);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* The end of what the target printed since offset, for an error message: a new string. */
static char *log_tail(const char *log, off_t from)
{
    char buf[LOG_TAIL_BYTES + 1];
    size_t n = 0;
    int fd = open(log, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        off_t end = lseek(fd, 0, SEEK_END);
        off_t start = end - from > LOG_TAIL_BYTES ? end - LOG_TAIL_BYTES : from;
        if (lseek(fd, start, SEEK_SET) == start) {
            ssize_t got = read(fd, buf, LOG_TAIL_BYTES);
            n = got > 0 ? (size_t)got : 0;
        }
        close(fd);
    }
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)buf[i] < 0x20 && buf[i] != '\n')
            buf[i] = '?';
    while (n > 0 && buf[n - 1] == '\n')
        n--;
    buf[n] = '\0';
    return oms_xstrdup(n ? buf : "(it printed nothing)");
}

/* The process groups of running targets, for the signal handler below. */
#define MAX_GROUPS 64
static volatile sig_atomic_t groups[MAX_GROUPS];

static void remember_group(pid_t pgid, int on)
{
    for (size_t i = 0; i < MAX_GROUPS; i++)
        if (on ? groups[i] == 0 : groups[i] == pgid) {
            groups[i] = on ? pgid : 0;
            return;
        }
}

/* A target runs in a process group of its own, out of reach of the terminal's Ctrl-C: when the
 * harness is interrupted its targets are killed too, then the signal takes its usual course.
 * (Their temporary directories stay behind.) */
static void on_termination(int sig)
{
    for (size_t i = 0; i < MAX_GROUPS; i++)
        if (groups[i] > 0)
            kill(-(pid_t)groups[i], SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Orphans of the target's shell are handed to this process, so a kill can wait for all of them
 * (their port and files are free only once they are gone); termination signals kill the targets
 * first, unless the program handles them itself. */
static void become_subreaper(void)
{
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < OMS_ARRAY_LEN(sigs); i++) {
        struct sigaction old;
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_DFL) {
            struct sigaction sa = {.sa_handler = on_termination};
            sigemptyset(&sa.sa_mask);
            sigaction(sigs[i], &sa, NULL);
        }
    }
}

/* The environment of the target: ours, with REFUND_TARGET_PORT, REFUND_TARGET_DIR and, when the
 * harness chose it, REFUND_FIXTURE_TOKEN. */
static char **target_env(const struct sut *s)
{
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **env = oms_xcalloc(n + 4, sizeof(char *));
    size_t k = 0;
    size_t token_len = strlen(OMS_FIXTURE_TOKEN_ENV);
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "REFUND_TARGET_PORT=", 19) != 0 &&
            strncmp(environ[i], "REFUND_TARGET_DIR=", 18) != 0 &&
            !(s->fixture_token && strncmp(environ[i], OMS_FIXTURE_TOKEN_ENV, token_len) == 0 &&
              environ[i][token_len] == '='))
            env[k++] = environ[i];
    if (s->fixture_token) {
        size_t size = token_len + strlen(s->fixture_token) + 2;
        env[k] = oms_xmalloc(size);
        snprintf(env[k++], size, "%s=%s", OMS_FIXTURE_TOKEN_ENV, s->fixture_token);
    }
    char port[48];
    snprintf(port, sizeof(port), "REFUND_TARGET_PORT=%u", s->port);
    env[k++] = oms_xstrdup(port);
    size_t size = strlen(s->dir) + 20;
    env[k] = oms_xmalloc(size);
    snprintf(env[k], size, "REFUND_TARGET_DIR=%s", s->dir);
    return env;
}

static void free_env(const struct sut *s, char **env)
{
    size_t n = 0;
    while (env[n])
        n++;
    /* The last two or three are ours; the rest are borrowed from environ. */
    size_t ours = s->fixture_token ? 3 : 2;
    for (size_t i = n - ours; i < n; i++)
        free(env[i]);
    free(env);
}

/* Reaps every process of the target's group; with block, waits for them (they were killed). */
static void reap(struct sut *s, int block)
{
    for (;;) {
        int status;
        pid_t p = waitpid(-s->pid, &status, block ? 0 : WNOHANG);
        if (p > 0)
            continue;
        if (p < 0 && errno == EINTR)
            continue;
        break;
    }
}

/* The target is gone: no signal handler may kill its (reusable) group id any more. */
static void forget(struct sut *s)
{
    remember_group(s->pid, 0);
    s->pid = 0;
}

/* 1 while any process of the target's group exists. */
static int group_alive(const struct sut *s)
{
    return kill(-s->pid, 0) == 0 || errno == EPERM;
}

/* ---- public ---- */

int sut_create(const struct sut_config *cfg, struct sut **out, struct oms_err *err)
{
    *out = NULL;
    if (!cfg->command || !cfg->command[strspn(cfg->command, " \t")])
        return oms_err_set(err, OMS_E_INVAL, NULL, 0, 0, NULL,
                           "--target-cmd needs the command that starts the target");
    unsigned port = 0;
    if (free_port(&port, err) != 0)
        return OMS_E_ENV;
    char *top = make_top(err);
    if (!top)
        return OMS_E_ENV;
    struct sut *s = OMS_NEW(struct sut);
    s->top = top;
    size_t size = strlen(top) + 16;
    s->dir = oms_xmalloc(size);
    snprintf(s->dir, size, "%s/data", top);
    s->log = oms_xmalloc(size);
    snprintf(s->log, size, "%s/target.log", top);
    if (mkdir(s->dir, 0700) != 0) {
        oms_err_set(err, OMS_E_ENV, s->dir, 0, 0, NULL, "cannot create: %s", strerror(errno));
        sut_destroy(s);
        return OMS_E_ENV;
    }
    s->port = port;
    s->command = substitute(cfg->command, port, s->dir);
    s->fixture_token = cfg->fixture_token ? oms_xstrdup(cfg->fixture_token) : NULL;
    s->url = substitute(cfg->url ? cfg->url : "http://127.0.0.1:{port}", port, s->dir);
    s->ready_ms = cfg->ready_timeout_ms > 0 ? cfg->ready_timeout_ms : DEFAULT_READY_MS;
    *out = s;
    return 0;
}

void sut_set_probe(struct sut *s, sut_probe_fn probe, void *arg)
{
    s->probe = probe;
    s->probe_arg = arg;
}

static int probe(struct sut *s, struct oms_err *err)
{
    if (s->probe)
        return s->probe(s->probe_arg, err);
    return sut_probe_handshake(s->url, err);
}

/* Spawns the command once; 0 and s->pid, or OMS_E_ENV. */
static int spawn(struct sut *s, off_t *log_start, struct oms_err *err)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, become_subreaper);
    int log = open(s->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log < 0)
        return oms_err_set(err, OMS_E_ENV, s->log, 0, 0, NULL, "cannot open: %s", strerror(errno));
    *log_start = lseek(log, 0, SEEK_END);
    char banner[128];
    int len = snprintf(banner, sizeof(banner), "== refund-harness: start %u\n", s->starts + 1);
    if (write(log, banner, (size_t)len) < 0)
        *log_start = 0;
    *log_start = lseek(log, 0, SEEK_END);

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, log, 1);
    posix_spawn_file_actions_adddup2(&fa, log, 2);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    /* Its own process group (killed as one), an empty signal mask and default dispositions: the
     * harness ignores SIGPIPE, and `serve` blocks termination signals; neither must leak. */
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    int sigs[] = {SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2};
    for (size_t i = 0; i < OMS_ARRAY_LEN(sigs); i++)
        sigaddset(&defaults, sigs[i]);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                        POSIX_SPAWN_SETSIGDEF);
    char *argv[] = {"sh", "-c", s->command, NULL};
    char **env = target_env(s);
    pid_t pid = 0;
    int rc = posix_spawn(&pid, "/bin/sh", &fa, &attr, argv, env);
    free_env(s, env);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    close(log);
    if (rc != 0)
        return oms_err_set(err, OMS_E_ENV, NULL, 0, 0, NULL, "cannot start /bin/sh -c '%s': %s",
                           s->command, strerror(rc));
    s->pid = pid;
    s->starts++;
    remember_group(pid, 1);
    return 0;
}

/* Waits until the probe passes, the shell exits (*exited set) or the deadline. */
static int wait_ready(struct sut *s, int64_t deadline, off_t log_start, int *exited,
                      struct oms_err *err)
{
    *exited = 0;
    struct oms_err last = {0};
    for (;;) {
        int status = 0;
        pid_t p = waitpid(s->pid, &status, WNOHANG);
        if (p == s->pid) {
            /* The shell is gone: whatever it started goes with it. */
            kill(-s->pid, SIGKILL);
            reap(s, 1);
            forget(s);
            *exited = 1;
            char *tail = log_tail(s->log, log_start);
            char how[64];
            if (WIFEXITED(status))
                snprintf(how, sizeof(how), "exited with status %d", WEXITSTATUS(status));
            else
                snprintf(how, sizeof(how), "was killed by signal %d", WTERMSIG(status));
            oms_err_set(err, OMS_E_ENV, NULL, 0, 0, NULL,
                        "the target command %s before it answered the handshake: %s; its "
                        "output:\n%s",
                        how, s->command, tail);
            free(tail);
            return OMS_E_ENV;
        }
        oms_err_clear(&last);
        if (probe(s, &last) == 0)
            return 0;
        if (oms_time_mono_ms() >= deadline)
            break;
        oms_time_sleep_ms(POLL_MS);
    }
    char *tail = log_tail(s->log, log_start);
    char text[1200];
    oms_err_set(err, OMS_E_ENV, NULL, 0, 0, NULL,
                "the target did not answer the handshake at %s within %lld ms (last: %s): %s; "
                "its output:\n%s",
                s->url, (long long)s->ready_ms, oms_err_format(&last, text, sizeof(text)),
                s->command, tail);
    free(tail);
    kill(-s->pid, SIGKILL);
    reap(s, 1);
    forget(s);
    return OMS_E_ENV;
}

/* Keeps a started target that exits at once from ending a restart, until the deadline: its
 * predecessor's port may be held a little longer. The last exit is the error then. */
#define RETRY_PAUSE_MS  100
#define RETRY_MARGIN_MS 1000

static int start(struct sut *s, int retry_early_exit, struct oms_err *err)
{
    if (s->pid)
        return oms_err_set(err, OMS_E_EXIST, NULL, 0, 0, NULL, "the target already runs");
    int64_t started = oms_time_mono_ms(), deadline = started + s->ready_ms;
    struct oms_err last_exit = {0};
    for (;;) {
        off_t log_start = 0;
        int exited = 0;
        struct oms_err attempt = {0};
        if (spawn(s, &log_start, err) != 0)
            return OMS_E_ENV;
        int rc = wait_ready(s, deadline, log_start, &exited, &attempt);
        if (rc == 0)
            return 0;
        if (!exited || !retry_early_exit) {
            *err = attempt;
            return rc;
        }
        last_exit = attempt;
        if (oms_time_mono_ms() + RETRY_PAUSE_MS + RETRY_MARGIN_MS >= deadline)
            break;
        oms_time_sleep_ms(RETRY_PAUSE_MS);
    }
    *err = last_exit;
    size_t n = strlen(err->message);
    snprintf(err->message + n, sizeof(err->message) - n,
             "\n(started again and again on port %u for %lld ms; a listener without SO_REUSEADDR "
             "cannot bind while the killed target's connections are in TIME_WAIT)",
             s->port, (long long)(oms_time_mono_ms() - started));
    return OMS_E_ENV;
}

int sut_start(struct sut *s, struct oms_err *err)
{
    return start(s, 0, err);
}

int sut_kill(struct sut *s, struct oms_err *err)
{
    if (!s->pid)
        return oms_err_set(err, OMS_E_ENV, NULL, 0, 0, NULL, "the target is not running");
    kill(-s->pid, SIGKILL);
    reap(s, 1);
    /* Without the subreaper (or a process that left the group's parentage) wait a little for
     * the group to vanish; its sockets are closed by then. */
    int64_t deadline = oms_time_mono_ms() + 2000;
    while (group_alive(s) && oms_time_mono_ms() < deadline) {
        reap(s, 0);
        oms_time_sleep_ms(2);
    }
    forget(s);
    return 0;
}

int sut_restart(struct sut *s, struct oms_err *err)
{
    if (s->pid)
        sut_kill(s, NULL);
    return start(s, 1, err);
}

int sut_running(struct sut *s)
{
    if (!s || !s->pid)
        return 0;
    int status;
    if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
        kill(-s->pid, SIGKILL);
        reap(s, 1);
        forget(s);
    }
    return s->pid != 0;
}

void sut_destroy(struct sut *s)
{
    if (!s)
        return;
    if (s->pid) {
        kill(-s->pid, SIGTERM);
        int64_t deadline = oms_time_mono_ms() + STOP_GRACE_MS;
        while (group_alive(s) && oms_time_mono_ms() < deadline) {
            reap(s, 0);
            oms_time_sleep_ms(5);
        }
        if (group_alive(s))
            kill(-s->pid, SIGKILL);
        reap(s, 1);
        forget(s);
    }
    if (s->top)
        nftw(s->top, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(s->command);
    free(s->fixture_token);
    free(s->url);
    free(s->top);
    free(s->dir);
    free(s->log);
    free(s);
}

const char *sut_url(const struct sut *s)
{
    return s->url;
}

unsigned sut_port(const struct sut *s)
{
    return s->port;
}

const char *sut_dir(const struct sut *s)
{
    return s->dir;
}

const char *sut_command(const struct sut *s)
{
    return s->command;
}

unsigned sut_starts(const struct sut *s)
{
    return s->starts;
}

int sut_probe_handshake(const char *url, struct oms_err *err)
{
    char full[2048];
    snprintf(full, sizeof(full), "%s/_fixture/", url);
    /* The target's fixture token, as the rest of the harness sends it (target.c). */
    char token[OMS_FIXTURE_TOKEN_MAX + 64];
    const char *env = getenv(OMS_FIXTURE_TOKEN_ENV);
    snprintf(token, sizeof(token), "%s: %.*s", OMS_FIXTURE_TOKEN_HEADER, OMS_FIXTURE_TOKEN_MAX,
             env ? env : "");
    const char *headers[] = {"Accept: application/json", token};
    struct oms_http_exchange x = {
        .method = "GET",
        .url = full,
        .headers = headers,
        .header_count = env && *env ? 2 : 1,
        .timeout_ms = 2000,
        .idempotent = 1,
    };
    struct oms_http_client *c = oms_http_client_create();
    oms_http_client_perform(c, &x);
    int rc = 0;
    if (x.result != 0) {
        rc = oms_err_set(err, OMS_E_ENV, full, 0, 0, NULL, "no answer: %s", x.error);
    } else {
        json_t *doc = json_loadb(oms_buf_str(&x.resp_body), x.resp_body.len, 0, NULL);
        if (x.status != 200 || json_integer_value(json_object_get(doc, "version")) != 1 ||
            !json_is_array(json_object_get(doc, "capabilities")))
            rc = oms_err_set(err, OMS_E_INVAL, full, 0, 0, NULL,
                             "answered %ld without fixture protocol version 1", x.status);
        json_decref(doc);
    }
    oms_http_exchange_cleanup(&x);
    oms_http_client_destroy(c);
    return rc;
}

char *sut_shell_quote(const char *word)
{
    struct oms_buf b;
    oms_buf_init(&b, 0);
    oms_buf_puts(&b, "'");
    for (const char *p = word; *p; p++) {
        if (*p == '\'')
            oms_buf_puts(&b, "'\\''");
        else
            oms_buf_append(&b, p, 1);
    }
    oms_buf_puts(&b, "'");
    return oms_buf_take(&b, NULL);
}
