/* fuzz_http: raw bytes through the project's own HTTP/1.1 server (oms_http_server) over a real
 * socket. One server runs for the whole process (127.0.0.1, port 0, a 30 ms request timeout) with
 * an echo handler and a precheck that refuses a marker path before the body, as the reference's
 * token check does. Each input goes to a fresh connection, in one to three writes, pipelined or
 * not (the framing is in tests/fuzz/README.md); every answer must be HTTP/1.1 with a
 * Content-Length that matches the bytes that follow, never a 5xx, and every 4xx the E-1 envelope;
 * the server must answer or close within the deadline, answer the same when the bytes come in one
 * write as when they come in several, and answer a probe request afterwards. */
#include "fuzz.h"

#include "oms_buf.h"
#include "oms_log.h"
#include "oms_time.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* The first byte of an input; the next two place the cuts between writes; the rest is sent. */
#define MODE_WRITES     0x03 /* 0: one write, 1: two, 2 or 3: three */
#define MODE_PAUSE      0x04 /* between writes, wait PAUSE_MS reading what is answered */
#define MODE_HALF_CLOSE 0x08 /* shut the sending side down right after the last write */
#define MODE_WAIT                                                            \
    0x10 /* (without MODE_HALF_CLOSE) wait for the first answer however long \
            it takes, not QUIET_MS: a partial request gets its 408 */
#define HEADER_BYTES 3

#define PAUSE_MS           1
#define QUIET_MS           2 /* no answer this long after the last write: the client half-closes */
#define DEADLINE_MS        5000 /* the server has answered and closed by then, or it hangs */
#define REQUEST_TIMEOUT_MS 30   /* a partial request is answered 408 this fast */
#define IDLE_TIMEOUT_MS    2000 /* longer than any pause: the client half-closes instead */
#define MAX_BODY           4096
#define SMALL_BODY         8 /* the precheck's limit for SMALL_PATH */
#define MAX_ANSWER_HEAD    8192
#define PROBE_TRIES        3

#define MARKER_PATH "/refused" /* refused by the precheck before its body, as a bad token is */
#define SMALL_PATH  "/small"   /* the precheck lowers the body limit to SMALL_BODY */
#define DELAY_PATH  "/delay"   /* answered after a 2 ms delay (the server's timer) */
#define POLL_PATH   "/poll"    /* answered on the second poll, 1 ms apart */
#define STATUS_PATH "/status/" /* answered with the status that follows, if the handler has it */

static struct oms_http_server *server;
static unsigned server_port;

/* ---- the server side: what a handler may rely on, and the answers ---- */

