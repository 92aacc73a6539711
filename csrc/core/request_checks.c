#include "request_checks.h"

#include <string.h>

#include <openssl/crypto.h>

static unsigned char ascii_lower(unsigned char c) { return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c; }

static int equal_ignoring_case(const char *a, const char *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i])) return 0;
    return 1;
}

int origin_is_trusted(span origin, const span *trusted, size_t count) {
    for (size_t i = 0; i < count; i++)
        if (trusted[i].n == origin.n && equal_ignoring_case(trusted[i].p, origin.p, origin.n)) return 1;
    return 0;
}

int csrf_matches(span header, const char *plain, size_t plain_len) {
    if (header.n != plain_len || plain_len == 0) return 0;
    return CRYPTO_memcmp(header.p, plain, plain_len) == 0;
}

int method_needs_csrf(span method) {
    static const char *const safe[] = {"GET", "HEAD", "OPTIONS"};
    for (size_t i = 0; i < sizeof safe / sizeof safe[0]; i++)
        if (method.n == strlen(safe[i]) && equal_ignoring_case(method.p, safe[i], method.n)) return 0;
    return 1;
}

int method_is_options(span method) { return method.n == 7 && equal_ignoring_case(method.p, "OPTIONS", 7); }

int handler_version_ok(span value) { return value.n == 1 && value.p[0] == '1'; }

static int is_b64token_char(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
           c == '_' || c == '~' || c == '+' || c == '/';
}

int bearer_token(span header, span *token) {
    const char *p = header.p, *end = header.p + header.n;
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    while (end > p && (end[-1] == ' ' || end[-1] == '\t')) end--;
    if (end - p < 7 || !equal_ignoring_case(p, "bearer", 6) || p[6] != ' ') return 0;
    p += 7;
    while (p < end && *p == ' ') p++;
    const char *start = p;
    while (p < end && is_b64token_char((unsigned char)*p)) p++;
    if (p == start) return 0;
    while (p < end && *p == '=') p++;
    if (p != end) return 0;
    token->p = start;
    token->n = (size_t)(end - start);
    return 1;
}

static int has_word(const char *list, size_t len, span word) {
    const char *p = list, *end = list + len;
    while (p < end) {
        const char *stop = memchr(p, ' ', (size_t)(end - p));
        if (stop == NULL) stop = end;
        if ((size_t)(stop - p) == word.n && memcmp(p, word.p, word.n) == 0) return 1;
        p = stop + 1;
    }
    return 0;
}

int scopes_granted(const char *granted, size_t granted_len, const span *required, size_t count) {
    for (size_t i = 0; i < count; i++)
        if (!has_word(granted, granted_len, required[i])) return 0;
    return 1;
}
