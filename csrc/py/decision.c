#include "decision.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "module_state.h"
#include "request_checks.h"
#include "response.h"
#include "token_digest.h"

enum { FOUND = 1, NOT_FOUND = 0, NO_MEMORY = -1 };

/* Tries every occurrence of a cookie in order, each with the current key and then the previous ones.
   FOUND, NOT_FOUND, or NO_MEMORY with MemoryError set. */
static int decrypt_first(const Authorizer *self, const request *req, span name, char **plain, size_t *plain_len) {
    cookie_iter it;
    span value;
    cookie_iter_init(&it, req);
    while (cookie_iter_next(&it, name, &value)) {
        for (size_t k = 0; k < self->key_count; k++) {
            int rc = cookie_decrypt(self->keys[k], self->cookie_formats, value.p, value.n, plain, plain_len);
            if (rc == COOKIE_OK) return FOUND;
            if (rc == COOKIE_NO_MEMORY) {
                PyErr_NoMemory();
                return NO_MEMORY;
            }
        }
    }
    return NOT_FOUND;
}

/* Steps 2 to 4: origin, CSRF (double submit, or the custom header), access-token cookie. The reason of a
   denial; or NULL with *token set when the request passes; or NULL with a Python exception set. */
static const reason *check_cookies(const Authorizer *self, const request *req, char **token, size_t *token_len) {
    if (req->origin.state == HEADER_ABSENT) {
        /* REQUIRE_ORIGIN=writes: browsers send no Origin on same-origin GET and HEAD; such reads go on to the
           cookie (SameSite keeps it off cross-site requests), writes never do. */
        if (!self->reads_without_origin || method_needs_csrf(req->method)) return REASON(MISSING_ORIGIN);
    } else if (req->origin.state == HEADER_AMBIGUOUS ||
               !origin_is_trusted(req->origin.value, self->origins, self->origin_count)) {
        return REASON(UNTRUSTED_ORIGIN);
    }
    if (self->csrf_header_mode) {
        /* A pre-flight is where the browser asks permission to send the header, so it cannot carry it. */
        if (!method_is_options(req->method)) {
            if (req->csrf_header.state == HEADER_ABSENT) return REASON(CSRF_HEADER_MISSING);
            if (req->csrf_header.state != HEADER_ONE || !handler_version_ok(req->csrf_header.value))
                return REASON(CSRF_MISMATCH);
        }
    } else if (method_needs_csrf(req->method)) {
        if (req->csrf_count == 0) return REASON(CSRF_COOKIE_MISSING);
        if (req->csrf_header.state == HEADER_ABSENT) return REASON(CSRF_HEADER_MISSING);
        char *csrf = NULL;
        size_t csrf_len = 0;
        int rc = decrypt_first(self, req, self->names.csrf_cookie, &csrf, &csrf_len);
        if (rc == NO_MEMORY) return NULL;
        if (rc == NOT_FOUND) return REASON(CSRF_DECRYPT_FAILED);
        int matches = req->csrf_header.state == HEADER_ONE && csrf_matches(req->csrf_header.value, csrf, csrf_len);
        cookie_plain_free(csrf, csrf_len);
        if (!matches) return REASON(CSRF_MISMATCH);
    }
    if (req->at_count == 0) return REASON(AT_COOKIE_MISSING);
    int rc = decrypt_first(self, req, self->names.at_cookie, token, token_len);
    if (rc == NO_MEMORY) return NULL;
    if (rc == NOT_FOUND) return REASON(AT_DECRYPT_FAILED);
    return NULL;
}

/* A NUL-terminated copy, NULL when out of memory (no exception set). */
static char *copy_secret(span s) {
    char *copy = malloc(s.n + 1);
    if (copy == NULL) return NULL;
    memcpy(copy, s.p, s.n);
    copy[s.n] = '\0';
    return copy;
}

