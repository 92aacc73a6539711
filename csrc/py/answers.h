#ifndef OAUTH_PROXY_ANSWERS_H
#define OAUTH_PROXY_ANSWERS_H

/* The Authorizer's methods that answer a request: authorize (the whole decision and its response),
   authenticate (the decision as an Identity), and the response builders allow and deny. Every denial is
   reported once, before its answer: to on_deny (the log line) and to the metrics. */

#include "authorizer.h"

/* authorize(event) -> dict; raises Unauthorized (401) or IntrospectionError (500). */
PyObject *answer_authorize(Authorizer *self, PyObject *event);
/* authenticate(event) -> Identity; raises Forbidden (403), Unauthorized (401) or IntrospectionError (500). */
PyObject *answer_authenticate(Authorizer *self, PyObject *event);
/* allow(event, identity, context=None) -> dict (METH_FASTCALL | METH_KEYWORDS). */
PyObject *answer_allow(Authorizer *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);
/* deny(event, reason=None) -> dict (METH_FASTCALL | METH_KEYWORDS). */
PyObject *answer_deny(Authorizer *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames);

#endif
