#ifndef OAUTH_PROXY_SPAN_H
#define OAUTH_PROXY_SPAN_H

/* Convention of this file: a type only, no functions. */

#include <stddef.h>

/* A byte range that does not own its memory. */
typedef struct {
    const char *p;
    size_t n;
} span;

#endif