static int is_tchar(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

static int is_token(const char *s)
{
    if (!s || !*s)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (!is_tchar(*p))
            return 0;
    return 1;
}

/* What oms_http_server.h promises a precheck (head) and a handler about the request. */
static void check_request(const struct oms_http_request *req, int head)
{
    const char *who = head ? "precheck" : "handler";
    if (!is_token(req->method) || strlen(req->method) > 32)
        fuzz_fail("%s: the method \"%.40s\" is not a token", who, req->method ? req->method : "");
    if (!req->path || req->path[0] != '/' || strchr(req->path, '?'))
        fuzz_fail("%s: the path \"%.80s\" is not a path", who, req->path ? req->path : "(null)");
    for (const unsigned char *p = (const unsigned char *)req->path; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f)
            fuzz_fail("%s: the path holds the byte 0x%02x", who, *p);
    if (!req->version ||
        (strcmp(req->version, "HTTP/1.1") != 0 && strcmp(req->version, "HTTP/1.0") != 0))
        fuzz_fail("%s: version \"%.16s\"", who, req->version ? req->version : "(null)");
    if (req->header_count > OMS_HTTP_MAX_HEADERS)
        fuzz_fail("%s: %zu headers (at most %d)", who, req->header_count, OMS_HTTP_MAX_HEADERS);
    for (size_t i = 0; i < req->header_count; i++) {
        const char *name = req->headers[i].name, *value = req->headers[i].value;
        if (!is_token(name))
            fuzz_fail("%s: header name \"%.40s\" is not a token", who, name ? name : "(null)");
        size_t n = strlen(value);
        if (n > 0 &&
            (value[0] == ' ' || value[0] == '\t' || value[n - 1] == ' ' || value[n - 1] == '\t'))
            fuzz_fail("%s: header \"%.40s\" keeps blanks around its value", who, name);
        for (const unsigned char *p = (const unsigned char *)value; *p; p++)
            if ((*p < 0x20 && *p != '\t') || *p == 0x7f)
                fuzz_fail("%s: header \"%.40s\" holds the control byte 0x%02x", who, name, *p);
    }
    if (req->arg_count > OMS_HTTP_MAX_QUERY_ARGS)
        fuzz_fail("%s: %zu query arguments (at most %d)", who, req->arg_count,
                  OMS_HTTP_MAX_QUERY_ARGS);
    for (size_t i = 0; i < req->arg_count; i++)
        if (!req->args[i].name || !req->args[i].value)
            fuzz_fail("%s: query argument %zu without a name or value", who, i);
    if (!req->body || req->body[req->body_len] != '\0')
        fuzz_fail("%s: the body is not NUL-terminated", who);
    if ((head || req->body_too_large) && req->body_len != 0)
        fuzz_fail("%s: a body of %zu bytes %s", who, req->body_len,
                  head ? "before it was read" : "that was too large to read");
    if (!req->client || strncmp(req->client, "127.0.0.1:", 10) != 0)
        fuzz_fail("%s: client \"%s\"", who, req->client ? req->client : "(null)");
    /* Framing: a Content-Length body arrives whole; Transfer-Encoding is chunked, alone. */
    const char *te = oms_http_request_header(req, "Transfer-Encoding");
    const char *cl = oms_http_request_header(req, "Content-Length");
    if (te && (cl || strcasecmp(te, "chunked") != 0))
        fuzz_fail("%s: Transfer-Encoding \"%.40s\"%s passed", who, te,
                  cl ? " with a Content-Length" : "");
    if (cl && !head && !req->body_too_large &&
        (strspn(cl, "0123456789") != strlen(cl) || strtoull(cl, NULL, 10) != req->body_len))
        fuzz_fail("%s: Content-Length \"%.40s\" with a body of %zu bytes", who, cl, req->body_len);
}

static int precheck(void *ctx, const struct oms_http_request *head, struct oms_http_response *resp,
                    size_t *max_body)
{
    (void)ctx;
    check_request(head, 1);
    if (*max_body != MAX_BODY)
        fuzz_fail("precheck: the body limit is preset to %zu, not %d", *max_body, MAX_BODY);
    if (strcmp(head->path, SMALL_PATH) == 0)
        *max_body = SMALL_BODY;
    if (strcmp(head->path, MARKER_PATH) != 0)
        return 0;
    oms_http_response_header(resp, "X-Fuzz-Method", head->method);
    oms_http_response_error(resp, 401, "refused before the body: the marker path");
    return 1;
}

static int poll_twice(void *state, struct oms_http_response *resp)
{
    (void)resp; /* the handler filled the answer already */
    int *calls = state;
    return ++*calls >= 2;
}

/* The status a STATUS_PATH asks for, if the handler answers it; 0 otherwise. */
static int asked_status(const char *path)
{
    static const int known[] = {200, 201, 202, 204, 400, 403, 404, 409, 410, 422, 429};
    if (strncmp(path, STATUS_PATH, strlen(STATUS_PATH)) != 0)
        return 0;
    const char *digits = path + strlen(STATUS_PATH);
    if (strlen(digits) != 3 || strspn(digits, "0123456789") != 3)
        return 0;
    int status = (digits[0] - '0') * 100 + (digits[1] - '0') * 10 + (digits[2] - '0');
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (known[i] == status)
            return status;
    return 0;
}

static void handle(void *ctx, const struct oms_http_request *req, struct oms_http_response *resp)
{
    (void)ctx;
    check_request(req, 0);
    oms_http_response_header(resp, "X-Fuzz-Method", req->method);
    const char *echo = oms_http_request_header(req, "X-Echo");
    if (echo)
        oms_http_response_header(resp, "X-Echo", echo);
    if (req->body_too_large) {
        oms_http_response_error(resp, 413, "the body is larger than this path accepts");
        return;
    }
    int status = asked_status(req->path);
    if (status >= 400) {
        oms_http_response_error(resp, status, "the status the path asked for");
    } else if (status == 204) {
        resp->status = 204;
    } else {
        json_t *doc =
            json_pack("{s:s, s:s, s:s, s:I, s:I, s:I}", "method", req->method, "path", req->path,
                      "version", req->version, "headers", (json_int_t)req->header_count, "args",
                      (json_int_t)req->arg_count, "body", (json_int_t)req->body_len);
        if (!doc)
            fuzz_fail("handler: cannot build the echo of %.40s %.80s", req->method, req->path);
        oms_http_response_json(resp, status ? status : 200, doc);
        json_decref(doc);
    }
    if (strcmp(req->path, DELAY_PATH) == 0)
        resp->delay_ms = 2;
    if (strcmp(req->path, POLL_PATH) == 0) {
        resp->poll = poll_twice;
        resp->poll_state = calloc(1, sizeof(int));
        resp->poll_free = free;
        resp->poll_interval_ms = 1;
    }
}

static void stop_server(void)
{
    oms_http_server_stop(server);
    server = NULL;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    oms_log_set_level(OMS_LOG_ERROR); /* warnings would flood the fuzzer's output */
    struct oms_http_server_config cfg = {
        .bind = "127.0.0.1",
        .max_body = MAX_BODY,
        .threads = 2,
        .handler = handle,
        .precheck = precheck,
        .name = "fuzz-http",
        .limits = {.request_timeout_ms = REQUEST_TIMEOUT_MS, .idle_timeout_ms = IDLE_TIMEOUT_MS},
    };
    struct oms_err err = {0};
    if (oms_http_server_start(&cfg, &server, &err) != 0)
        fuzz_fail("cannot start the server: %s", err.message);
    server_port = oms_http_server_port(server);
    atexit(stop_server);
    return 0;
}

/* ---- the answers ---- */

/* bytes, printable, into out (for messages). */
static const char *excerpt(const char *p, size_t n, char *out, size_t size)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < size; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch >= 0x20 && ch < 0x7f && ch != '\\')
            out[o++] = (char)ch;
        else
            o += (size_t)snprintf(out + o, size - o, "\\x%02x", ch);
    }
    out[o] = '\0';
    return out;
}

