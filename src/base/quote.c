/*
 * quote - bounded, printable, valid-UTF-8 copies of user text for messages.
 * See quote.h.
 *
 * UTF-8 is checked as RFC 3629 has it (and as jansson, which later encodes the
 * message, checks it): no overlong forms, no surrogates, nothing past U+10FFFF.
 */
#include "base/quote.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Length of the valid UTF-8 character at TEXT (LEFT bytes remain), or 0 when
 * the bytes there are not one. */
static size_t utf8_char_len(const unsigned char *text, size_t left)
{
    unsigned char c = text[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf; /* the range of the second byte */
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    else
        return 0;
    if (left < len || text[1] < lo || text[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (text[i] < 0x80 || text[i] > 0xbf)
            return 0;
    return len;
}

static bool is_control(unsigned char c)
{
    return c < 0x20 || c == 0x7f;
}

char *quote_clip(const char *text, size_t len, char *buf, size_t size)
{
    const unsigned char *in = (const unsigned char *)text;
    size_t used = 0, room = size - 4; /* keep "..." and the NUL */
    size_t i = 0;
    while (i < len) {
        size_t n = utf8_char_len(in + i, len - i);
        bool escape = n == 0 || (n == 1 && is_control(in[i]));
        size_t out = escape ? 4 : n;
        if (used + out > room)
            break;
        if (escape) {
            snprintf(buf + used, 5, "\\x%02x", in[i]);
            n = 1;
        } else {
            memcpy(buf + used, in + i, n);
        }
        used += out;
        i += n;
    }
    if (i < len)
        memcpy(buf + used, "...", 3), used += 3;
    buf[used] = '\0';
    return buf;
}
