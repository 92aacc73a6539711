#include "cookie_header.h"

#include <string.h>

static int is_blank(char c) { return c == ' ' || c == '\t'; }

static void trim(const char **start, const char **stop) {
    while (*start < *stop && is_blank(**start)) (*start)++;
    while (*stop > *start && is_blank((*stop)[-1])) (*stop)--;
}

void cookie_cursor_init(cookie_cursor *cursor, const char *header, size_t len) {
    cursor->pos = header;
    cursor->end = header + len;
}

int cookie_cursor_next(cookie_cursor *cursor, const char **name, size_t *name_len, const char **value,
                       size_t *value_len) {
    while (cursor->pos < cursor->end) {
        const char *piece = cursor->pos;
        const char *semi = memchr(piece, ';', (size_t)(cursor->end - piece));
        const char *piece_end = semi ? semi : cursor->end;
        cursor->pos = semi ? semi + 1 : cursor->end;

        const char *eq = memchr(piece, '=', (size_t)(piece_end - piece));
        if (eq == NULL) continue;
        const char *n0 = piece, *n1 = eq, *v0 = eq + 1, *v1 = piece_end;
        trim(&n0, &n1);
        trim(&v0, &v1);
        if (n0 == n1) continue;
        *name = n0;
        *name_len = (size_t)(n1 - n0);
        *value = v0;
        *value_len = (size_t)(v1 - v0);
        return 1;
    }
    return 0;
}