/* What the answers parsed so far came to; parsing goes on from used. */
struct answers {
    size_t used;    /* bytes of the complete answers */
    size_t finals;  /* complete final answers (not 100 Continue) */
    int closes;     /* the last final answer said Connection: close */
    int status;     /* the last final answer's status */
    int head_input; /* the input holds "HEAD": an answer may be a HEAD answer, without a body */
    int timed_out;  /* a 408 came: what the server answered depended on time */
    struct oms_buf *record; /* optional: each final answer's status and body are appended */
    const char *what;
};

struct answer_head {
    int status;
    long long content_length; /* -1: none */
    int closes;
    char method[40]; /* X-Fuzz-Method: the handler's or the precheck's answer; "" otherwise */
    char *content_type;
};

/* Checks the head [p, p+n) (its final CRLFCRLF included) and fills h. */
static void parse_answer_head(const char *p, size_t n, struct answer_head *h, const char *what)
{
    char text[200];
    memset(h, 0, sizeof(*h));
    h->content_length = -1;
    const char *end = p + n - 2; /* the final empty line */
    const char *eol = memmem(p, n, "\r\n", 2);
    size_t len = (size_t)(eol - p);
    if (len < 13 || memcmp(p, "HTTP/1.1 ", 9) != 0 || strspn(p + 9, "0123456789") < 3 ||
        p[12] != ' ')
        fuzz_fail("%s: status line \"%s\" is not \"HTTP/1.1 <3-digit status> <reason>\"", what,
                  excerpt(p, len, text, sizeof(text)));
    for (size_t i = 13; i < len; i++)
        if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] >= 0x7f)
            fuzz_fail("%s: status line \"%s\" holds a control byte", what,
                      excerpt(p, len, text, sizeof(text)));
    h->status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
    for (const char *line = eol + 2; line < end; line = eol + 2) {
        eol = memmem(line, (size_t)(end + 2 - line), "\r\n", 2);
        len = (size_t)(eol - line);
        const char *colon = memchr(line, ':', len);
        int ok = colon && colon > line && colon + 1 < eol && colon[1] == ' ';
        for (const char *q = line; ok && q < colon; q++)
            ok = is_tchar((unsigned char)*q);
        for (const char *q = colon ? colon + 2 : line; ok && q < eol; q++)
            ok = ((unsigned char)*q >= 0x20 || *q == '\t') && *q != 0x7f;
        if (!ok)
            fuzz_fail("%s: header line \"%s\" is not \"Name: value\"", what,
                      excerpt(line, len, text, sizeof(text)));
        size_t name_len = (size_t)(colon - line);
        const char *value = colon + 2;
        size_t value_len = (size_t)(eol - value);
        if (name_len == 14 && strncasecmp(line, "Content-Length", 14) == 0) {
            if (h->content_length >= 0 || value_len == 0 || value_len > 18 ||
                strspn(value, "0123456789") < value_len)
                fuzz_fail("%s: a second or malformed Content-Length \"%s\"", what,
                          excerpt(value, value_len, text, sizeof(text)));
            h->content_length = strtoll(value, NULL, 10);
        } else if (name_len == 10 && strncasecmp(line, "Connection", 10) == 0) {
            h->closes = value_len == 5 && strncasecmp(value, "close", 5) == 0;
        } else if (name_len == 12 && strncasecmp(line, "Content-Type", 12) == 0) {
            free(h->content_type);
            h->content_type = strndup(value, value_len);
        } else if (name_len == 13 && strncasecmp(line, "X-Fuzz-Method", 13) == 0) {
            snprintf(h->method, sizeof(h->method), "%.*s", (int)value_len, value);
        }
    }
}

