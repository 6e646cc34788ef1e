/* escape: XML and HTML escaping. */
#include "escape.h"

#include <string.h>

/* The five markup characters; apos is the entity for ' in the target language. With xml, the
 * characters XML 1.0 forbids become U+FFFD. */
static void escape(struct oms_buf *out, const char *s, const char *apos, int xml)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        switch (*p) {
        case '&':
            oms_buf_puts(out, "&amp;");
            break;
        case '<':
            oms_buf_puts(out, "&lt;");
            break;
        case '>':
            oms_buf_puts(out, "&gt;");
            break;
        case '"':
            oms_buf_puts(out, "&quot;");
            break;
        case '\'':
            oms_buf_puts(out, apos);
            break;
        default:
            if (xml && *p < 0x20 && *p != '\n' && *p != '\r' && *p != '\t') {
                oms_buf_puts(out, "\xEF\xBF\xBD");
            } else if (xml && p[0] == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF)) {
                /* U+FFFE and U+FFFF are not XML characters either. */
                oms_buf_puts(out, "\xEF\xBF\xBD");
                p += 2;
            } else {
                oms_buf_append(out, p, 1);
            }
        }
    }
}

void escape_xml(struct oms_buf *out, const char *s)
{
    escape(out, s, "&apos;", 1);
}

void escape_html(struct oms_buf *out, const char *s)
{
    escape(out, s, "&#39;", 0);
}
