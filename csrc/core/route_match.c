#include "route_match.h"

#include <stdlib.h>
#include <string.h>

static void free_rule(route_rule *rule) {
    free((char *)rule->method.p);
    free((char *)rule->path.p);
    for (size_t i = 0; i < rule->scope_count; i++) free((char *)rule->scopes[i].p);
    free(rule->scopes);
}

void route_table_free(route_table *table) {
    for (size_t i = 0; i < table->count; i++) free_rule(&table->rules[i]);
    free(table->rules);
    table->rules = NULL;
    table->count = 0;
}

static int same_method(span rule, span method) {
    if (rule.n != method.n) return 0;
    for (size_t i = 0; i < rule.n; i++) {
        unsigned char c = (unsigned char)method.p[i];
        if (c >= 'a' && c <= 'z') c = (unsigned char)(c - 32);
        if (c != (unsigned char)rule.p[i]) return 0;
    }
    return 1;
}

/* memcmp, but an empty range may come with a NULL pointer (an absent path). */
static int same_bytes(const char *a, const char *b, size_t n) { return n == 0 || memcmp(a, b, n) == 0; }

static int path_applies(const route_rule *rule, span path) {
    if (!rule->prefix) return path.n == rule->path.n && same_bytes(path.p, rule->path.p, path.n);
    /* The root prefix (a slash and a star) covers every route, an HTTP API's `$default` (which holds no slash)
       included: a catch-all entry that silently missed the catch-all route would leave it without the scopes
       meant for everything. */
    if (rule->path.n == 0) return 1;
    if (path.n < rule->path.n || !same_bytes(path.p, rule->path.p, rule->path.n)) return 0;
    return path.n == rule->path.n ? rule->path.n > 0 : path.p[rule->path.n] == '/';
}

const route_rule *route_table_match(const route_table *table, span method, span path) {
    for (size_t i = 0; i < table->count; i++) {
        const route_rule *rule = &table->rules[i];
        if ((rule->method.n == 0 || same_method(rule->method, method)) && path_applies(rule, path)) return rule;
    }
    return NULL;
}
