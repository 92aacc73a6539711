/* The Authorizer type: configuration held in C form, the decision of contract sections 5 and 6, and the
   answers built from it (authorize, authenticate, allow, deny). */
#include "authorizer.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "context_values.h"
#include "cookie_crypto.h"
#include "event.h"
#include "identity.h"
#include "jwt_claims.h"
#include "metrics.h"
#include "module_state.h"
#include "phantom.h"
#include "phantom_glue.h"
#include "request_checks.h"
#include "response.h"
#include "route_scopes.h"
#include "token_digest.h"

typedef struct {
    PyObject_HEAD
    int ready;
    int configuring; /* __init__ is running: reading the caller's sequences can run Python code */
    cookie_key **keys; /* current key first, then previous keys */
    size_t key_count;
    span *origins; /* owned copies */
    size_t origin_count;
    span *required_scopes; /* owned copies */
    size_t scope_count;
    char *names_storage; /* backs the three spans of `names` */
    request_names names;
    int allow_token;
    int simple_responses;
    int reads_without_origin; /* REQUIRE_ORIGIN=writes */
    PyObject *context_claims;  /* CONTEXT_CLAIMS: tuple of str, the context keys; NULL when unset */
    const char **claim_names;  /* their UTF-8, kept alive by the tuple */
    size_t *claim_name_lens;
    size_t claim_count;
    route_table routes; /* ROUTE_SCOPES; empty when unset */
    PyObject *on_deny; /* called as on_deny(reason, status, event[, detail]) before every denial */
    phantom *phantom;  /* NULL unless USE_PHANTOM_TOKEN: then step 5 exchanges the token for a JWT */
    authorizer_metrics *metrics; /* NULL unless METRICS=true; updated with the GIL held */
} Authorizer;

static void free_spans(span *spans, size_t count) {
    for (size_t i = 0; i < count; i++) free((char *)spans[i].p);
    free(spans);
}

static void release_config(Authorizer *self) {
    for (size_t i = 0; i < self->key_count; i++) cookie_key_free(self->keys[i]);
    free(self->keys);
    free_spans(self->origins, self->origin_count);
    free_spans(self->required_scopes, self->scope_count);
    free(self->names_storage);
    phantom_free(self->phantom);
    self->phantom = NULL;
    free(self->metrics);
    self->metrics = NULL;
    route_table_free(&self->routes);
    free(self->claim_names);
    free(self->claim_name_lens);
    self->claim_names = NULL;
    self->claim_name_lens = NULL;
    self->claim_count = 0;
    Py_CLEAR(self->context_claims);
    self->keys = NULL;
    self->origins = self->required_scopes = NULL;
    self->names_storage = NULL;
    self->key_count = self->origin_count = self->scope_count = 0;
    self->ready = 0;
}

/* Copies a sequence of non-empty str into owned spans; `lower` folds ASCII case. */
static int copy_strings(PyObject *seq, const char *what, int lower, span **out, size_t *count) {
    Py_ssize_t n = PySequence_Size(seq);
    if (n < 0) return -1;
    *out = calloc(n ? (size_t)n : 1, sizeof **out);
    if (*out == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    *count = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_GetItem(seq, i);
        if (item == NULL) return -1;
        Py_ssize_t len = 0;
        const char *s = PyUnicode_Check(item) ? PyUnicode_AsUTF8AndSize(item, &len) : NULL;
        if (s == NULL || len == 0) {
            Py_DECREF(item);
            if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_UnicodeError)) {
                PyErr_Clear();
                PyErr_Format(PyExc_ValueError, "%s: item %zd is not a non-empty string", what, i + 1);
            }
            return -1;
        }
        char *copy = malloc((size_t)len + 1);
        if (copy == NULL) {
            Py_DECREF(item);
            PyErr_NoMemory();
            return -1;
        }
        for (Py_ssize_t k = 0; k < len; k++) {
            char c = s[k];
            copy[k] = (lower && c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
        }
        copy[len] = '\0';
        Py_DECREF(item);
        (*out)[*count].p = copy;
        (*out)[*count].n = (size_t)len;
        (*count)++;
    }
    return 0;
}

