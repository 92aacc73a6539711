#ifndef OAUTH_PROXY_CONTEXT_VALUES_H
#define OAUTH_PROXY_CONTEXT_VALUES_H

#include "python_api.h"
#include "jwt_claims.h"

/* A CONTEXT_CLAIMS member as an authorizer context value: str, int, float or bool (a new reference); NULL
   without an exception for any other JSON type, and for a number Python cannot hold (a float that
   overflows, an int past the digit limit); NULL with an exception when out of memory. */
PyObject *context_value_of_claim(const json_member *m);

/* Adds the caller's own entries (a mapping) to response["context"]: keys exactly str (no subclass),
   str/int/float/bool values, finite floats, and never "token" (ours: the upstream Authorization header). 0, or
   -1 with a TypeError or ValueError naming the key (never showing the value, which may be a secret). */
int context_add_entries(PyObject *response, PyObject *extra);

#endif
