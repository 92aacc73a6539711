/* The Cookie header pair iterator (csrc/core/cookie_header.c) against a reference written the naive way:
   split on ';', cut at the first '=', strip blanks, skip pieces without '=' or with an empty name.
   Every span must lie inside the header. */
#include <stdint.h>

#include "cookie_header.h"
#include "fuzz_common.h"

static int blank(char c) { return c == ' ' || c == '\t'; }

/* Reference: the next pair from header[*pos..len), by indices rather than pointers. */
static int reference_next(const char *h, size_t len, size_t *pos, size_t *n0, size_t *n1, size_t *v0, size_t *v1) {
    while (*pos < len) {
        size_t start = *pos, stop = start;
        while (stop < len && h[stop] != ';') stop++;
        *pos = stop < len ? stop + 1 : len;
        size_t eq = start;
        while (eq < stop && h[eq] != '=') eq++;
        if (eq == stop) continue;
        size_t a = start, b = eq, c = eq + 1, d = stop;
        while (a < b && blank(h[a])) a++;
        while (b > a && blank(h[b - 1])) b--;
        while (c < d && blank(h[c])) c++;
        while (d > c && blank(h[d - 1])) d--;
        if (a == b) continue;
        *n0 = a, *n1 = b, *v0 = c, *v1 = d;
        return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *header = exact_copy(data, size);
    cookie_cursor cursor;
    cookie_cursor_init(&cursor, header, size);
    size_t pos = 0, pairs = 0;
    for (;;) {
        const char *name, *value;
        size_t name_len, value_len, n0, n1, v0, v1;
        int got = cookie_cursor_next(&cursor, &name, &name_len, &value, &value_len);
        int want = reference_next(header, size, &pos, &n0, &n1, &v0, &v1);
        CHECK(got == want);
        if (!got) break;
        pairs++;
        CHECK(name >= header && name + name_len <= header + size);
        CHECK(value >= header && value + value_len <= header + size);
        CHECK((size_t)(name - header) == n0 && name_len == n1 - n0);
        CHECK((size_t)(value - header) == v0 && value_len == v1 - v0);
        CHECK(name_len > 0 && !blank(name[0]) && !blank(name[name_len - 1]));
        CHECK(memchr(name, ';', name_len) == NULL && memchr(name, '=', name_len) == NULL);
        CHECK(memchr(value, ';', value_len) == NULL);
        CHECK(value_len == 0 || (!blank(value[0]) && !blank(value[value_len - 1])));
    }
    CHECK(pairs <= size / 2 + 1);
    /* Used up means used up: another call finds nothing. */
    const char *name, *value;
    size_t name_len, value_len;
    CHECK(cookie_cursor_next(&cursor, &name, &name_len, &value, &value_len) == 0);
    free(header);
    return 0;
}
