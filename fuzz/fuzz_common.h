#ifndef OAUTH_PROXY_FUZZ_COMMON_H
#define OAUTH_PROXY_FUZZ_COMMON_H

/* What every harness shares: a check that aborts with a message (so libFuzzer saves the input), and a
   heap copy of exactly the input's size, so ASan sees any read past the end of what the caller handed in
   (libFuzzer's own buffer is already exact, but derived inputs are built here). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                                   \
    do {                                                                                              \
        if (!(cond)) {                                                                                \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                  \
            abort();                                                                                  \
        }                                                                                             \
    } while (0)

static inline char *exact_copy(const void *data, size_t size) {
    char *copy = malloc(size ? size : 1);
    CHECK(copy != NULL);
    if (size) memcpy(copy, data, size);
    return copy;
}

#endif
