#ifndef OAUTH_PROXY_SPAN_H
#define OAUTH_PROXY_SPAN_H

#include <stddef.h>

/* A byte range that does not own its memory. */
typedef struct {
    const char *p;
    size_t n;
} span;

#endif
