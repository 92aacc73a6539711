#ifndef OAUTH_PROXY_REQUEST_CHECKS_H
#define OAUTH_PROXY_REQUEST_CHECKS_H

/* The small string rules of the decision: origin, CSRF, method, bearer header and scopes.
   Convention of this file: every function is a predicate, 1 (yes) or 0 (no); nothing fails. */

#include <stddef.h>

#include "span.h"

/* 1 when `origin` equals one of `trusted` ignoring ASCII case (origins are not secret). */
int origin_is_trusted(span origin, const span *trusted, size_t count);

/* 1 when the header equals the cookie's plaintext, compared in constant time for equal lengths. */
int csrf_matches(span header, const char *plain, size_t plain_len);

/* 1 unless the method is GET, HEAD or OPTIONS (any case): failing closed, every other method is treated
   as data-changing and needs the CSRF double submit. */
int method_needs_csrf(span method);

/* 1 for OPTIONS (any case): the CORS pre-flight, which CSRF_MODE=header lets through without the header. */
int method_is_options(span method);

/* 1 when the token-handler-version header holds exactly "1", the one version there is. */
int handler_version_ok(span value);

/* Finds the token of `Authorization: Bearer <token>` (scheme in any case, RFC 6750 b64token syntax,
   surrounding blanks dropped). Returns 1 and sets *token, or 0. */
int bearer_token(span header, span *token);

/* 1 when every required scope is a word of the space-separated `granted` list (exact words). */
int scopes_granted(const char *granted, size_t granted_len, const span *required, size_t count);

#endif
