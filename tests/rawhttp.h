/* rawhttp: HTTP over a raw socket for tests that send bytes no client library would - malformed
 * framing, NULs, huge heads - and read whatever comes back. */
#ifndef RAWHTTP_H
#define RAWHTTP_H

#include <stddef.h>

struct rawhttp_answer {
    int status; /* the status of the first answer; 0: the connection closed with no answer */
    char *head; /* the answer's head (NUL-terminated), or NULL */
    char *body; /* its body (NUL-terminated copy), or NULL */
    size_t body_len;
    int timed_out; /* nothing conclusive arrived within the time allowed */
};

/* Connects to 127.0.0.1:port (from the local address src, NULL for any), sends len bytes while
 * reading, and reads one answer (its Content-Length body, or up to the close) within timeout_ms.
 * Returns 0, or -1 when it cannot connect. Free the answer with rawhttp_answer_cleanup. */
int rawhttp_exchange(unsigned port, const char *src, const char *bytes, size_t len, long timeout_ms,
                     struct rawhttp_answer *out);
void rawhttp_answer_cleanup(struct rawhttp_answer *a);
/* A connected socket to 127.0.0.1:port from src (NULL: any), non-blocking; -1 on failure. */
int rawhttp_connect(unsigned port, const char *src);

#endif
