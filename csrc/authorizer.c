/* The Authorizer type: configuration held in C form and the decision of contract section 5. */
#include "authorizer.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cookie_crypto.h"
#include "event.h"
#include "jwt_claims.h"
#include "metrics.h"
#include "module_state.h"
#include "phantom.h"
#include "request_checks.h"
#include "response.h"
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

static int Authorizer_init(Authorizer *self, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"trusted_origins", "cookie_name_prefix", "keys", "allow_token",
                               "required_scopes", "simple_responses", "on_deny", NULL};
    PyObject *origins, *prefix, *keys, *scopes, *on_deny;
    int allow_token, simple;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOpOpO:Authorizer", keywords, &origins, &prefix, &keys,
                                     &allow_token, &scopes, &simple, &on_deny))
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
        copy_strings(scopes, "required scopes", 0, &self->required_scopes, &self->scope_count) < 0)
        goto fail;
    if (self->origin_count == 0) {
        PyErr_SetString(PyExc_ValueError, "at least one trusted origin is required");
        goto fail;
    }
    self->allow_token = allow_token;
    self->simple_responses = simple;
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

static PyObject *deny(Authorizer *self, const request *req, PyObject *event, PyObject *resource, const char *reason) {
    report_denial(self, reason, 403, event);
    return deny_response(simple_for(self, req), resource);
}

static PyObject *unauthorized(Authorizer *self, PyObject *event, const char *reason) {
    report_denial(self, reason, 401, event);
    PyErr_SetString(g.unauthorized, "Unauthorized");
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
    if (req->origin.state == HEADER_ABSENT) return "missing_origin";
    if (req->origin.state == HEADER_AMBIGUOUS || !origin_is_trusted(req->origin.value, self->origins, self->origin_count))
        return "untrusted_origin";
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

static PyObject *Authorizer_authorize(Authorizer *self, PyObject *event) {
    if (!self->ready) {
        PyErr_SetString(PyExc_RuntimeError, "the Authorizer was not configured (its __init__ did not run)");
        return NULL;
    }
    request req;
    PyObject *resource = NULL, *principal = NULL, *result = NULL;
    char *token = NULL;
    size_t token_len = 0;
    jwt_claims claims = {0};
    int have_claims = 0;

    int rc = request_read(event, &self->names, &req);
    if (rc == REQUEST_PY_ERROR) goto out;
    if (req.arn != NULL && (resource = resource_wildcard(req.arn)) == NULL && PyErr_Occurred()) goto out;
    if (resource == NULL) {
        rc = REQUEST_BAD;
        resource = g.s_any_resource;
        Py_INCREF(resource);
    }
    if (rc == REQUEST_BAD) {
        result = deny(self, &req, event, resource, "bad_event");
        goto out;
    }

    span bearer;
    if (self->allow_token && req.authorization.state == HEADER_ONE && bearer_token(req.authorization.value, &bearer)) {
        /* Step 1: a caller that already holds a token (a back end, a test client) skips steps 2 to 4. */
        if ((token = copy_secret(bearer)) == NULL) {
            PyErr_NoMemory();
            goto out;
        }
        token_len = bearer.n;
    } else {
        int status;
        const char *reason = check_cookies(self, &req, &status, &token, &token_len);
        if (reason == NULL && token == NULL) goto out;
        if (reason != NULL) {
            result = status == 401 ? unauthorized(self, event, reason) : deny(self, &req, event, resource, reason);
            goto out;
        }
    }

    /* Step 5: the opaque token is swapped for the JWT behind it. */
    if (self->phantom != NULL) {
        char *jwt = NULL, detail[128];
        size_t jwt_len = 0;
        phantom_result exchanged = phantom_exchange_detail(self->phantom, token, token_len, &jwt, &jwt_len,
                                                           &claims, detail, sizeof detail);
        if (exchanged == PHANTOM_INACTIVE) {
            result = unauthorized(self, event, "token_inactive");
            goto out;
        }
        if (exchanged == PHANTOM_FAILED) {
            /* detail is a status code or a transport error category: never a token, a credential or the
               response body (introspect.c). */
            report_denial_detail(self, "introspection_failed", 500, event, detail[0] ? detail : "no usable answer");
            PyErr_Format(g.introspection_error, "token introspection failed: %s",
                         detail[0] ? detail : "no usable answer");
            goto out;
        }
        cookie_plain_free(token, token_len);
        token = jwt;
        token_len = jwt_len;
        have_claims = 1; /* parsed once, when the JWT came in; a cache hit does not parse it again */
    }

    /* Step 6: scopes, then step 7: allow, naming the JWT's subject where there is one. */
    int is_jwt = have_claims || jwt_claims_parse(token, token_len, &claims) == 0;
    if (self->scope_count > 0 &&
        !(is_jwt && claims.scope != NULL &&
          scopes_granted(claims.scope, claims.scope_len, self->required_scopes, self->scope_count))) {
        result = deny(self, &req, event, resource, "insufficient_scope");
        goto out;
    }
    if (is_jwt && claims.sub != NULL && claims.sub_len > 0)
        principal = PyUnicode_DecodeUTF8(claims.sub, (Py_ssize_t)claims.sub_len, "strict");
    else
        principal = pseudonym(token, token_len);
    if (principal != NULL) result = allow_response(simple_for(self, &req), principal, resource, token, token_len);
    if (result != NULL && self->metrics != NULL) self->metrics->allowed++;

out:
    jwt_claims_clear(&claims);
    cookie_plain_free(token, token_len);
    Py_XDECREF(principal);
    Py_XDECREF(resource);
    request_release(&req);
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
    phantom *p = phantom_new(&cfg, &error);
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
    {"_enable_phantom", (PyCFunction)(void (*)(void))Authorizer_enable_phantom, METH_VARARGS | METH_KEYWORDS,
     "_enable_phantom(url, client_id, client_secret, timeout_ms, ca_file=None, cache_ttl=300, cache_size=1024)"
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
