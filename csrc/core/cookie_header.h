#ifndef OAUTH_PROXY_COOKIE_HEADER_H
#define OAUTH_PROXY_COOKIE_HEADER_H

/* Convention of this file: nothing fails; cookie_cursor_next answers 1 (a pair) or 0 (no more). */

#include <stddef.h>

/* Walks the `name=value` pairs of one Cookie header (RFC 6265 section 5.4 as browsers send it: pairs split
   by ';', blanks around names and values dropped, a piece without '=' skipped). Nothing is copied: the
   spans point into the header. */
typedef struct {
    const char *pos;
    const char *end;
} cookie_cursor;

void cookie_cursor_init(cookie_cursor *cursor, const char *header, size_t len);

/* Returns 1 and fills the spans for the next pair, or 0 when the header is used up. */
int cookie_cursor_next(cookie_cursor *cursor, const char **name, size_t *name_len, const char **value,
                       size_t *value_len);

#endif