static int load_keys(Authorizer *self, PyObject *seq) {
    Py_ssize_t n = PySequence_Size(seq);
    if (n < 0) return -1;
    if (n == 0) {
        PyErr_SetString(PyExc_ValueError, "at least one encryption key is required");
        return -1;
    }
    self->keys = calloc((size_t)n, sizeof *self->keys);
    if (self->keys == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char raw[COOKIE_KEY_BYTES];
        PyObject *item = PySequence_GetItem(seq, i);
        if (item == NULL) return -1;
        Py_ssize_t len = 0;
        const char *hex = PyUnicode_Check(item) ? PyUnicode_AsUTF8AndSize(item, &len) : NULL;
        int parsed = hex != NULL && cookie_key_parse_hex(hex, (size_t)len, raw) == 0;
        Py_DECREF(item);
        if (!parsed) {
            PyErr_Clear();
            /* The value itself never goes into the message. */
            PyErr_Format(PyExc_ValueError, "encryption key %zd is not 64 hexadecimal characters", i + 1);
            return -1;
        }
        self->keys[i] = cookie_key_new(raw);
        OPENSSL_cleanse(raw, sizeof raw);
        if (self->keys[i] == NULL) {
            PyErr_SetString(PyExc_MemoryError, "OpenSSL could not set up AES-256-GCM");
            return -1;
        }
        self->key_count++;
    }
    return 0;
}

static int is_cookie_name_char(unsigned char c) {
    /* RFC 6265 cookie-name = token (RFC 7230 tchar) */
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int load_names(Authorizer *self, PyObject *prefix_obj) {
    Py_ssize_t n = 0;
    const char *prefix = PyUnicode_Check(prefix_obj) ? PyUnicode_AsUTF8AndSize(prefix_obj, &n) : NULL;
    int valid = prefix != NULL && n >= 1 && n <= 64;
    for (Py_ssize_t i = 0; valid && i < n; i++) valid = is_cookie_name_char((unsigned char)prefix[i]);
    if (!valid) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "cookie name prefix must be 1 to 64 cookie-name characters");
        return -1;
    }
    size_t len = (size_t)n;
    /* "<p>-at\0<p>-csrf\0x-<p>-csrf\0" */
    self->names_storage = malloc(3 * len + 20);
    if (self->names_storage == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    char *at = self->names_storage, *csrf = at + len + 4, *header = csrf + len + 6;
    memcpy(at, prefix, len);
    memcpy(at + len, "-at", 4);
    memcpy(csrf, prefix, len);
    memcpy(csrf + len, "-csrf", 6);
    memcpy(header, "x-", 2);
    for (size_t i = 0; i < len; i++) {
        char c = prefix[i];
        header[2 + i] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    memcpy(header + 2 + len, "-csrf", 6);
    self->names.at_cookie = (span){at, len + 3};
    self->names.csrf_cookie = (span){csrf, len + 5};
    self->names.csrf_header = (span){header, len + 7};
    return 0;
}

/* CONTEXT_CLAIMS: the names, kept as str (the context's keys) and as UTF-8 (what the JSON scan compares). */
static int load_context_claims(Authorizer *self, PyObject *names) {
    PyObject *tuple = PySequence_Tuple(names);
    if (tuple == NULL) return -1;
    Py_ssize_t n = PyTuple_Size(tuple);
    if (n == 0) {
        Py_DECREF(tuple);
        return 0;
    }
    self->context_claims = tuple;
    self->claim_names = calloc((size_t)n, sizeof *self->claim_names);
    self->claim_name_lens = calloc((size_t)n, sizeof *self->claim_name_lens);
    if (self->claim_names == NULL || self->claim_name_lens == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *name = PyTuple_GetItem(tuple, i);
        Py_ssize_t len = 0;
        const char *utf8 = name != NULL && PyUnicode_Check(name) ? PyUnicode_AsUTF8AndSize(name, &len) : NULL;
        if (utf8 == NULL || len == 0 || PyUnicode_Compare(name, g.s_token) == 0) {
            PyErr_Clear();
            PyErr_Format(PyExc_ValueError, "context claims: item %zd is not a non-empty string other than \"token\"",
                         i + 1);
            return -1;
        }
        self->claim_names[i] = utf8;
        self->claim_name_lens[i] = (size_t)len;
    }
    self->claim_count = (size_t)n;
    return 0;
}

static int Authorizer_init(Authorizer *self, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"trusted_origins", "cookie_name_prefix", "keys", "allow_token",
                               "required_scopes", "simple_responses", "on_deny", "reads_without_origin",
                               "context_claims", "route_scopes", NULL};
    PyObject *origins, *prefix, *keys, *scopes, *on_deny, *claims = NULL, *routes = NULL;
    int allow_token, simple, reads_without_origin = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOpOpO|$pOO:Authorizer", keywords, &origins, &prefix, &keys,
                                     &allow_token, &scopes, &simple, &on_deny, &reads_without_origin, &claims,
                                     &routes))
        return -1;
    if (self->ready || self->configuring) {
        /* Re-configuring a live authorizer would free keys another thread may be using; re-entering from
           Python code run by the sequences below would replace arrays this call is still filling. */
        PyErr_SetString(PyExc_TypeError, "an Authorizer is configured once; make a new one instead");
        return -1;
    }
    if (!PyCallable_Check(on_deny)) {
        PyErr_SetString(PyExc_TypeError, "on_deny must be callable");
        return -1;
    }
    self->configuring = 1;
    if (load_keys(self, keys) < 0 || load_names(self, prefix) < 0 ||
        copy_strings(origins, "trusted origins", 1, &self->origins, &self->origin_count) < 0 ||
        copy_strings(scopes, "required scopes", 0, &self->required_scopes, &self->scope_count) < 0 ||
        (claims != NULL && load_context_claims(self, claims) < 0) ||
        (routes != NULL && route_table_load(routes, &self->routes) < 0))
        goto fail;
    self->names.read_route = self->routes.count > 0;
    if (self->origin_count == 0) {
        PyErr_SetString(PyExc_ValueError, "at least one trusted origin is required");
        goto fail;
    }
    self->allow_token = allow_token;
    self->simple_responses = simple;
    self->reads_without_origin = reads_without_origin;
    Py_INCREF(on_deny);
    self->on_deny = on_deny;
    self->configuring = 0;
    self->ready = 1;
    return 0;
