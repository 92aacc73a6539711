#ifndef OAUTH_PROXY_ROUTE_SCOPES_H
#define OAUTH_PROXY_ROUTE_SCOPES_H

/* ROUTE_SCOPES: the scopes a route needs on top of REQUIRED_SCOPES. Config (Python) parses and orders the
   entries; here they are held in C form and the best entry for a request is found. */

#include "python_api.h"
#include "span.h"

typedef struct {
    span method; /* upper case; n == 0 for `*` */
    span path;   /* the whole template, or for a prefix entry the part before its final slash-star ("" for the root) */
    int prefix;
    span *scopes;
    size_t scope_count;
} route_rule;

typedef struct {
    route_rule *rules;
    size_t count;
} route_table;

/* Loads a sequence of (method or "*", path, is_prefix, scopes) tuples, already ordered best first
   (oauth_proxy.config.route_rules). 0, or -1 with a Python exception; route_table_free cleans up either way. */
int route_table_load(PyObject *seq, route_table *out);
void route_table_free(route_table *table);

/* The first (so best) rule for a request, or NULL when none applies. Methods compare ASCII case-insensitively,
   paths exactly. */
const route_rule *route_table_match(const route_table *table, span method, span path);

#endif
