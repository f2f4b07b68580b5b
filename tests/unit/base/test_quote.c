/*
 * test_quote - quote_clip() by what a message reader sees: tables of inputs
 * (long, multi-byte, invalid, control bytes, cuts at every position), and
 * random byte strings whose quotes must all be printable, bounded, valid UTF-8
 * as GLib judges it, and accepted by jansson as a JSON string.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <glib.h>
#include <jansson.h>
#include <string.h>

#include "base/quote.h"
#include "test_util.h"

static const struct {
    const char *text;
    size_t size;
    const char *want;
} cases[] = {
    {"PATH", QUOTE_SIZE, "PATH"},
    {"", QUOTE_SIZE, ""},
    {"abcdefghij", 8, "abcd..."},
    {"abcd", 8, "abcd"},
    {"abcde", 8, "abcd..."}, /* 5 bytes do not fit in the 4 of room: cut, and say so */
    {"\xc3\xa9t\xc3\xa9", QUOTE_SIZE, "\xc3\xa9t\xc3\xa9"},
    /* "aéé": 4 bytes of room hold "aé" and not a half of the second é. */
    {"a\xc3\xa9\xc3\xa9x", 8, "a\xc3\xa9..."},
    {"\xe2\x82\xac\xe2\x82\xac", 8, "\xe2\x82\xac..."}, /* € is 3 bytes */
    {"\xf0\x9f\x98\x80", 8, "\xf0\x9f\x98\x80"},        /* 4-byte emoji fits exactly */
    {"a\xffz", QUOTE_SIZE, "a\\xffz"},
    {"tab\there", QUOTE_SIZE, "tab\\x09here"},
    {"\xc3", QUOTE_SIZE, "\\xc3"},                            /* truncated sequence */
    {"\xc0\xaf", QUOTE_SIZE, "\\xc0\\xaf"},                   /* overlong '/' */
    {"\xed\xa0\x80", QUOTE_SIZE, "\\xed\\xa0\\x80"},          /* a surrogate */
    {"\xf4\x90\x80\x80", QUOTE_SIZE, "\\xf4\\x90\\x80\\x80"}, /* past U+10FFFF */
    {"\x7f", QUOTE_SIZE, "\\x7f"},
    {"ab\xff", 8, "ab..."}, /* an escape is never cut either */
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char buf[QUOTE_SIZE];
        assert_true(cases[i].size <= sizeof(buf));
        quote_clip(cases[i].text, strlen(cases[i].text), buf, cases[i].size);
        if (strcmp(buf, cases[i].want) != 0)
            print_error("case %zu: got '%s', want '%s'\n", i, buf, cases[i].want);
        assert_string_equal(buf, cases[i].want);
    }
}

static void test_nul_inside(void **state)
{
    (void)state;
    char buf[QUOTE_SIZE];
    assert_string_equal(quote_clip("a\0b", 3, buf, sizeof(buf)), "a\\x00b");
}

static void test_long_key_keeps_64_bytes(void **state)
{
    (void)state;
    char key[5000], buf[QUOTE_SIZE];
    memset(key, 'k', sizeof(key));
    quote_clip(key, sizeof(key), buf, sizeof(buf));
    assert_int_equal(strlen(buf), 64 + 3);
    assert_string_equal(buf + 64, "...");
}

/* Random bytes, biased toward UTF-8 lead and continuation bytes. */
static size_t random_text(struct test_rng *rng, unsigned char *out, size_t max)
{
    static const unsigned char pool[] = {'a',  'Z',  ' ',  '\\', 0x00, 0x09, 0x7f, 0x80,
                                         0xbf, 0xc2, 0xc3, 0xdf, 0xe0, 0xe2, 0xed, 0xef,
                                         0xf0, 0xf4, 0xf5, 0xff, 0xa0, 0x9f, 0x8f, 0x90};
    size_t len = (size_t)test_rng_range(rng, 0, (int64_t)max);
    for (size_t i = 0; i < len; i++)
        out[i] = test_rng_range(rng, 0, 3) == 0 ? (unsigned char)test_rng_range(rng, 0, 255)
                                                : pool[test_rng_range(rng, 0, sizeof(pool) - 1)];
    return len;
}

static void test_random_inputs(void **state)
{
    (void)state;
    struct test_rng rng = {test_seed(20261204)};
    for (int c = 0; c < 200000; c++) {
        unsigned char text[96];
        char buf[QUOTE_SIZE];
        size_t len = random_text(&rng, text, sizeof(text));
        size_t size = (size_t)test_rng_range(&rng, 5, sizeof(buf));
        quote_clip((const char *)text, len, buf, size);
        size_t out = strlen(buf);
        assert_true(out < size);
        assert_true(g_utf8_validate(buf, -1, NULL));
        for (size_t i = 0; i < out; i++)
            assert_false((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f);
        json_t *s = json_string(buf);
        assert_non_null(s);
        json_decref(s);
        bool plain = g_utf8_validate((const char *)text, (gssize)len, NULL);
        for (size_t i = 0; plain && i < len; i++)
            plain = text[i] >= 0x20 && text[i] != 0x7f;
        if (plain && len <= size - 4) { /* unchanged */
            assert_int_equal(out, len);
            assert_memory_equal(buf, text, len);
        }
        if (plain && len > size - 4)
            assert_string_equal(buf + out - 3, "...");
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_nul_inside),
        cmocka_unit_test(test_long_key_keeps_64_bytes),
        cmocka_unit_test(test_random_inputs),
    };
    return cmocka_run_group_tests_name("quote", tests, NULL, NULL);
}
