#ifndef OAUTH_PROXY_UTF8_H
#define OAUTH_PROXY_UTF8_H

/* Convention of this file: a predicate, 1 (yes) or 0 (no). */

#include <stddef.h>

/* 1 when s[0..len) is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above
   U+10FFFF), else 0. */
int utf8_valid(const unsigned char *s, size_t len);

#endif
