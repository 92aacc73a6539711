#ifndef OAUTH_PROXY_IDENTITY_H
#define OAUTH_PROXY_IDENTITY_H

/* oauth_proxy.Identity: what authenticate() found out about a request, immutable. `scopes` and `claims` are
   made on first access, so a caller that reads neither pays nothing for them. */

#include "python_api.h"

PyObject *identity_type_new(PyObject *module);

/* A new Identity. Borrows the four objects (new references are taken); takes ownership of `scope` (the
   malloc'ed scope claim, or NULL). NULL with an exception on failure, `scope` freed either way. */
PyObject *identity_new(PyObject *token, PyObject *principal, PyObject *source, PyObject *resource, int is_jwt,
                       char *scope, size_t scope_len);

/* The fields allow() reads; NULL with TypeError when `obj` is not an Identity. */
typedef struct {
    PyObject *token, *principal, *resource;
    int is_jwt;
} identity_view;

int identity_view_of(PyObject *obj, identity_view *out);

#endif