/* The body of a final answer: the E-1 checks of every answer (fuzz_check_answer), and the echo
 * of the handler's 200 names the method the answer says it answers. */
static void check_answer_body(const struct answer_head *h, const char *body, size_t n,
                              const char *what)
{
    struct oms_http_response resp;
    fuzz_response_init(&resp);
    resp.status = h->status;
    oms_buf_append(&resp.body, body, n);
    if (h->content_type)
        oms_http_response_header(&resp, "Content-Type", h->content_type);
    fuzz_check_answer(what, &resp);
    if (h->status == 200 && h->method[0]) {
        json_t *doc = json_loadb(body, n, 0, NULL);
        const char *m = json_string_value(json_object_get(doc, "method"));
        if (!m || strcmp(m, h->method) != 0)
            fuzz_fail("%s: 200 for %s whose echo names the method \"%s\"", what, h->method,
                      m ? m : "(none)");
        json_decref(doc);
    }
    fuzz_response_cleanup(&resp);
}

/* Parses and checks the complete answers of got from a->used on; at eof, bytes that do not make
 * a complete answer are a failure. */
static void parse_answers(const struct oms_buf *got, int eof, struct answers *a)
{
    char text[200], what[160];
    while (a->used < got->len) {
        const char *p = got->data + a->used;
        size_t avail = got->len - a->used;
        snprintf(what, sizeof(what), "%s, answer %zu", a->what, a->finals + 1);
        if (a->finals > 0 && a->closes)
            fuzz_fail("%s: \"%s\" after an answer that said Connection: close", what,
                      excerpt(p, avail < 80 ? avail : 80, text, sizeof(text)));
        const char *end = memmem(p, avail, "\r\n\r\n", 4);
        if (!end) {
            if (eof || avail > MAX_ANSWER_HEAD)
                fuzz_fail("%s: %s answer head \"%s\"", what, eof ? "a truncated" : "an endless",
                          excerpt(p, avail < 120 ? avail : 120, text, sizeof(text)));
            return;
        }
        size_t head_len = (size_t)(end + 4 - p);
        struct answer_head h;
        parse_answer_head(p, head_len, &h, what);
        size_t body_len = 0;
        int head_only = 0, interim = h.status == 100;
        if (h.status >= 500 || (h.status < 200 && !interim))
            fuzz_fail("%s: status %d: \"%s\"", what, h.status,
                      excerpt(p, avail < 200 ? avail : 200, text, sizeof(text)));
        if (interim || h.status == 204) {
            if (h.content_length >= 0)
                fuzz_fail("%s: %d with a Content-Length", what, h.status);
        } else {
            if (h.content_length < 0)
                fuzz_fail("%s: %d without a Content-Length", what, h.status);
            size_t rest = avail - head_len;
            if (h.method[0]) {
                head_only = strcmp(h.method, "HEAD") == 0;
            } else if (a->head_input) {
                /* The server's own refusal of a request it read as HEAD has no body either:
                 * every body is JSON, so what follows a HEAD answer is the next answer. */
                if (rest == 0 && !eof) {
                    free(h.content_type);
                    return;
                }
                head_only = rest == 0 || p[head_len] != '{';
            }
            if (!head_only) {
                body_len = (size_t)h.content_length;
                if (rest < body_len) {
                    if (eof)
                        fuzz_fail("%s: Content-Length %zu but %zu byte(s) follow: \"%s\"", what,
                                  body_len, rest,
                                  excerpt(p, avail < 200 ? avail : 200, text, sizeof(text)));
                    free(h.content_type);
                    return;
                }
                check_answer_body(&h, p + head_len, body_len, what);
            }
        }
        free(h.content_type);
        a->used += head_len + body_len;
        if (!interim) {
            a->finals++;
            a->closes = h.closes;
            a->status = h.status;
            a->timed_out |= h.status == 408;
            if (a->record) {
                oms_buf_printf(a->record, "%d %zu ", h.status, body_len);
                oms_buf_append(a->record, p + head_len, body_len);
                oms_buf_puts(a->record, "\n");
            }
        }
    }
}

