#ifndef OAUTH_PROXY_ROUTE_SCOPES_H
#define OAUTH_PROXY_ROUTE_SCOPES_H

/* ROUTE_SCOPES from Python: the configuration's ordered rules loaded into the C table that
 * csrc/core/route_match.h searches.
 *
 * Convention of this file: 0, or -1 with a Python exception set. */

#include "python_api.h"
#include "route_match.h"

/* Loads a sequence of (method or "*", path, is_prefix, scopes) tuples, already ordered best first
   (oauth_proxy.config.route_rules). route_table_free cleans up after either outcome. */
int route_table_load(PyObject *seq, route_table *out);

#endif
