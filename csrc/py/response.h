#ifndef OAUTH_PROXY_RESPONSE_H
#define OAUTH_PROXY_RESPONSE_H

/* The authorizer's answers, shaped as API Gateway expects them: an IAM policy (REST, HTTP API "iam") or the
   simple {"isAuthorized": ...} form (HTTP API "simple"), with the token in the allow's context. */

#include "python_api.h"

/* The API-wide wildcard of a method or route ARN:
   arn:<partition>:execute-api:<region>:<account>:<api>/<stage>/<rest> becomes the same ARN ending in
   <api>/<stage>/ followed by an asterisk.
   A new reference, or NULL without an exception when the ARN is malformed (the caller then uses "*"),
   or NULL with an exception when out of memory. */
PyObject *resource_wildcard(PyObject *arn);

/* `token` is UTF-8 (the caller validated it). New references, NULL with an exception on failure. */
PyObject *allow_response(int simple, PyObject *principal, PyObject *resource, const char *token, size_t token_len);
PyObject *deny_response(int simple, PyObject *resource);

#endif
