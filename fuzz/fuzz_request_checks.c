/* The small string rules of the decision (csrc/core/request_checks.c) against references written the obvious
   way: the bearer token of an Authorization header (RFC 6750 b64token), scope words, the CSRF comparison,
   the method rules and the token-handler-version value. The input is split at the first two NUL bytes into a
   header, a granted scope list and a required scope list (split on blanks). */
#include <stdint.h>

#include "fuzz_common.h"
#include "request_checks.h"

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

static int b64token_char(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-._~+/", c) != NULL;
}

/* "Bearer" (any case), one space, optional further spaces, b64token, optional '=' padding; blanks around
   the whole value dropped. */
static int reference_bearer(const char *s, size_t n, size_t *start, size_t *len) {
    size_t a = 0, b = n;
    while (a < b && (s[a] == ' ' || s[a] == '\t')) a++;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t')) b--;
    const char *word = "bearer";
    if (b - a < 7) return 0;
    for (int i = 0; i < 6; i++)
        if (lower((unsigned char)s[a + i]) != word[i]) return 0;
    if (s[a + 6] != ' ') return 0;
    size_t p = a + 7;
    while (p < b && s[p] == ' ') p++;
    size_t t = p;
    while (p < b && s[p] != '\0' && b64token_char((unsigned char)s[p])) p++;
    if (p == t) return 0;
    while (p < b && s[p] == '=') p++;
    if (p != b) return 0;
    *start = t;
    *len = b - t;
    return 1;
}

static int reference_has_word(const char *list, size_t n, const char *w, size_t wn) {
    size_t i = 0;
    for (;;) {
        size_t j = i;
        while (j < n && list[j] != ' ') j++;
        if (j - i == wn && memcmp(list + i, w, wn) == 0) return 1;
        if (j >= n) return 0;
        i = j + 1;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *all = exact_copy(data, size);
    const char *end = all + size;
    const char *z1 = memchr(all, '\0', size);
    const char *granted = z1 ? z1 + 1 : end;
    const char *z2 = z1 ? memchr(granted, '\0', (size_t)(end - granted)) : NULL;
    const char *required = z2 ? z2 + 1 : end;
    size_t header_len = (size_t)((z1 ? z1 : end) - all);
    size_t granted_len = (size_t)((z2 ? z2 : end) - granted);
    if (granted > end) granted = end, granted_len = 0;

    /* bearer token */
    char *header = exact_copy(all, header_len);
    span token = {NULL, 0};
    size_t start = 0, len = 0;
    int got = bearer_token((span){header, header_len}, &token);
    CHECK(got == reference_bearer(header, header_len, &start, &len));
    if (got) CHECK(token.p == header + start && token.n == len && len > 0);

    /* method: only GET, HEAD and OPTIONS (any case) skip the CSRF check */
    int safe = (header_len == 3 && strncasecmp(header, "GET", 3) == 0) ||
               (header_len == 4 && strncasecmp(header, "HEAD", 4) == 0) ||
               (header_len == 7 && strncasecmp(header, "OPTIONS", 7) == 0);
    CHECK(method_needs_csrf((span){header, header_len}) == !safe);
    /* CSRF_MODE=header: only OPTIONS (any case) goes without the header, whose one accepted value is "1" */
    int options = header_len == 7 && strncasecmp(header, "OPTIONS", 7) == 0;
    CHECK(method_is_options((span){header, header_len}) == options);
    CHECK(handler_version_ok((span){header, header_len}) == (header_len == 1 && header[0] == '1'));

    /* CSRF: equal, non-empty */
    char *plain = exact_copy(granted, granted_len);
    int equal = header_len == granted_len && header_len > 0 && memcmp(header, plain, header_len) == 0;
    CHECK(csrf_matches((span){header, header_len}, plain, granted_len) == equal);

    /* scopes: every required word (split on blanks, empty words dropped) is a word of granted */
    span words[16];
    size_t count = 0, rlen = (size_t)(end - required);
    char *req = exact_copy(required, rlen);
    for (size_t i = 0; i < rlen && count < 16;) {
        while (i < rlen && req[i] == ' ') i++;
        size_t j = i;
        while (j < rlen && req[j] != ' ') j++;
        if (j > i) words[count++] = (span){req + i, j - i};
        i = j;
    }
    int all_there = 1;
    for (size_t k = 0; k < count; k++) all_there &= reference_has_word(plain, granted_len, words[k].p, words[k].n);
    CHECK(scopes_granted(plain, granted_len, words, count) == all_there);

    free(req);
    free(plain);
    free(header);
    free(all);
    return 0;
}