fail:
    release_config(self);
    self->configuring = 0;
    return -1;
}

/* ---- the decision ---------------------------------------------------------------------------------- */

enum { FOUND = 1, NOT_FOUND = 0, NO_MEMORY = -1 };

/* Tries every occurrence of a cookie in order, each with the current key and then the previous ones. */
static int decrypt_first(Authorizer *self, const request *req, span name, char **plain, size_t *plain_len) {
    cookie_iter it;
    span value;
    cookie_iter_init(&it, req);
    while (cookie_iter_next(&it, name, &value)) {
        for (size_t k = 0; k < self->key_count; k++) {
            int rc = cookie_decrypt(self->keys[k], value.p, value.n, plain, plain_len);
            if (rc == COOKIE_OK) return FOUND;
            if (rc == COOKIE_NO_MEMORY) {
                PyErr_NoMemory();
                return NO_MEMORY;
            }
        }
    }
    return NOT_FOUND;
}

/* detail, when not NULL, is passed as a fourth argument: a short text that never holds a secret. */
static void report_denial_detail(Authorizer *self, const char *reason, int status, PyObject *event,
                                 const char *detail) {
    if (self->metrics != NULL) metrics_denied(self->metrics, reason);
    PyObject *result = detail != NULL
                           ? PyObject_CallFunction(self->on_deny, "siOs", reason, status, event, detail)
                           : PyObject_CallFunction(self->on_deny, "siO", reason, status, event);
    if (result == NULL) PyErr_WriteUnraisable(self->on_deny); /* a broken log must not change the outcome */
    Py_XDECREF(result);
}

static void report_denial(Authorizer *self, const char *reason, int status, PyObject *event) {
    report_denial_detail(self, reason, status, event, NULL);
}

/* HTTP_API_RESPONSE_FORMAT=simple shapes only payload 2.0 answers; REST APIs always take a policy. */
static int simple_for(const Authorizer *self, const request *req) { return self->simple_responses && req->v2; }

/* Raises `type` with the contract's message and the denial's reason code as .reason (.status is a class
   attribute). */
