/* The ROUTE_SCOPES matcher (csrc/core/route_match.c) on random tables and requests, against a reference
   written the obvious way: the first rule whose method is `*` or equals the request's method in upper case,
   and whose path equals the request's path (exact rule) or is a parent of it (prefix rule: the path itself
   or anything below it; the root prefix covers every path, `$default` included).

   Input: a rule count byte, then per rule a method byte, a flags byte (bit 0: prefix) and a length byte
   followed by that many path bytes; what remains is requests, each a method length byte, method bytes, a
   path length byte and path bytes. Paths and methods come from small alphabets, so that matches are common;
   every string is a heap block of its exact length, so a read past one is an ASan report. */
#include <stdint.h>

#include "fuzz_common.h"
#include "route_match.h"

#define MAX_RULES 12

typedef struct {
    const uint8_t *p;
    size_t n;
} input;

static int take(input *in, uint8_t *out) {
    if (in->n == 0) return 0;
    *out = *in->p++;
    in->n--;
    return 1;
}

/* len bytes of the input mapped into alphabet, as an exact heap copy. */
static span take_text(input *in, size_t len, const char *alphabet, size_t alphabet_len) {
    size_t n = len < in->n ? len : in->n;
    char *s = malloc(n ? n : 1);
    CHECK(s != NULL);
    for (size_t i = 0; i < n; i++) s[i] = alphabet[in->p[i] % alphabet_len];
    in->p += n;
    in->n -= n;
    return (span){s, n};
}

static const char PATH_CHARS[] = {'/', 'a', 'b', '/', '\0', '.'};
static const char METHOD_CHARS[] = {'G', 'E', 'T', 'g', 'e', 't', 'P', 'O', 'S', 'p', 'o', 's', (char)0xc7, (char)0xe7};
static const char *const RULE_METHODS[] = {"*", "GET", "POST", "GE", "DELETE", "\xc7"};

static uint8_t ascii_upper(uint8_t c) { return c >= 'a' && c <= 'z' ? (uint8_t)(c - 'a' + 'A') : c; }

static int reference_method(const char *rule, span method) {
    if (strcmp(rule, "*") == 0) return 1;
    if (strlen(rule) != method.n) return 0;
    for (size_t i = 0; i < method.n; i++)
        if (ascii_upper((uint8_t)method.p[i]) != (uint8_t)rule[i]) return 0;
    return 1;
}

static int starts_with(span s, const char *prefix, size_t n) {
    return s.n >= n && (n == 0 || memcmp(s.p, prefix, n) == 0);
}

static int reference_path(span rule, int prefix, span path) {
    int equal = path.n == rule.n && starts_with(path, rule.p, rule.n);
    if (!prefix) return equal;
    if (rule.n == 0) return 1; /* the root prefix: every route, $default included */
    if (equal) return 1;
    /* below it: the rule's path followed by a slash */
    char *parent = malloc(rule.n + 1);
    CHECK(parent != NULL);
    if (rule.n) memcpy(parent, rule.p, rule.n);
    parent[rule.n] = '/';
    int below = starts_with(path, parent, rule.n + 1);
    free(parent);
    return below;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    input in = {data, size};
    uint8_t count_byte = 0;
    take(&in, &count_byte);
    size_t count = count_byte % (MAX_RULES + 1);
    route_table table = {calloc(count ? count : 1, sizeof(route_rule)), 0};
    CHECK(table.rules != NULL);
    const char *rule_methods[MAX_RULES];
    for (size_t i = 0; i < count; i++) {
        uint8_t m = 0, flags = 0, len = 0;
        take(&in, &m);
        take(&in, &flags);
        take(&in, &len);
        route_rule *rule = &table.rules[i];
        table.count++;
        rule_methods[i] = RULE_METHODS[m % (sizeof RULE_METHODS / sizeof RULE_METHODS[0])];
        /* `*` is stored as an empty method, the others as given (upper case) */
        size_t mlen = strcmp(rule_methods[i], "*") == 0 ? 0 : strlen(rule_methods[i]);
        rule->method = (span){exact_copy(rule_methods[i], mlen), mlen};
        rule->path = take_text(&in, len % 16, PATH_CHARS, sizeof PATH_CHARS);
        rule->prefix = flags & 1;
        rule->scopes = calloc(1, sizeof(span));
        CHECK(rule->scopes != NULL);
        rule->scopes[0] = (span){exact_copy("s", 1), 1};
        rule->scope_count = 1;
    }

    uint8_t mlen, plen;
    while (take(&in, &mlen) && take(&in, &plen)) {
        span method = take_text(&in, mlen % 8, METHOD_CHARS, sizeof METHOD_CHARS);
        span path = take_text(&in, plen % 24, PATH_CHARS, sizeof PATH_CHARS);
        const route_rule *expected = NULL;
        for (size_t i = 0; i < table.count && expected == NULL; i++)
            if (reference_method(rule_methods[i], method) &&
                reference_path(table.rules[i].path, table.rules[i].prefix, path))
                expected = &table.rules[i];
        CHECK(route_table_match(&table, method, path) == expected);
        free((char *)method.p);
        free((char *)path.p);
    }
    /* An absent path or method (NULL, empty) is a request like any other. */
    const route_rule *expected = NULL;
    span none = {NULL, 0};
    for (size_t i = 0; i < table.count && expected == NULL; i++)
        if (reference_method(rule_methods[i], none) && reference_path(table.rules[i].path, table.rules[i].prefix, none))
            expected = &table.rules[i];
    CHECK(route_table_match(&table, none, none) == expected);

    route_table_free(&table);
    CHECK(table.rules == NULL && table.count == 0);
    return 0;
}
