#ifndef OAUTH_PROXY_DECISION_H
#define OAUTH_PROXY_DECISION_H

/* Steps 1 to 6 of the decision, in this order: a bearer token (ALLOW_TOKEN), the Origin, the CSRF double
   submit, the access-token cookie, the phantom token exchange, the scopes. The decision neither logs nor
   answers: answers.c turns it into authorize's response, authenticate's Identity or an exception. */

#include "authorizer.h"
#include "jwt_claims.h"
#include "reasons.h"

typedef struct {
    request req;
    PyObject *resource; /* R, a new reference, once the event was read ("*" when its ARN is unusable) */
    char *token;        /* on DECIDED_ALLOW: the token that goes upstream; wiped on release */
    size_t token_len;
    jwt_claims claims;
    int is_jwt;
    unsigned char *payload; /* with CONTEXT_CLAIMS: the JWT payload `found` points into, else NULL */
    json_member *found;     /* with CONTEXT_CLAIMS: the claims' members, read in the same scan as sub and scope */
    int bearer;             /* the token came from the Authorization header (step 1) */
    int verified;           /* the token's signature was verified against the JWKS */
    const reason *denial;   /* on DECIDED_DENY: why, and so the status (401, 403 or 500) */
    /* With INTROSPECTION_FAILED or JWKS_UNAVAILABLE: an HTTP status or a transport error category for the log
       line; with INVALID_TOKEN: which check refused the token. Never a token, a credential or an endpoint's
       answer (introspect_answer.c, curl_handle.c and jwt_verify.c write it). */
    char detail[128];
} decision;

typedef enum { DECIDED_ALLOW, DECIDED_DENY, DECIDED_ERROR } decision_outcome;

/* DECIDED_ALLOW, DECIDED_DENY (d->denial says why), or DECIDED_ERROR with a Python exception set (out of
   memory, an exception from the event's own objects). Call decision_release afterwards in every case. */
decision_outcome decide(Authorizer *self, PyObject *event, decision *d);
void decision_release(decision *d);

/* P: the JWT's subject where there is one, else a pseudonym of the token that does not reveal it. */
PyObject *decision_principal(const decision *d);

/* R for an event's method or route ARN: the API-wide wildcard, or with ROUTE_SCOPES the ARN itself (so that
   API Gateway's cached answer never opens another route). NULL without an exception when the ARN is malformed
   or, with ROUTE_SCOPES, holds `*` or `?` (IAM wildcards); NULL with an exception when out of memory. */
PyObject *policy_resource(const Authorizer *self, PyObject *arn);

#endif