/* ---- the client side ---- */

struct peer {
    int fd;
    struct oms_buf got; /* everything the server sent */
    int eof;
    int reset;       /* the server reset the connection */
    int half_closed; /* we shut our sending side down */
    int eof_first;   /* the server closed before we half-closed */
    int64_t deadline_ms;
    const char *what;
};

/* Waits for events up to until_ms (at most the deadline); 0 when the time ran out. */
static int peer_wait(struct peer *k, short events, int64_t until_ms)
{
    if (until_ms > k->deadline_ms)
        until_ms = k->deadline_ms;
    for (;;) {
        int64_t left = until_ms - oms_time_mono_ms();
        if (left <= 0)
            return 0;
        struct pollfd pfd = {.fd = k->fd, .events = events};
        int n = poll(&pfd, 1, (int)left);
        if (n > 0)
            return 1;
        if (n < 0 && errno != EINTR)
            fuzz_fail("%s: poll: %s", k->what, strerror(errno));
    }
}

static void peer_connect(struct peer *k, const char *what)
{
    memset(k, 0, sizeof(*k));
    oms_buf_init(&k->got, 0);
    k->what = what;
    k->deadline_ms = oms_time_mono_ms() + DEADLINE_MS;
    /* Non-blocking: libFuzzer's timer signal cannot leave a connect half done. */
    k->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (k->fd < 0)
        fuzz_fail("%s: socket: %s", what, strerror(errno));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)server_port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(k->fd, (struct sockaddr *)&sa, sizeof(sa));
    int e = rc == 0 ? 0 : errno;
    if (e == EINPROGRESS || e == EINTR) {
        socklen_t len = sizeof(e);
        if (!peer_wait(k, POLLOUT, k->deadline_ms) ||
            getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
            e = e ? e : ETIMEDOUT;
    }
    if (e != 0)
        fuzz_fail("%s: cannot connect to the server: %s", what, strerror(e));
}