static PyObject *raise_denial(PyObject *type, PyObject *message, const char *reason) {
    PyObject *error = PyObject_CallFunctionObjArgs(type, message, NULL);
    if (error == NULL) return NULL;
    PyObject *code = PyUnicode_FromString(reason);
    if (code == NULL || PyObject_SetAttr(error, g.s_reason, code) < 0) {
        Py_XDECREF(code);
        Py_DECREF(error);
        return NULL;
    }
    Py_DECREF(code);
    PyErr_SetObject(type, error);
    Py_DECREF(error);
    return NULL;
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

/* Steps 2 to 4: origin, CSRF double submit, access-token cookie. Returns the reason of a denial (with its
   status), NULL with *token set when the request passes, or NULL with a Python error set. */
static const char *check_cookies(Authorizer *self, const request *req, int *status, char **token, size_t *token_len) {
    *status = 403;
    if (req->origin.state == HEADER_ABSENT) {
        /* REQUIRE_ORIGIN=writes: browsers send no Origin on same-origin GET and HEAD; such reads go on to the
           cookie (SameSite keeps it off cross-site requests), writes never do. */
        if (!self->reads_without_origin || method_needs_csrf(req->method)) return "missing_origin";
    } else if (req->origin.state == HEADER_AMBIGUOUS ||
               !origin_is_trusted(req->origin.value, self->origins, self->origin_count)) {
        return "untrusted_origin";
    }
    if (method_needs_csrf(req->method)) {
        if (req->csrf_count == 0) return "csrf_cookie_missing";
        if (req->csrf_header.state == HEADER_ABSENT) return "csrf_header_missing";
        char *csrf = NULL;
        size_t csrf_len = 0;
        int rc = decrypt_first(self, req, self->names.csrf_cookie, &csrf, &csrf_len);
        if (rc == NO_MEMORY) return NULL;
        if (rc == NOT_FOUND) return "csrf_decrypt_failed";
        int matches = req->csrf_header.state == HEADER_ONE && csrf_matches(req->csrf_header.value, csrf, csrf_len);
        cookie_plain_free(csrf, csrf_len);
        if (!matches) return "csrf_mismatch";
    }
    *status = 401;
    if (req->at_count == 0) return "at_cookie_missing";
    int rc = decrypt_first(self, req, self->names.at_cookie, token, token_len);
    if (rc == NO_MEMORY) return NULL;
    if (rc == NOT_FOUND) return "at_decrypt_failed";
    return NULL;
}

static char *copy_secret(span s) {
    char *copy = malloc(s.n + 1);
    if (copy == NULL) return NULL;
    memcpy(copy, s.p, s.n);
    copy[s.n] = '\0';
    return copy;
}

/* R of the contract: the API-wide wildcard, or with ROUTE_SCOPES the request's own ARN, so that a cached
   answer never opens another route. NULL without an exception when the ARN is malformed. */
static PyObject *resource_for(const Authorizer *self, PyObject *arn) {
    PyObject *wildcard = resource_wildcard(arn);
    if (wildcard == NULL || self->routes.count == 0) return wildcard;
    Py_DECREF(wildcard);
    Py_INCREF(arn);
    return arn;
}

/* What steps 1 to 6 decided; authorize and authenticate each turn it into their own answer. */
typedef struct {
    request req;
    PyObject *resource; /* R, a new reference, once the event was read */
    char *token;        /* on DECIDED_ALLOW: the token that goes upstream; wiped on release */
    size_t token_len;
    jwt_claims claims;
    int is_jwt;
    unsigned char *payload; /* with CONTEXT_CLAIMS: the JWT payload `found` points into, else NULL */
    json_member *found;     /* with CONTEXT_CLAIMS: the claims' members, read in the same scan as sub and scope */
    int bearer;         /* the token came from the Authorization header (step 1) */
    const char *reason; /* on DECIDED_DENY: the reason code, and its status (401 or 403) */
    int status;
} decision;

enum { DECIDED_ALLOW, DECIDED_DENY, DECIDED_ERROR };

static int denied(decision *d, const char *reason, int status) {
    d->reason = reason;
    d->status = status;
    return DECIDED_DENY;
}

/* The 500 is reported here, the other denials by the caller (after the decision, as before the refactor). */
static int decide(Authorizer *self, PyObject *event, decision *d) {
    /* Field by field: request_read initialises d->req itself, and zeroing it twice shows on the hot path. */
    d->resource = NULL;
    d->token = NULL;
    d->token_len = 0;
    memset(&d->claims, 0, sizeof d->claims);
    d->is_jwt = d->bearer = d->status = 0;
    d->payload = NULL;
    d->found = NULL;
    d->reason = NULL;
    int rc = request_read(event, &self->names, &d->req);
    if (rc == REQUEST_PY_ERROR) return DECIDED_ERROR;
    if (d->req.arn != NULL && (d->resource = resource_for(self, d->req.arn)) == NULL && PyErr_Occurred())
        return DECIDED_ERROR;
    if (d->resource == NULL) {
        rc = REQUEST_BAD;
        d->resource = g.s_any_resource;
        Py_INCREF(d->resource);
    }
    if (rc == REQUEST_BAD) return denied(d, "bad_event", 403);

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
        int status;
        const char *reason = check_cookies(self, &d->req, &status, &d->token, &d->token_len);
        if (reason != NULL) return denied(d, reason, status);
        if (d->token == NULL) return DECIDED_ERROR;
    }

    /* Step 5: the opaque token is swapped for the JWT behind it. */
    int have_claims = 0;
    if (self->phantom != NULL) {
        char *jwt = NULL, detail[128];
        size_t jwt_len = 0;
        phantom_result exchanged = phantom_exchange_detail(self->phantom, d->token, d->token_len, &jwt, &jwt_len,
                                                           &d->claims, detail, sizeof detail);
        if (exchanged == PHANTOM_INACTIVE) return denied(d, "token_inactive", 401);
        if (exchanged == PHANTOM_FAILED) {
            /* detail is a status code or a transport error category: never a token, a credential or the
               response body (introspect.c). */
            report_denial_detail(self, "introspection_failed", 500, event, detail[0] ? detail : "no usable answer");
            PyErr_Format(g.introspection_error, "token introspection failed: %s",
                         detail[0] ? detail : "no usable answer");
            return DECIDED_ERROR;
        }
        cookie_plain_free(d->token, d->token_len);
        d->token = jwt;
        d->token_len = jwt_len;
        have_claims = 1; /* parsed once, when the JWT came in; a cache hit does not parse it again */
    }

    /* Step 6: REQUIRED_SCOPES, and the best ROUTE_SCOPES entry for the request's route. */
    d->is_jwt = have_claims;
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
        int granted = d->is_jwt && d->claims.scope != NULL &&
                      scopes_granted(d->claims.scope, d->claims.scope_len, self->required_scopes, self->scope_count) &&
                      (rule == NULL || scopes_granted(d->claims.scope, d->claims.scope_len, rule->scopes,
                                                      rule->scope_count));
        if (!granted) return denied(d, "insufficient_scope", 403);
    }
    return DECIDED_ALLOW;
}

