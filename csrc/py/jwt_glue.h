#ifndef OAUTH_PROXY_JWT_GLUE_H
#define OAUTH_PROXY_JWT_GLUE_H

/* The binding of verified JWTs (csrc/core/jwt_verify.h): the verifier built from the authorizer's settings,
   with the GIL released while the key set is fetched, and two private functions for the tests and the
   benchmark (the RFC examples and bare verification need one key, not a key set).
   Convention: functions returning a pointer or a PyObject * give NULL with a Python exception set. */

#include "python_api.h"

#include "jwt_verify.h"

/* _enable_jwks(url, timeout_ms, ca_file=None, issuer=None, audiences=(), algorithms=(...), cache_ttl=300,
   cache_size=1024): ValueError for what Config has not already refused. */
jwt_verifier *jwt_glue_verifier(PyObject *args, PyObject *kwargs);

/* _jwk_load(jwk_json) -> an opaque key object; _jws_check(key, token, now, claims) -> "" when the token
   verifies under that key (every algorithm accepted; the claims checked when `claims` is true, with no
   issuer or audience), else the reason. */
PyObject *jwt_glue_jwk_load(PyObject *module, PyObject *arg);
PyObject *jwt_glue_jws_check(PyObject *module, PyObject *args);

#endif
