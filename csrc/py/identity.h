#ifndef OAUTH_PROXY_IDENTITY_H
#define OAUTH_PROXY_IDENTITY_H

/* oauth_proxy.Identity: what authenticate() found out about a request. Immutable (no setters, no __dict__, no
   subclasses, and the type itself cannot be changed), and made only here: so allow() can trust what it holds,
   including which authorizer made it and for which request. `scopes` and `claims` are made on first access,
   so a caller that reads neither pays nothing for them.
   Functions returning PyObject * give a new reference or NULL with a Python exception set; int: 0 or -1 with
   a Python exception set. */

#include "python_api.h"

PyObject *identity_type_new(PyObject *module);

/* What an Identity holds, apart from its scope claim. */
typedef struct {
    PyObject *token, *principal, *source, *resource;
    PyObject *arn;               /* the method or route ARN of the event it was made for */
    unsigned long long producer; /* the serial of the authorizer that made it (never 0) */
    int is_jwt;
} identity_fields;

/* A new Identity. Borrows the objects of `fields` (new references are taken); takes ownership of `scope` (the
   malloc'ed scope claim, or NULL), which is freed on failure too. */
PyObject *identity_new(const identity_fields *fields, char *scope, size_t scope_len);

/* The fields of an Identity, borrowed from it; -1 with TypeError when `obj` is not an Identity. */
int identity_fields_of(PyObject *obj, identity_fields *out);

#endif
