#ifndef OAUTH_PROXY_ROUTE_MATCH_H
#define OAUTH_PROXY_ROUTE_MATCH_H

/* ROUTE_SCOPES in C form: the scopes a route needs on top of REQUIRED_SCOPES, as rules ordered best first, and
 * the search for the best rule that applies to a request. The configuration layer parses and orders the
 * entries (oauth_proxy.config); the binding loads them (csrc/py/route_scopes.h).
 *
 * Convention of this file: nothing here fails; a search that finds nothing returns NULL. */

#include <stddef.h>

#include "span.h"

typedef struct {
    span method; /* upper case; n == 0 for `*` */
    span path;   /* the whole template, or for a prefix entry the part before its final slash-star ("" for the root) */
    int prefix;
    span *scopes;
    size_t scope_count;
} route_rule;

/* Every string of every rule, and the arrays, are malloc'ed and owned by the table. */
typedef struct {
    route_rule *rules;
    size_t count;
} route_table;

/* Frees what the table owns and leaves it empty; a half-built table (count covers a rule whose strings are
 * partly NULL) is freed as well. */
void route_table_free(route_table *table);

/* The first (so best) rule for a request, or NULL when none applies. Methods compare ASCII case-insensitively,
 * paths exactly. A prefix rule for /orders covers /orders and what lies below it (/orders/7), never /ordersX;
 * a prefix rule for the root ("") covers every path that starts with a slash. */
const route_rule *route_table_match(const route_table *table, span method, span path);

#endif
