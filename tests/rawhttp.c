/* rawhttp: raw-socket HTTP exchanges for the hostile-request and slowloris tests. */
#include "rawhttp.h"

#include "oms_alloc.h"
#include "oms_time.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

int rawhttp_connect(unsigned port, const char *src)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    if (src) {
        struct sockaddr_in a = {.sin_family = AF_INET};
        inet_pton(AF_INET, src, &a.sin_addr);
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
            close(fd);
            return -1;
        }
    }
    struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    if (connect(fd, (struct sockaddr *)&to, sizeof(to)) != 0) {
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* 1 when buf holds a whole answer (head and its Content-Length body; no body for HEAD). */
static int answer_complete(const char *buf, size_t n, int head_only)
{
    const char *end = memmem(buf, n, "\r\n\r\n", 4);
    if (!end)
        return 0;
    size_t head = (size_t)(end - buf) + 4;
    const char *cl = memmem(buf, head, "\r\nContent-Length: ", 18);
    size_t want = cl && !head_only ? strtoul(cl + 18, NULL, 10) : 0;
    return n >= head + want;
}

int rawhttp_exchange(unsigned port, const char *src, const char *bytes, size_t len, long timeout_ms,
                     struct rawhttp_answer *out)
{
    memset(out, 0, sizeof(*out));
    int fd = rawhttp_connect(port, src);
    if (fd < 0)
        return -1;
    size_t sent = 0, got = 0, cap = 65536;
    char *buf = oms_xmalloc(cap + 1);
    int64_t deadline = oms_time_mono_ms() + timeout_ms;
    int closed = 0;
    int head_only = len >= 5 && memcmp(bytes, "HEAD ", 5) == 0;
    size_t skip = 0; /* interim 1xx answers already read */
    while (!closed) {
        const char *hend = memmem(buf + skip, got - skip, "\r\n\r\n", 4);
        if (hend && got - skip >= 12 && memcmp(buf + skip, "HTTP/1.1 1", 10) == 0) {
            skip = (size_t)(hend - buf) + 4;
            continue;
        }
        if (answer_complete(buf + skip, got - skip, head_only))
            break;
        int64_t left = deadline - oms_time_mono_ms();
        if (left <= 0) {
            out->timed_out = 1;
            break;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN | (sent < len ? POLLOUT : 0)};
        if (poll(&p, 1, (int)(left < 100 ? left : 100)) < 0 && errno != EINTR)
            break;
        if (p.revents & POLLOUT) {
            ssize_t w = send(fd, bytes + sent, len - sent, MSG_NOSIGNAL);
            if (w > 0)
                sent += (size_t)w;
            else if (w < 0 && errno != EAGAIN && errno != EINTR)
                sent = len; /* the server stopped reading: only its answer matters now */
        }
        if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
            if (got == cap) {
                cap *= 2;
                buf = oms_xrealloc(buf, cap + 1);
            }
            ssize_t r = recv(fd, buf + got, cap - got, 0);
            if (r > 0)
                got += (size_t)r;
            else if (r == 0 || (errno != EAGAIN && errno != EINTR))
                closed = 1;
        }
    }
    close(fd);
    if (skip > 0) {
        memmove(buf, buf + skip, got - skip);
        got -= skip;
    }
    buf[got] = '\0';
    const char *end = memmem(buf, got, "\r\n\r\n", 4);
    if (got >= 12 && strncmp(buf, "HTTP/1.1 ", 9) == 0 && end) {
        out->status = (int)strtol(buf + 9, NULL, 10);
        size_t head = (size_t)(end - buf) + 4;
        out->head = oms_xstrndup(buf, head);
        const char *cl = memmem(buf, head, "\r\nContent-Length: ", 18);
        size_t declared = cl ? strtoul(cl + 18, NULL, 10) : got - head;
        /* Only this answer's body: a pipelined next answer may have come with it. */
        out->body_len = head_only ? 0 : got - head < declared ? got - head : declared;
        out->body = oms_xmalloc(out->body_len + 1);
        memcpy(out->body, buf + head, out->body_len);
        out->body[out->body_len] = '\0';
    } else if (got > 0) {
        out->head = oms_xstrndup(buf, got < 200 ? got : 200); /* not HTTP: kept for the message */
        out->status = -1;
    }
    free(buf);
    return 0;
}

void rawhttp_answer_cleanup(struct rawhttp_answer *a)
{
    free(a->head);
    free(a->body);
    memset(a, 0, sizeof(*a));
}