static void decision_release(decision *d) {
    jwt_claims_clear(&d->claims);
    free(d->payload);
    free(d->found);
    cookie_plain_free(d->token, d->token_len);
    Py_XDECREF(d->resource);
    request_release(&d->req);
}

/* P of the contract: the JWT's subject where there is one. */
static PyObject *principal_of(const decision *d) {
    if (d->is_jwt && d->claims.sub != NULL && d->claims.sub_len > 0)
        return PyUnicode_DecodeUTF8(d->claims.sub, (Py_ssize_t)d->claims.sub_len, "strict");
    return pseudonym(d->token, d->token_len);
}

/* Copies the CONTEXT_CLAIMS members of a JWT into the response's context: from `found` when the decision's
scan found them, else by scanning the token's payload now (a phantom cache hit, allow()). */
static int add_context_claims(Authorizer *self, PyObject *response, const char *token, size_t token_len,
                              const json_member *found) {
    unsigned char *json = NULL;
    json_member *scanned = NULL;
    if (found == NULL) {
        size_t json_len = 0;
        scanned = calloc(self->claim_count, sizeof *scanned);
        if (scanned == NULL || jwt_payload(token, token_len, &json, &json_len) != 0) {
            free(scanned);
            PyErr_NoMemory(); /* only called for a token already read as a JWT */
            return -1;
        }
        json_wanted want = {self->claim_names, self->claim_name_lens, self->claim_count, scanned};
        if (json_members(json, json_len, &want) != 0) memset(scanned, 0, self->claim_count * sizeof *scanned);
        found = scanned;
    }
    PyObject *context = PyDict_GetItemWithError(response, g.s_context);
    int rc = context != NULL ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < self->claim_count; i++) {
        PyObject *value = context_value_of_claim(&found[i]);
        if (value == NULL) {
            if (PyErr_Occurred()) rc = -1;
            continue;
        }
        rc = PyDict_SetItem(context, PyTuple_GetItem(self->context_claims, (Py_ssize_t)i), value);
        Py_DECREF(value);
    }
    free(scanned);
    free(json);
    return rc;
}

static PyObject *allow(Authorizer *self, int v2, PyObject *principal, PyObject *resource, const char *token,
                       size_t token_len, int is_jwt, const json_member *found) {
    PyObject *result = allow_response(self->simple_responses && v2, principal, resource, token, token_len);
    if (result != NULL && self->claim_count > 0 && is_jwt &&
        add_context_claims(self, result, token, token_len, found) < 0)
        Py_CLEAR(result);
    return result;
}

/* METRICS: one allow answer handed to API Gateway, by authorize or by the allow() builder. Counted once the
   answer is complete, so an allow() that then fails (a bad context value) counts nothing. */