/* Does the ARN hold a character IAM reads as a wildcard? A lone surrogate counts as unusable too. */
static int holds_wildcard(PyObject *arn) {
    Py_ssize_t len = 0;
    const char *s = PyUnicode_AsUTF8AndSize(arn, &len);
    if (s == NULL) {
        PyErr_Clear();
        return 1;
    }
    return memchr(s, '*', (size_t)len) != NULL || memchr(s, '?', (size_t)len) != NULL;
}

PyObject *policy_resource(const Authorizer *self, PyObject *arn) {
    PyObject *wildcard = resource_wildcard(arn);
    if (wildcard == NULL || self->routes.count == 0) return wildcard;
    Py_DECREF(wildcard);
    /* The request's own ARN becomes the policy's Resource, where API Gateway reads `*` and `?` as wildcards:
       from a request that holds one, a (cached) Allow would cover other routes than the one whose scopes were
       checked. No usable resource, so the request is a bad event. */
    if (holds_wildcard(arn)) return NULL;
    Py_INCREF(arn);
    return arn;
}

static decision_outcome denied(decision *d, const reason *why) {
    d->denial = why;
    return DECIDED_DENY;
}

/* With JWKS_URL: the token must verify. DECIDED_ALLOW to go on, or the decision (401 INVALID_TOKEN, 500
   JWKS_UNAVAILABLE when no key set could ever be had). A fetch of the key set runs without the GIL. */
static decision_outcome verify_token(Authorizer *self, decision *d) {
    jwt_verdict verdict =
        jwt_verifier_check(self->jwt, d->token, d->token_len, time(NULL), d->detail, sizeof d->detail);
    if (verdict == JWT_INVALID) return denied(d, REASON(INVALID_TOKEN));
    if (verdict == JWT_KEYS_UNAVAILABLE) return denied(d, REASON(JWKS_UNAVAILABLE));
    d->verified = 1;
    return DECIDED_ALLOW;
}

/* Step 5: the opaque token is swapped for the JWT behind it, whose claims come parsed with it (once, when the
   JWT came in; a cache hit does not parse it again). */
static decision_outcome exchange_phantom(Authorizer *self, decision *d) {
    char *jwt = NULL;
    size_t jwt_len = 0;
    d->detail[0] = '\0';
    phantom_result exchanged = phantom_exchange_detail(self->phantom, d->token, d->token_len, &jwt, &jwt_len,
                                                       &d->claims, d->detail, sizeof d->detail);
    if (exchanged == PHANTOM_INACTIVE) return denied(d, REASON(TOKEN_INACTIVE));
    if (exchanged == PHANTOM_FAILED) return denied(d, REASON(INTROSPECTION_FAILED));
    cookie_plain_free(d->token, d->token_len);
    d->token = jwt;
    d->token_len = jwt_len;
    d->is_jwt = 1;
    d->verified = 0; /* a new token: the endpoint's JWT is verified in its own right */
    return self->jwt != NULL ? verify_token(self, d) : DECIDED_ALLOW;
}

/* Step 6: REQUIRED_SCOPES, and the best ROUTE_SCOPES entry for the request's route. The token's claims are read
   here unless the exchange brought them; with CONTEXT_CLAIMS, in the same scan as sub and scope. */
static decision_outcome check_scopes(Authorizer *self, decision *d, int have_claims) {
    if (!have_claims && self->claim_count > 0) {
        d->found = calloc(self->claim_count, sizeof *d->found);
        if (d->found == NULL) {
            PyErr_NoMemory();
            return DECIDED_ERROR;
        }
        json_wanted want = {self->claim_names, self->claim_name_lens, self->claim_count, d->found};
        d->is_jwt = jwt_claims_parse_wanted(d->token, d->token_len, &d->claims, &want, &d->payload) == 0;
    } else if (!have_claims) {
        d->is_jwt = jwt_claims_parse(d->token, d->token_len, &d->claims) == 0;
    }
    const route_rule *rule =
        self->routes.count > 0 ? route_table_match(&self->routes, d->req.method, d->req.route) : NULL;
    if (self->scope_count > 0 || rule != NULL) {
        int granted =
            d->is_jwt && d->claims.scope != NULL &&
            scopes_granted(d->claims.scope, d->claims.scope_len, self->required_scopes, self->scope_count) &&
            (rule == NULL || scopes_granted(d->claims.scope, d->claims.scope_len, rule->scopes, rule->scope_count));
        if (!granted) return denied(d, REASON(INSUFFICIENT_SCOPE));
    }
    return DECIDED_ALLOW;
}

