/* test_handshake: refund-harness run --target against a target that is still starting (nothing
 * listens yet: exit 3 at once, or --wait-for-target waits until oms-reference comes up and the run
 * passes) and against servers that do not speak the fixture protocol (the status, content type
 * and first line of what came back, never the page, and a pointer to docs/fixture-protocol.md). */
#include "capture.h"
#include "support.h"
#include "workspace.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef REFUND_BIN_DIR
#error "REFUND_BIN_DIR must name the directory of the built programs"
#endif

static pid_t delayed = -1; /* the oms-reference started late, killed by teardown */

static int teardown(void **state)
{
    if (delayed > 0) {
        kill(delayed, SIGKILL);
        waitpid(delayed, NULL, 0);
        delayed = -1;
    }
    return workspace_teardown(state);
}

/* refund-harness ARGS... (NULL-terminated); returns the exit code, output in r. */
static int harness(struct capture *r, const char *const *args)
{
    const char *argv[24];
    char bin[4096];
    snprintf(bin, sizeof(bin), "%s/refund-harness", REFUND_BIN_DIR);
    argv[0] = bin;
    size_t n = 1;
    for (; args[n - 1] && n < 23; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    struct capture_options o = {.timeout_ms = 90000};
    capture_run(argv, &o, r);
    if (r->timed_out || r->code < 0)
        fail_msg("refund-harness did not end by itself:\n%s\n%s", r->out, r->err);
    return r->code;
}

#define HARNESS(r, ...) harness((r), (const char *const[]){__VA_ARGS__, NULL})

static void expect_in(const char *text, const char *needle, const char *what)
{
    if (!strstr(text, needle))
        fail_msg("%s: lacks \"%s\":\n%s", what, needle, text);
}

/* A socket bound to a free loopback port and not listening: connections to it are refused, and
 * no other process can take the port while it is held. */
static int reserve_port(unsigned *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t len = sizeof(a);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Without --wait-for-target a target that is not up yet is an environment failure at once (exit
 * 3) that suggests the option; with it, the run waits while nothing answers, and passes once
 * oms-reference (started 1.5 s later on that port) answers. */
static void test_wait_for_target_waits_for_a_starting_target(void **state)
{
    struct workspace *f = *state;
    free(workspace_write_scenario(f, NULL, "good.json", "handshake: good", 1, 0));
    unsigned port;
    int fd = reserve_port(&port);
    char url[64], port_text[16];
    snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
    snprintf(port_text, sizeof(port_text), "%u", port);
    struct capture r;
    HARNESS(&r, "run", "--target", url, "--no-reports", f->scenarios);
    if (r.code != 3)
        fail_msg("expected exit 3 for a target not up, got %d:\n%s", r.code, r.err);
    expect_in(r.err,
              "is the target running, at this URL? (--wait-for-target 30s waits while it "
              "starts)",
              "no --wait-for-target");
    capture_cleanup(&r);

    char reference[4096];
    snprintf(reference, sizeof(reference), "%s/oms-reference", REFUND_BIN_DIR);
    fflush(NULL);
    delayed = fork();
    assert_true(delayed >= 0);
    if (delayed == 0) {
        /* The child holds the port 1.5 s, then hands it to oms-reference. */
        struct timespec pause = {1, 500000000};
        nanosleep(&pause, NULL);
        close(fd);
        freopen("/dev/null", "w", stdout);
        execl(reference, "oms-reference", "--port", port_text, (char *)NULL);
        _exit(127);
    }
    close(fd);
    HARNESS(&r, "run", "--target", url, "--token", "refund-harness-token", "--wait-for-target",
            "30s", "--no-reports", f->scenarios);
    if (r.code != 0)
        fail_msg("expected exit 0 once the target came up, got %d:\n%s\n%s", r.code, r.out, r.err);
    char *waiting = support_printf("waiting up to 30.0 s for %s to answer the handshake", url);
    expect_in(r.err, waiting, "--wait-for-target 30s");
    expect_in(r.out, "1 scenario(s): 1 passed, 0 noted, 0 failed", "--wait-for-target 30s");
    free(waiting);
    capture_cleanup(&r);
}

/* ---- a server that is not a fixture-protocol target ---- */

struct canned {
    int fd;
    const char *answer; /* the whole HTTP response */
    atomic_int stop;
    pthread_t thread;
};

/* Answers every connection with the canned response until told to stop. */
static void *serve(void *arg)
{
    struct canned *c = arg;
    while (!atomic_load(&c->stop)) {
        struct pollfd p = {.fd = c->fd, .events = POLLIN};
        if (poll(&p, 1, 50) <= 0)
            continue;
        int conn = accept(c->fd, NULL, NULL);
        if (conn < 0)
            continue;
        char buf[4096];
        size_t got = 0;
        while (got + 1 < sizeof(buf)) {
            ssize_t n = read(conn, buf + got, sizeof(buf) - 1 - got);
            if (n <= 0)
                break;
            got += (size_t)n;
            buf[got] = '\0';
            if (strstr(buf, "\r\n\r\n"))
                break;
        }
        size_t left = strlen(c->answer);
        const char *p2 = c->answer;
        while (left > 0) {
            ssize_t n = write(conn, p2, left);
            if (n <= 0)
                break;
            p2 += n;
            left -= (size_t)n;
        }
        close(conn);
    }
    return NULL;
}

static void canned_start(struct canned *c, const char *answer, char *url, size_t size)
{
    unsigned port;
    c->fd = reserve_port(&port);
    assert_int_equal(listen(c->fd, 16), 0);
    c->answer = answer;
    atomic_init(&c->stop, 0);
    assert_int_equal(pthread_create(&c->thread, NULL, serve, c), 0);
    snprintf(url, size, "http://127.0.0.1:%u", port);
}

static void canned_stop(struct canned *c)
{
    atomic_store(&c->stop, 1);
    pthread_join(c->thread, NULL);
    close(c->fd);
}

#define PAGE                                                                          \
    "<!DOCTYPE html>\n<html><head><title>Not here</title></head>\n<body><h1>404</h1>" \
    "<p>nothing at this path</p></body></html>\n"

/* A web server answering 404 with a page, one answering 200 with plain text, and a proxy that
 * answers 503 while --wait-for-target waits: exit 3, and the message names the status, the
 * content type and the first line - not the rest of the page - and docs/fixture-protocol.md. */
static void test_failed_handshake_says_what_came_back(void **state)
{
    struct workspace *f = *state;
    free(workspace_write_scenario(f, NULL, "good.json", "handshake: good", 1, 0));
    char page_404[512], text_200[256], busy_503[256];
    snprintf(page_404, sizeof(page_404),
             "HTTP/1.1 404 Not Found\r\nContent-Type: text/html\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n%s",
             strlen(PAGE), PAGE);
    snprintf(text_200, sizeof(text_200),
             "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n\r\n%s",
             strlen("hello world\nsecond"), "hello world\nsecond");
    snprintf(busy_503, sizeof(busy_503),
             "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
             "Content-Length: 9\r\nConnection: close\r\n\r\nstarting\n");
    const struct {
        const char *answer;
        const char *wait; /* --wait-for-target, or NULL */
        const char *mentions[3];
    } cases[] = {
        {page_404,
         NULL,
         {"GET /_fixture/ answered 404 (wanted 200; content type text/html, first line "
          "\"<!DOCTYPE html>\" ...)",
          "a target implements the fixture protocol: see docs/fixture-protocol.md", NULL}},
        {text_200,
         NULL,
         {"GET /_fixture/ answered 200 but the body is not JSON (content type text/plain, first "
          "line \"hello world\" ...)",
          "docs/fixture-protocol.md", NULL}},
        {busy_503,
         "700ms",
         {"answered 503 (wanted 200; content type text/plain, first line \"starting\")",
          "still so after waiting 0.", "waiting up to 0.7 s"}},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct canned c;
        char url[64];
        canned_start(&c, cases[i].answer, url, sizeof(url));
        struct capture r;
        if (cases[i].wait)
            HARNESS(&r, "run", "--target", url, "--wait-for-target", cases[i].wait, "--no-reports",
                    f->scenarios);
        else
            HARNESS(&r, "run", "--target", url, "--no-reports", f->scenarios);
        canned_stop(&c);
        char what[32];
        snprintf(what, sizeof(what), "case %zu", i);
        if (r.code != 3)
            fail_msg("%s: expected exit 3, got %d:\n%s", what, r.code, r.err);
        for (size_t k = 0; k < 3 && cases[i].mentions[k]; k++)
            expect_in(r.err, cases[i].mentions[k], what);
        if (strstr(r.err, "<title>") || strstr(r.err, "second"))
            fail_msg("%s: more than the first line came through:\n%s", what, r.err);
        capture_cleanup(&r);
    }
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wait_for_target_waits_for_a_starting_target,
                                        workspace_setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_handshake_says_what_came_back, workspace_setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