static void count_allow(Authorizer *self, const PyObject *result) {
    if (result != NULL && self->metrics != NULL) self->metrics->allowed++;
}

static int configured(const Authorizer *self) {
    if (self->ready) return 1;
    PyErr_SetString(PyExc_RuntimeError, "the Authorizer was not configured (its __init__ did not run)");
    return 0;
}

/* Logs a denial and raises a 401 as Unauthorized: 1 for a 403, which each caller answers its own way. */
static int forbidden(Authorizer *self, const decision *d, PyObject *event) {
    report_denial(self, d->reason, d->status, event);
    if (d->status != 401) return 1;
    raise_denial(g.unauthorized, g.s_unauthorized, d->reason);
    return 0;
}

static PyObject *Authorizer_authorize(Authorizer *self, PyObject *event) {
    if (!configured(self)) return NULL;
    decision d;
    PyObject *result = NULL;
    int outcome = decide(self, event, &d);
    if (outcome == DECIDED_DENY) {
        if (forbidden(self, &d, event)) result = deny_response(simple_for(self, &d.req), d.resource);
    } else if (outcome == DECIDED_ALLOW) {
        PyObject *principal = principal_of(&d);
        if (principal != NULL) {
            result = allow(self, d.req.v2, principal, d.resource, d.token, d.token_len, d.is_jwt,
                           d.payload != NULL ? d.found : NULL);
            count_allow(self, result);
            Py_DECREF(principal);
        }
    }
    decision_release(&d);
    return result;
}

static PyObject *Authorizer_authenticate(Authorizer *self, PyObject *event) {
    if (!configured(self)) return NULL;
    decision d;
    PyObject *result = NULL;
    int outcome = decide(self, event, &d);
    if (outcome == DECIDED_DENY) {
        if (forbidden(self, &d, event)) raise_denial(g.forbidden, g.s_forbidden, d.reason);
    } else if (outcome == DECIDED_ALLOW) {
        PyObject *principal = principal_of(&d);
        PyObject *token = principal ? PyUnicode_DecodeUTF8(d.token, (Py_ssize_t)d.token_len, "strict") : NULL;
        if (token != NULL) {
            char *scope = d.claims.scope; /* handed to the Identity, which makes its scopes from it on demand */
            d.claims.scope = NULL;
            result = identity_new(token, principal, d.bearer ? g.s_bearer : g.s_cookie, d.resource, d.is_jwt, scope,
                                  d.claims.scope_len);
        }
        Py_XDECREF(token);
        Py_XDECREF(principal);
    }
    decision_release(&d);
    return result;
}

/* Positional-or-keyword arguments of a METH_FASTCALL | METH_KEYWORDS method; `required` leading ones. */
static int parse_arguments(const char *function, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                           const char *const *names, Py_ssize_t count, Py_ssize_t required, PyObject **out) {
    for (Py_ssize_t i = 0; i < count; i++) out[i] = NULL;
    if (nargs > count) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %zd positional arguments", function, count);
        return -1;
    }
    for (Py_ssize_t i = 0; i < nargs; i++) out[i] = args[i];
    Py_ssize_t nkw = kwnames != NULL ? PyTuple_Size(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GetItem(kwnames, k);
        Py_ssize_t i = 0;
        while (i < count && PyUnicode_CompareWithASCIIString(key, names[i]) != 0) i++;
        if (i == count) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument %R", function, key);
            return -1;
        }
        if (out[i] != NULL) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", function, names[i]);
            return -1;
        }
        out[i] = args[nargs + k];
    }
    for (Py_ssize_t i = 0; i < required; i++) {
        if (out[i] == NULL) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", function, names[i]);
            return -1;
        }
    }
    return 0;
}

static PyObject *Authorizer_allow(Authorizer *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    static const char *const names[] = {"event", "identity", "context"};
    PyObject *arg[3];
    identity_view identity;
    if (!configured(self) || parse_arguments("allow", args, nargs, kwnames, names, 3, 2, arg) < 0 ||
        identity_view_of(arg[1], &identity) < 0)
        return NULL;
    int v2;
    PyObject *arn;
    if (event_format(arg[0], &v2, &arn) < 0) return NULL;
    Py_XDECREF(arn); /* the Identity carries R, made from this ARN */
    Py_ssize_t token_len = 0;
    const char *token = PyUnicode_AsUTF8AndSize(identity.token, &token_len);
    if (token == NULL) return NULL;
    PyObject *result = allow(self, v2, identity.principal, identity.resource, token, (size_t)token_len,
                             identity.is_jwt, NULL);
    if (result != NULL && arg[2] != NULL && arg[2] != Py_None && context_add_entries(result, arg[2]) < 0)
        Py_CLEAR(result);
    count_allow(self, result);
    return result;
}