decision_outcome decide(Authorizer *self, PyObject *event, decision *d) {
    /* Field by field: request_read initialises d->req itself, and zeroing it twice shows on the hot path. */
    d->resource = NULL;
    d->token = NULL;
    d->token_len = 0;
    memset(&d->claims, 0, sizeof d->claims);
    d->is_jwt = d->bearer = d->verified = 0;
    d->detail[0] = '\0';
    d->payload = NULL;
    d->found = NULL;
    d->denial = NULL;
    int rc = request_read(event, &self->names, &d->req);
    if (rc == REQUEST_PY_ERROR) return DECIDED_ERROR;
    if (d->req.arn != NULL && (d->resource = policy_resource(self, d->req.arn)) == NULL && PyErr_Occurred())
        return DECIDED_ERROR;
    if (d->resource == NULL) {
        /* No usable ARN: the Deny covers everything rather than a guess. */
        rc = REQUEST_BAD;
        d->resource = g.s_any_resource;
        Py_INCREF(d->resource);
    }
    if (rc == REQUEST_BAD) return denied(d, REASON(BAD_EVENT));

    span bearer;
    if (self->allow_token && d->req.authorization.state == HEADER_ONE &&
        bearer_token(d->req.authorization.value, &bearer)) {
        /* Step 1: a caller that already holds a token (a back end, a test client) skips steps 2 to 4. */
        if ((d->token = copy_secret(bearer)) == NULL) {
            PyErr_NoMemory();
            return DECIDED_ERROR;
        }
        d->token_len = bearer.n;
        d->bearer = 1;
    } else {
        const reason *why = check_cookies(self, &d->req, &d->token, &d->token_len);
        if (why != NULL) return denied(d, why);
        if (d->token == NULL) return DECIDED_ERROR;
    }
    /* With JWKS_URL, a bearer token must be a JWS that verifies; a cookie token only when it has the form of
       one (an opaque one goes on to the exchange, or upstream). */
    if (self->jwt != NULL && (d->bearer || jws_shaped(d->token, d->token_len))) {
        decision_outcome verified = verify_token(self, d);
        if (verified != DECIDED_ALLOW) return verified;
    }

    int have_claims = 0;
    if (self->phantom != NULL) {
        decision_outcome exchanged = exchange_phantom(self, d);
        if (exchanged != DECIDED_ALLOW) return exchanged;
        have_claims = 1;
    }
    return check_scopes(self, d, have_claims);
}

void decision_release(decision *d) {
    jwt_claims_clear(&d->claims);
    free(d->payload);
    free(d->found);
    cookie_plain_free(d->token, d->token_len);
    Py_XDECREF(d->resource);
    request_release(&d->req);
}

/* The principal of an opaque token: stable, and useless for recovering the token. */
static PyObject *pseudonym(const char *token, size_t len) {
    static const char hexdigits[] = "0123456789abcdef";
    unsigned char digest[TOKEN_DIGEST_BYTES];
    char text[7 + 32] = "sha256:";
    if (token_digest(token, len, digest) != 0) {
        PyErr_SetString(PyExc_MemoryError, "OpenSSL could not hash the token");
        return NULL;
    }
    for (int i = 0; i < 16; i++) {
        text[7 + 2 * i] = hexdigits[digest[i] >> 4];
        text[8 + 2 * i] = hexdigits[digest[i] & 15];
    }
    return PyUnicode_FromStringAndSize(text, sizeof text);
}

PyObject *decision_principal(const decision *d) {
    if (d->is_jwt && d->claims.sub != NULL && d->claims.sub_len > 0)
        return PyUnicode_DecodeUTF8(d->claims.sub, (Py_ssize_t)d->claims.sub_len, "strict");
    return pseudonym(d->token, d->token_len);
}
