/* repro: shell reproducers of scenario requests. */
#include "repro.h"

#include "oms_json.h"

#include <stdlib.h>
#include <string.h>

static int plain(unsigned char c)
{
    return c >= 0x20 && c < 0x7f;
}

void repro_quote(struct oms_buf *out, const char *s, size_t len)
{
    int binary = 0;
    for (size_t i = 0; i < len; i++)
        binary |= !plain((unsigned char)s[i]);
    if (binary) {
        /* bash's ANSI-C quoting keeps NULs, control bytes and invalid UTF-8 exact. */
        oms_buf_puts(out, "$'");
        for (size_t i = 0; i < len; i++) {
            unsigned char c = (unsigned char)s[i];
            if (c == '\'' || c == '\\')
                oms_buf_printf(out, "\\%c", c);
            else if (plain(c))
                oms_buf_append(out, &s[i], 1);
            else
                oms_buf_printf(out, "\\x%02x", c);
        }
        oms_buf_puts(out, "'");
        return;
    }
    size_t safe = 0;
    for (size_t i = 0; i < len; i++)
        safe += s[i] &&
                strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-:,=+@%",
                       s[i]) != NULL;
    if (len > 0 && safe == len) {
        oms_buf_append(out, s, len); /* a word the shell reads as it is */
        return;
    }
    oms_buf_puts(out, "'");
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '\'')
            oms_buf_puts(out, "'\\''");
        else
            oms_buf_append(out, &s[i], 1);
    }
    oms_buf_puts(out, "'");
}

char *repro_curl(const char *method, const char *path, char *const *headers, size_t header_count,
                 size_t secret_header, const char *body, size_t body_len, unsigned copies)
{
    struct oms_buf b;
    oms_buf_init(&b, 0);
    if (copies > 1)
        oms_buf_printf(&b, "# sent %u times at once, each on its own connection:\n", copies);
    oms_buf_puts(&b, "curl -sS -i -X ");
    repro_quote(&b, method, strlen(method));
    oms_buf_puts(&b, " \"$TARGET\"");
    repro_quote(&b, path, strlen(path));
    for (size_t i = 0; i < header_count; i++) {
        oms_buf_puts(&b, " -H ");
        if (i == secret_header) {
            oms_buf_puts(&b, "\"Authorization: Token $TOKEN\"");
            continue;
        }
        /* curl's "Name;" sends an empty header; "Name:" would remove it. */
        repro_quote(&b, headers[i], strlen(headers[i]));
    }
    if (body) {
        oms_buf_puts(&b, " --data-binary ");
        repro_quote(&b, body, body_len);
    }
    return oms_buf_take(&b, NULL);
}

char *repro_seed(const json_t *fixture)
{
    struct oms_buf b;
    oms_buf_init(&b, 0);
    char *text = oms_json_dumps(fixture);
    oms_buf_puts(&b, "curl -sS -X PUT \"$TARGET/_fixture/state\" -H 'Content-Type: "
                     "application/json' -H \"X-Fixture-Token: $FIXTURE_TOKEN\" --data-binary ");
    repro_quote(&b, text, strlen(text));
    free(text);
    return oms_buf_take(&b, NULL);
}

char *repro_rerun(const char *file, const char *target_url, int strict_reference)
{
    struct oms_buf b;
    oms_buf_init(&b, 0);
    oms_buf_puts(&b, "refund-harness run ");
    repro_quote(&b, file, strlen(file));
    oms_buf_puts(&b, " --verbose");
    if (target_url) {
        oms_buf_puts(&b, " --target ");
        repro_quote(&b, target_url, strlen(target_url));
        oms_buf_puts(&b, " --token \"$TOKEN\"");
    }
    if (strict_reference && target_url)
        oms_buf_puts(&b, " --strict-reference");
    return oms_buf_take(&b, NULL);
}