/* A reason code of the caller's own, for the denial log: short, and unlike a token or a secret. */
static int valid_reason(const char *s, Py_ssize_t n) {
    if (n < 1 || n > 64) return 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.' || c == ':'))
            return 0;
    }
    return 1;
}

static PyObject *Authorizer_deny(Authorizer *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    static const char *const names[] = {"event", "reason"};
    PyObject *arg[2];
    if (!configured(self) || parse_arguments("deny", args, nargs, kwnames, names, 2, 1, arg) < 0) return NULL;
    /* No reason: the answer to a Forbidden that authenticate() has already logged. */
    const char *reason = NULL;
    if (arg[1] != NULL && arg[1] != Py_None) {
        Py_ssize_t n = 0;
        reason = PyUnicode_Check(arg[1]) ? PyUnicode_AsUTF8AndSize(arg[1], &n) : NULL;
        if (reason == NULL || !valid_reason(reason, n)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError,
                            "reason must be a reason code: 1 to 64 letters, digits, '_', '-', '.' or ':'");
            return NULL;
        }
    }
    int v2;
    PyObject *arn, *resource = NULL;
    if (event_format(arg[0], &v2, &arn) < 0) return NULL;
    if (arn != NULL) {
        resource = resource_for(self, arn);
        Py_DECREF(arn);
        if (resource == NULL && PyErr_Occurred()) return NULL;
    }
    if (resource == NULL) {
        resource = g.s_any_resource;
        Py_INCREF(resource);
    }
    if (reason != NULL) report_denial(self, reason, 403, arg[0]);
    PyObject *result = deny_response(self->simple_responses && v2, resource);
    Py_DECREF(resource);
    return result;
}

/* ---- type plumbing --------------------------------------------------------------------------------- */

static int Authorizer_traverse(Authorizer *self, visitproc visit, void *arg) {
    Py_VISIT(self->on_deny);
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static int Authorizer_clear(Authorizer *self) {
    Py_CLEAR(self->on_deny);
    return 0;
}

static void Authorizer_dealloc(Authorizer *self) {
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Authorizer_clear(self);
    release_config(self);
    freefunc tp_free = (freefunc)PyType_GetSlot(type, Py_tp_free);
    tp_free(self);
    Py_DECREF(type);
}

/* Called by OAuthProxy.__init__ when USE_PHANTOM_TOKEN is true, after __init__ and before any request, so
   authorize() never sees the field change. libcurl is loaded here, not at import. */
static PyObject *Authorizer_enable_phantom(Authorizer *self, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"url", "client_id", "client_secret", "timeout_ms", "ca_file", "cache_ttl",
                               "cache_size", "pool_size", NULL};
    const char *url, *client_id, *client_secret, *ca_file = NULL;
    long timeout_ms, cache_ttl = 300;
    Py_ssize_t cache_size = 1024, pool_size = 4;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "sssl|zlnn:_enable_phantom", keywords, &url, &client_id,
                                     &client_secret, &timeout_ms, &ca_file, &cache_ttl, &cache_size, &pool_size))
        return NULL;
    if (!self->ready) {
        PyErr_SetString(PyExc_RuntimeError, "the Authorizer was not configured (its __init__ did not run)");
        return NULL;
    }
    if (self->phantom != NULL) {
        PyErr_SetString(PyExc_TypeError, "phantom tokens are enabled once; make a new Authorizer instead");
        return NULL;
    }
    if (cache_size < 0) {
        PyErr_SetString(PyExc_ValueError, "INTROSPECTION_CACHE_SIZE must not be negative");
        return NULL;
    }
    if (pool_size < 1) {
        PyErr_SetString(PyExc_ValueError, "INTROSPECTION_POOL_SIZE must be at least 1");
        return NULL;
    }
    /* The same bounds as Config; they also keep the deadline arithmetic in introspect.c far from overflow. */
    if (timeout_ms < 1 || timeout_ms > 600000 || cache_ttl < 0 || cache_ttl > 86400) {
        PyErr_SetString(PyExc_ValueError,
                        "INTROSPECTION_TIMEOUT_MS must be 1 to 600000 and INTROSPECTION_CACHE_TTL 0 to 86400");
        return NULL;
    }
    phantom_config cfg = {url, client_id, client_secret, timeout_ms, ca_file, cache_ttl, (size_t)cache_size,
                          (size_t)pool_size};
    char *error = NULL;
    phantom *p = phantom_new(&cfg, &phantom_gil, &error);
    if (p == NULL) {
        /* phantom_new's messages name the setting and never quote a credential. */
        PyErr_SetString(PyExc_ValueError, error != NULL ? error : "phantom tokens could not be set up");
        free(error);
        return NULL;
    }
    self->phantom = p;
    if (self->metrics != NULL) phantom_set_metrics(p, self->metrics);
    Py_RETURN_NONE;
}