/* Once the server has closed, we close with a reset: neither side keeps the connection in
 * TIME_WAIT, so a long run does not run out of ports. */
static void peer_close(struct peer *k)
{
    struct linger now = {.l_onoff = 1, .l_linger = 0};
    setsockopt(k->fd, SOL_SOCKET, SO_LINGER, &now, sizeof(now));
    close(k->fd);
    oms_buf_cleanup(&k->got);
}

/* Reads what is there without blocking. */
static void peer_read(struct peer *k)
{
    char buf[16384];
    while (!k->eof) {
        ssize_t n = recv(k->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0) {
            oms_buf_append(&k->got, buf, (size_t)n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n < 0 && errno != ECONNRESET)
            fuzz_fail("%s: recv: %s", k->what, strerror(errno));
        k->reset = n < 0;
        k->eof = 1;
        k->eof_first = !k->half_closed;
    }
}

/* Sends [p, p+n) while reading; stops early when the server has closed (what is left would be
 * discarded) or reset. */
static void peer_send(struct peer *k, const uint8_t *p, size_t n)
{
    while (n > 0 && !k->eof) {
        if (!peer_wait(k, POLLIN | POLLOUT, k->deadline_ms))
            fuzz_fail("%s: the server read nothing for %d ms", k->what, DEADLINE_MS);
        peer_read(k);
        ssize_t w = send(k->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && (errno == EPIPE || errno == ECONNRESET)) {
            k->reset = 1;
            k->eof = 1;
            k->eof_first = !k->half_closed;
        } else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            fuzz_fail("%s: send: %s", k->what, strerror(errno));
        }
    }
}

static void peer_half_close(struct peer *k)
{
    if (!k->half_closed && !k->eof)
        shutdown(k->fd, SHUT_WR);
    k->half_closed = 1;
}

/* Reads until the server closes. Before we half-closed, the server must answer first. We
 * half-close once a final answer that keeps the connection open is in (the server then answers
 * what it holds already and closes, instead of waiting out its idle timeout), or when no answer
 * came by give_up_ms (a partial request: the server closes without answering). */
static void peer_finish(struct peer *k, struct answers *a, int64_t give_up_ms)
{
    for (;;) {
        parse_answers(&k->got, 0, a);
        if (!k->half_closed && a->finals > 0 && !a->closes)
            peer_half_close(k);
        if (!k->half_closed && a->finals == 0 && oms_time_mono_ms() >= give_up_ms)
            peer_half_close(k);
        if (k->eof)
            break;
        int64_t until = k->half_closed || a->finals > 0 ? k->deadline_ms : give_up_ms;
        if (!peer_wait(k, POLLIN, until)) {
            if (until < k->deadline_ms)
                continue;
            char text[200];
            fuzz_fail("%s: no close within %d ms (%zu final answer(s), %s); received \"%s\"",
                      k->what, DEADLINE_MS, a->finals,
                      k->half_closed ? "we had half-closed" : "we had not half-closed",
                      excerpt(k->got.data ? k->got.data : "", k->got.len < 160 ? k->got.len : 160,
                              text, sizeof(text)));
        }
        peer_read(k);
    }
    parse_answers(&k->got, 1, a);
    if (k->reset)
        fuzz_fail("%s: the server reset the connection after %zu final answer(s)", k->what,
                  a->finals);
    if (k->eof_first && a->finals == 0)
        fuzz_fail("%s: the server closed the connection without an answer", k->what);
}

/* A well-formed request afterwards is answered 200: the server is alive. A 408 can only be the
 * machine being slow (the request is sent whole), so it is tried again. */
