/* escape: one escaping function per output language the reports write. */
#ifndef ESCAPE_H
#define ESCAPE_H

#include "oms_buf.h"

/* XML text and attribute values: & < > " ' escaped; characters XML 1.0 forbids (most control
 * characters) become U+FFFD so the document stays well formed. */
void escape_xml(struct oms_buf *out, const char *s);
/* HTML text and attribute values. */
void escape_html(struct oms_buf *out, const char *s);

#endif
