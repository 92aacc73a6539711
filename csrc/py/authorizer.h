#ifndef OAUTH_PROXY_AUTHORIZER_H
#define OAUTH_PROXY_AUTHORIZER_H

/* The Authorizer type (oauth_proxy._core.Authorizer, the base of oauth_proxy.OAuthProxy) and the state its
   parts share:
   - authorizer_config.c: the configuration, read once by __init__ into C form and trusted from then on;
   - decision.c: steps 1 to 6 of the decision (decision.h);
   - answers.c: authorize, authenticate, allow and deny, built from a decision (answers.h);
   - authorizer_type.c: the type itself: its slots, the method table, _enable_phantom and the metrics.

   Error convention of the binding (csrc/py): a function returning int gives 0 on success and -1 with a Python
   exception set; one returning PyObject * gives a new reference, or NULL with a Python exception set. A
   function that departs from this (a NULL without an exception, three-way results) says so where it is
   declared. */

#include "python_api.h"
#include "cookie_crypto.h"
#include "event.h"
#include "metrics.h"
#include "phantom.h"
#include "route_scopes.h"
#include "span.h"

typedef struct {
    PyObject_HEAD int ready;
    int configuring; /* __init__ is running: reading the caller's sequences can run Python code */
    /* Which authorizer made an Identity: unique in the process (never reused, unlike an address), so allow()
       refuses an Identity of another instance. Set by __init__; 0 until then. */
    unsigned long long serial;
    cookie_key **keys; /* current key first, then previous keys */
    size_t key_count;
    span *origins; /* owned copies, lower case */
    size_t origin_count;
    span *required_scopes; /* owned copies */
    size_t scope_count;
    char *names_storage; /* backs the three spans of `names` */
    request_names names;
    int allow_token;
    int simple_responses;
    int reads_without_origin; /* REQUIRE_ORIGIN=writes */
    unsigned cookie_formats;  /* COOKIE_FORMAT: COOKIE_V1 and/or COOKIE_V2 */
    int csrf_header_mode;     /* CSRF_MODE=header: token-handler-version replaces the double submit */
    PyObject *context_claims; /* CONTEXT_CLAIMS: tuple of str, the context keys; NULL when unset */
    const char **claim_names; /* their UTF-8, kept alive by the tuple */
    size_t *claim_name_lens;
    size_t claim_count;
    route_table routes;          /* ROUTE_SCOPES; empty when unset */
    PyObject *on_deny;           /* called as on_deny(reason, status, event[, detail]) before every denial */
    phantom *phantom;            /* NULL unless USE_PHANTOM_TOKEN: then step 5 exchanges the token for a JWT */
    authorizer_metrics *metrics; /* NULL unless METRICS=true; updated with the GIL held */
} Authorizer;

/* Creates the Authorizer type (a heap type, subclassable: oauth_proxy.OAuthProxy extends it). */
PyObject *authorizer_type_new(PyObject *module);

/* authorizer_config.c */

/* __init__: reads the keyword arguments (their names and types are oauth_proxy.proxy's interface) into C form. */
int authorizer_configure(Authorizer *self, PyObject *args, PyObject *kwargs);
/* Frees what authorizer_configure made; the authorizer is then unconfigured. Never fails. */
void authorizer_release_config(Authorizer *self);
/* 1 when __init__ has run; else 0 with a RuntimeError set. */
int authorizer_configured(const Authorizer *self);

/* HTTP_API_RESPONSE_FORMAT=simple shapes only payload 2.0 answers; REST APIs always take a policy. */
static inline int authorizer_simple_for(const Authorizer *self, event_format format) {
    return self->simple_responses && format == EVENT_HTTP_V2;
}

#endif