/* Called by OAuthProxy.__init__ when METRICS is true, before any request. */
static PyObject *Authorizer_enable_metrics(Authorizer *self, PyObject *unused) {
    (void)unused;
    if (!self->ready) {
        PyErr_SetString(PyExc_RuntimeError, "the Authorizer was not configured (its __init__ did not run)");
        return NULL;
    }
    if (self->metrics == NULL && (self->metrics = calloc(1, sizeof *self->metrics)) == NULL) return PyErr_NoMemory();
    if (self->phantom != NULL) phantom_set_metrics(self->phantom, self->metrics);
    Py_RETURN_NONE;
}

static PyObject *Authorizer_take_metrics(Authorizer *self, PyObject *unused) {
    (void)unused;
    if (self->metrics == NULL) Py_RETURN_NONE;
    return metrics_take(self->metrics);
}

static PyMethodDef Authorizer_methods[] = {
    {"authorize", (PyCFunction)Authorizer_authorize, METH_O,
     "authorize(event) -> dict\n\nThe Lambda authorizer response for an API Gateway event; raises "
     "Unauthorized for a 401."},
    {"authenticate", (PyCFunction)Authorizer_authenticate, METH_O,
     "authenticate(event) -> Identity\n\nSteps 1 to 6 of the decision without a response: the Identity of an "
     "allowed request; raises Forbidden (403), Unauthorized (401) or IntrospectionError (500), each denial "
     "logged as by authorize."},
    {"allow", (PyCFunction)(void (*)(void))Authorizer_allow, METH_FASTCALL | METH_KEYWORDS,
     "allow(event, identity, context=None) -> dict\n\nThe allow response for an Identity, in the event's "
     "format; `context` adds str, int, float or bool entries (TypeError otherwise; ValueError for \"token\")."},
    {"deny", (PyCFunction)(void (*)(void))Authorizer_deny, METH_FASTCALL | METH_KEYWORDS,
     "deny(event, reason=None) -> dict\n\nThe 403 response in the event's format. With a reason code, logs a "
     "denial line as authorize does; without one, logs nothing (for a Forbidden authenticate has logged)."},
    {"_enable_phantom", (PyCFunction)(void (*)(void))Authorizer_enable_phantom, METH_VARARGS | METH_KEYWORDS,
     "_enable_phantom(url, client_id, client_secret, timeout_ms, ca_file=None, cache_ttl=300, cache_size=1024, "
     "pool_size=4)"
     "\n\nTurns on the phantom token exchange (contract step 5); ValueError when libcurl cannot be loaded "
     "or a setting is unusable."},
    {"_enable_metrics", (PyCFunction)Authorizer_enable_metrics, METH_NOARGS,
     "_enable_metrics()\n\nStarts counting decisions, introspection calls and cache use (METRICS=true)."},
    {"_take_metrics", (PyCFunction)Authorizer_take_metrics, METH_NOARGS,
     "_take_metrics() -> dict | None\n\nThe counts since the last call, then zeroed; None unless metrics are on."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Authorizer_slots[] = {
    {Py_tp_doc, "The cookie authorizer, configured once (see oauth_proxy.OAuthProxy)."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, Authorizer_init},
    {Py_tp_dealloc, Authorizer_dealloc},
    {Py_tp_traverse, Authorizer_traverse},
    {Py_tp_clear, Authorizer_clear},
    {Py_tp_methods, Authorizer_methods},
    {0, NULL},
};

static PyType_Spec Authorizer_spec = {
    .name = "oauth_proxy._core.Authorizer",
    .basicsize = sizeof(Authorizer),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = Authorizer_slots,
};

PyObject *authorizer_type_new(PyObject *module) {
    return PyType_FromModuleAndSpec(module, &Authorizer_spec, NULL);
}
