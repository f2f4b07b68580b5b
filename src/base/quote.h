/*
 * quote - what a user wrote, made fit to quote inside a message.
 *
 * Refusals read "<field>: <reason>" and often quote the user's text: a key, a
 * value, a word.  Quoted whole into a fixed-size buffer, a long key fills it
 * and pushes out the reason, or the ':' that ends the field's name when the
 * key is part of it.  So every message quotes through quote_clip(): a bounded
 * copy that keeps the message's own words.
 *
 * Messages travel as JSON strings, which must be valid UTF-8, so the copy is
 * cut only between characters, and bytes that are not UTF-8 or are control
 * characters are written as `\xNN`: the quote is always printable, valid UTF-8.
 */
#ifndef OVSCHED_BASE_QUOTE_H
#define OVSCHED_BASE_QUOTE_H

#include <stddef.h>

/* A quote buffer for the usual bound: at most 64 bytes of text, "..." and NUL. */
#define QUOTE_SIZE (64 + 4)

/* Write the LEN bytes of TEXT (any bytes, NUL included) into BUF of SIZE bytes
 * (at least 5): valid UTF-8 characters as they are, anything else as `\xNN`,
 * ending with "..." when not everything fit.  Never cuts a character or an
 * escape.  Returns BUF, always NUL-terminated. */
char *quote_clip(const char *text, size_t len, char *buf, size_t size);

#endif
