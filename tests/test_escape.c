/* test_escape: XML and HTML escaping - markup characters and quotes, and the characters XML 1.0
 * forbids, which become U+FFFD so a report stays well formed. */
#include "support.h"

#include "escape.h"

#include <stdio.h>
#include <string.h>

#define FFFD "\xEF\xBF\xBD"

static void expect_xml(const char *in, const char *want)
{
    struct oms_buf b;
    oms_buf_init(&b, 0);
    escape_xml(&b, in);
    char got[256];
    snprintf(got, sizeof(got), "%s", oms_buf_str(&b));
    oms_buf_cleanup(&b); /* before any failure, so a failing case leaks nothing */
    if (strcmp(got, want) != 0)
        fail_msg("escape_xml: expected \"%s\", got \"%s\"", want, got);
}

static void expect_html(const char *in, const char *want)
{
    struct oms_buf b;
    oms_buf_init(&b, 0);
    escape_html(&b, in);
    char got[256];
    snprintf(got, sizeof(got), "%s", oms_buf_str(&b));
    oms_buf_cleanup(&b); /* before any failure, so a failing case leaks nothing */
    if (strcmp(got, want) != 0)
        fail_msg("escape_html: expected \"%s\", got \"%s\"", want, got);
}

static void test_escape_xml_markup_and_quotes(void **state)
{
    (void)state;
    expect_xml("a < b && c > d", "a &lt; b &amp;&amp; c &gt; d");
    expect_xml("say \"hi\" 'there'", "say &quot;hi&quot; &apos;there&apos;");
    expect_xml("&amp;", "&amp;amp;"); /* already-escaped text is escaped again */
    expect_xml("plain text, caf\xC3\xA9 \xF0\x9F\x93\xA6",
               "plain text, caf\xC3\xA9 \xF0\x9F\x93\xA6");
    expect_xml("", "");
    expect_xml(NULL, "");
}

static void test_escape_xml_control_characters_replaced(void **state)
{
    (void)state;
    expect_xml("a\x01z", "a" FFFD "z");
    expect_xml("\x08\x0B\x0C\x1B\x1F", FFFD FFFD FFFD FFFD FFFD);
    expect_xml("tab\tnl\ncr\r", "tab\tnl\ncr\r"); /* allowed whitespace is kept */
    expect_xml("del\x7F", "del\x7F");             /* DEL is allowed by XML 1.0 */
}

/* XML 1.0's Char production excludes U+FFFE and U+FFFF as well as the C0 controls. */
static void test_escape_xml_noncharacters_fffe_ffff_replaced(void **state)
{
    (void)state;
    expect_xml("x\xEF\xBF\xBEy", "x" FFFD "y");
    expect_xml("x\xEF\xBF\xBFy", "x" FFFD "y");
    expect_xml("\xEF\xBF\xBD", FFFD); /* U+FFFD itself is fine */
}

static void test_escape_xml_appends(void **state)
{
    (void)state;
    struct oms_buf b;
    oms_buf_init(&b, 0);
    oms_buf_puts(&b, "<a>");
    escape_xml(&b, "<b>");
    oms_buf_puts(&b, "</a>");
    assert_string_equal(oms_buf_str(&b), "<a>&lt;b&gt;</a>");
    oms_buf_cleanup(&b);
}

static void test_escape_html_markup_and_quotes(void **state)
{
    (void)state;
    expect_html("<script>alert('x')</script>", "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    expect_html("a=\"1\" & b", "a=&quot;1&quot; &amp; b");
    expect_html("caf\xC3\xA9", "caf\xC3\xA9");
    expect_html("", "");
    expect_html(NULL, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape_xml_markup_and_quotes),
        cmocka_unit_test(test_escape_xml_control_characters_replaced),
        cmocka_unit_test(test_escape_xml_noncharacters_fffe_ffff_replaced),
        cmocka_unit_test(test_escape_xml_appends),
        cmocka_unit_test(test_escape_html_markup_and_quotes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