static void probe(const char *after)
{
    static const char req[] = "GET /probe HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n";
    char what[200];
    snprintf(what, sizeof(what), "the probe after %s", after);
    for (int i = 0; i < PROBE_TRIES; i++) {
        struct peer k;
        struct answers a = {.what = what};
        peer_connect(&k, what);
        peer_send(&k, (const uint8_t *)req, sizeof(req) - 1);
        peer_finish(&k, &a, INT64_MAX);
        peer_close(&k);
        if (a.finals == 1 && a.status == 200)
            return;
        if (a.finals != 1 || a.status != 408)
            fuzz_fail("%s: %zu answer(s), the last %d (expected one 200)", what, a.finals,
                      a.status);
    }
    fuzz_fail("%s: 408 %d times", what, PROBE_TRIES);
}

/* One connection: raw in writes pieces cut at cut[1..writes-1], as mode says; the answers are
 * checked and recorded in record. */
static void exchange(const uint8_t *raw, const size_t *cut, size_t writes, unsigned mode,
                     const char *what, struct oms_buf *record, struct answers *a)
{
    struct peer k;
    peer_connect(&k, what);
    for (size_t i = 0; i < writes && !k.eof; i++) {
        if (i > 0 && (mode & MODE_PAUSE)) {
            int64_t until = oms_time_mono_ms() + PAUSE_MS;
            while (!k.eof && peer_wait(&k, POLLIN, until))
                peer_read(&k);
        }
        peer_send(&k, raw + cut[i], cut[i + 1] - cut[i]);
    }
    if (mode & MODE_HALF_CLOSE)
        peer_half_close(&k);
    a->record = record;
    a->what = what;
    peer_finish(&k, a, mode & MODE_WAIT ? INT64_MAX : oms_time_mono_ms() + QUIET_MS);
    peer_close(&k);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    unsigned mode = size > 0 ? data[0] : 0;
    const uint8_t *raw = data + (size < HEADER_BYTES ? size : HEADER_BYTES);
    size_t len = size > HEADER_BYTES ? size - HEADER_BYTES : 0;
    size_t writes = (mode & MODE_WRITES) == 0 ? 1 : (mode & MODE_WRITES) == 1 ? 2 : 3;
    /* Cuts at the fractions data[1]/256 and data[2]/256 of the bytes, in order. */
    size_t cut[4] = {0, 0, 0, len};
    for (size_t i = 1; i < writes; i++)
        cut[i] = size > i ? len * data[i] / 256 : 0;
    if (writes == 3 && cut[1] > cut[2]) {
        size_t t = cut[1];
        cut[1] = cut[2];
        cut[2] = t;
    }
    cut[writes] = len;

    char what[64];
    snprintf(what, sizeof(what), "input (mode 0x%02x, %zu byte(s))", mode, len);
    int head_input = memmem(raw, len, "HEAD", 4) != NULL;
    struct oms_buf split, whole;
    oms_buf_init(&split, 0);
    oms_buf_init(&whole, 0);
    struct answers a = {.head_input = head_input};
    exchange(raw, cut, writes, mode, what, &split, &a);
    if (writes > 1) {
        /* How the bytes were cut into reads changes nothing the server answers (unless time
         * did: a 408). */
        char what1[96];
        snprintf(what1, sizeof(what1), "%s sent in one write", what);
        size_t one[2] = {0, len};
        struct answers b = {.head_input = head_input};
        exchange(raw, one, 1, mode & ~(unsigned)MODE_PAUSE, what1, &whole, &b);
        if (!a.timed_out && !b.timed_out &&
            (split.len != whole.len ||
             (split.len && memcmp(split.data, whole.data, split.len) != 0))) {
            char t1[200], t2[200];
            fuzz_fail("%s: answered differently in %zu writes (cut at %zu and %zu): \"%s\" "
                      "than in one: \"%s\"",
                      what, writes, cut[1], writes > 2 ? cut[2] : len,
                      excerpt(split.data, split.len < 150 ? split.len : 150, t1, sizeof(t1)),
                      excerpt(whole.data, whole.len < 150 ? whole.len : 150, t2, sizeof(t2)));
        }
    }
    oms_buf_cleanup(&split);
    oms_buf_cleanup(&whole);
    probe(what);
    return 0;
}
