/* test_oms_buf: the growable buffer's contract - the hard cap refuses and changes nothing,
 * printf formats in place, take hands the memory over and empties the buffer. */
#include "support.h"

#include "oms_buf.h"
#include "oms_error.h"

#include <stdlib.h>
#include <string.h>

static void test_oms_buf_str_empty_is_empty_string(void **state)
{
    (void)state;
    struct oms_buf b;
    oms_buf_init(&b, 0);
    assert_null(b.data);
    assert_string_equal(oms_buf_str(&b), "");
    assert_int_equal(b.len, 0);
    oms_buf_cleanup(&b);
}

static void test_oms_buf_append_grows_and_terminates(void **state)
{
    (void)state;
    struct oms_buf b;
    oms_buf_init(&b, 0);
    assert_int_equal(oms_buf_append(&b, "abc", 3), 0);
    assert_int_equal(oms_buf_puts(&b, "def"), 0);
    /* Much more than the first allocation, to force several reallocations. */
    for (int i = 0; i < 1000; i++)
        assert_int_equal(oms_buf_append(&b, "0123456789", 10), 0);
    assert_int_equal(b.len, 6 + 10000);
    assert_int_equal(strlen(oms_buf_str(&b)), b.len);
    assert_memory_equal(oms_buf_str(&b), "abcdef0123", 10);
    assert_true(b.cap > b.len);
    oms_buf_cleanup(&b);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
}

static void test_oms_buf_append_binary_keeps_nul_bytes(void **state)
{
    (void)state;
    struct oms_buf b;
    oms_buf_init(&b, 0);
    assert_int_equal(oms_buf_append(&b, "a\0b", 3), 0);
    assert_int_equal(b.len, 3);
    assert_memory_equal(b.data, "a\0b\0", 4);
    oms_buf_cleanup(&b);
}

static void test_oms_buf_append_over_cap_refused_and_unchanged(void **state)
{
    (void)state;
    struct oms_buf b;
    oms_buf_init(&b, 8);
    assert_int_equal(oms_buf_append(&b, "12345", 5), 0);
    assert_int_equal(oms_buf_append(&b, "6789", 4), OMS_E_INVAL);
    assert_int_equal(b.len, 5);
    assert_string_equal(oms_buf_str(&b), "12345");
    /* Exactly up to the cap is allowed. */
    assert_int_equal(oms_buf_append(&b, "678", 3), 0);
    assert_string_equal(oms_buf_str(&b), "12345678");
    assert_int_equal(oms_buf_puts(&b, "9"), OMS_E_INVAL);
    assert_string_equal(oms_buf_str(&b), "12345678");
    /* A huge length must not wrap around the cap check. */
    assert_int_equal(oms_buf_append(&b, "x", SIZE_MAX), OMS_E_INVAL);
    assert_int_equal(b.len, 8);
    oms_buf_cleanup(&b);
}

static void test_oms_buf_append_over_cap_on_empty_buffer_allocates_nothing(void **state)
{
    (void)state;
    struct oms_buf b;
    oms_buf_init(&b, 4);
    assert_int_equal(oms_buf_append(&b, "12345", 5), OMS_E_INVAL);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_string_equal(oms_buf_str(&b), "");
    oms_buf_cleanup(&b);
}

static void test_oms_buf_printf_formats_and_appends(void **state)
{
    (void)state;
    struct oms_buf b;
    oms_buf_init(&b, 0);
    assert_int_equal(oms_buf_puts(&b, ">"), 0);
    assert_int_equal(oms_buf_printf(&b, "%s=%d;%05.1f", "n", 42, 3.14159), 0);
    assert_string_equal(oms_buf_str(&b), ">n=42;003.1");
    assert_int_equal(b.len, strlen(">n=42;003.1"));
    oms_buf_cleanup(&b);
}

static void test_oms_buf_printf_over_cap_refused_and_unchanged(void **state)
{
    (void)state;
    struct oms_buf b;
    oms_buf_init(&b, 10);
    assert_int_equal(oms_buf_printf(&b, "%s", "hello"), 0);
    assert_int_equal(oms_buf_printf(&b, "%d", 123456), OMS_E_INVAL);
    assert_string_equal(oms_buf_str(&b), "hello");
    assert_int_equal(b.len, 5);
    assert_int_equal(oms_buf_printf(&b, "%d", 12345), 0);
    assert_string_equal(oms_buf_str(&b), "hello12345");
    oms_buf_cleanup(&b);
}

static void test_oms_buf_reset_keeps_memory(void **state)
{
    (void)state;
    struct oms_buf b;
    oms_buf_init(&b, 0);
    oms_buf_puts(&b, "something");
    char *mem = b.data;
    oms_buf_reset(&b);
    assert_int_equal(b.len, 0);
    assert_string_equal(oms_buf_str(&b), "");
    assert_ptr_equal(b.data, mem);
    oms_buf_puts(&b, "x");
    assert_string_equal(oms_buf_str(&b), "x");
    oms_buf_cleanup(&b);
}

static void test_oms_buf_take_hands_over_and_empties(void **state)
{
    (void)state;
    struct oms_buf b;
    oms_buf_init(&b, 0);
    oms_buf_puts(&b, "owned");
    size_t len = 0;
    char *s = oms_buf_take(&b, &len);
    assert_string_equal(s, "owned");
    assert_int_equal(len, 5);
    assert_null(b.data);
    assert_int_equal(b.len, 0);
    assert_string_equal(oms_buf_str(&b), "");
    /* The buffer is reusable after a take. */
    assert_int_equal(oms_buf_puts(&b, "again"), 0);
    assert_string_equal(oms_buf_str(&b), "again");
    free(s);
    oms_buf_cleanup(&b);
}

static void test_oms_buf_take_empty_is_never_null(void **state)
{
    (void)state;
    struct oms_buf b;
    oms_buf_init(&b, 0);
    size_t len = 99;
    char *s = oms_buf_take(&b, &len);
    assert_non_null(s);
    assert_string_equal(s, "");
    assert_int_equal(len, 0);
    free(s);
    s = oms_buf_take(&b, NULL);
    assert_non_null(s);
    free(s);
}

static void test_oms_buf_cleanup_null_allowed(void **state)
{
    (void)state;
    oms_buf_cleanup(NULL);
    struct oms_buf b;
    oms_buf_init(&b, 0);
    oms_buf_cleanup(&b);
    oms_buf_cleanup(&b); /* twice is harmless */
    assert_null(b.data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oms_buf_str_empty_is_empty_string),
        cmocka_unit_test(test_oms_buf_append_grows_and_terminates),
        cmocka_unit_test(test_oms_buf_append_binary_keeps_nul_bytes),
        cmocka_unit_test(test_oms_buf_append_over_cap_refused_and_unchanged),
        cmocka_unit_test(test_oms_buf_append_over_cap_on_empty_buffer_allocates_nothing),
        cmocka_unit_test(test_oms_buf_printf_formats_and_appends),
        cmocka_unit_test(test_oms_buf_printf_over_cap_refused_and_unchanged),
        cmocka_unit_test(test_oms_buf_reset_keeps_memory),
        cmocka_unit_test(test_oms_buf_take_hands_over_and_empties),
        cmocka_unit_test(test_oms_buf_take_empty_is_never_null),
        cmocka_unit_test(test_oms_buf_cleanup_null_allowed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
