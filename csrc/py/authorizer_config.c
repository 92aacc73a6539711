/* The Authorizer's configuration: what __init__ receives (already validated by oauth_proxy.Config), checked
   again where C relies on it (key length, cookie-name characters, non-empty strings), and copied into C form
   once, so that no request reads a Python object of the configuration. */
#include "authorizer.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "module_state.h"

static void free_spans(span *spans, size_t count) {
    for (size_t i = 0; i < count; i++) free((char *)spans[i].p);
    free(spans);
}

void authorizer_release_config(Authorizer *self) {
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

/* The custom header of CSRF_MODE=header. Browsers send a CORS pre-flight before any cross-origin request that
   carries it, so another origin's page cannot send it unless the API's CORS answer allows that origin. */
#define HANDLER_VERSION_HEADER "token-handler-version"

/* The names a request is searched for. Needs csrf_header_mode set. */
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
    if (self->csrf_header_mode) {
        /* The -csrf cookie is not read at all (an empty name matches no cookie), and the event reader picks up
           the custom header in the CSRF header's place. */
        self->names.csrf_cookie = (span){csrf, 0};
        self->names.csrf_header = (span){HANDLER_VERSION_HEADER, sizeof HANDLER_VERSION_HEADER - 1};
    }
    return 0;
}

/* COOKIE_FORMAT ("v1", "v2" or "v1,v2"); v1 when not given. */
static int load_cookie_formats(Authorizer *self, PyObject *name) {
    self->cookie_formats = COOKIE_V1;
    if (name == NULL) return 0;
    Py_ssize_t len = 0;
    const char *text = PyUnicode_AsUTF8AndSize(name, &len);
    if (text == NULL || cookie_formats_parse(text, (size_t)len, &self->cookie_formats) != COOKIE_OK) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "cookie format must be \"v1\", \"v2\" or \"v1,v2\"");
        return -1;
    }
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

int authorizer_configure(Authorizer *self, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"trusted_origins",
                               "cookie_name_prefix",
                               "keys",
                               "allow_token",
                               "required_scopes",
                               "simple_responses",
                               "on_deny",
                               "reads_without_origin",
                               "context_claims",
                               "route_scopes",
                               "cookie_format",
                               "csrf_header",
                               NULL};
    PyObject *origins, *prefix, *keys, *scopes, *on_deny, *claims = NULL, *routes = NULL, *format = NULL;
    int allow_token, simple, reads_without_origin = 0, csrf_header = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOpOpO|$pOOUp:Authorizer", keywords, &origins, &prefix, &keys,
                                     &allow_token, &scopes, &simple, &on_deny, &reads_without_origin, &claims, &routes,
                                     &format, &csrf_header))
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
    self->csrf_header_mode = csrf_header;
    if (load_cookie_formats(self, format) < 0 || load_keys(self, keys) < 0 || load_names(self, prefix) < 0 ||
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
    static unsigned long long last_serial; /* guarded by the GIL */
    self->serial = ++last_serial;
    self->configuring = 0;
    self->ready = 1;
    return 0;
fail:
    authorizer_release_config(self);
    self->configuring = 0;
    return -1;
}

int authorizer_configured(const Authorizer *self) {
    if (self->ready) return 1;
    PyErr_SetString(PyExc_RuntimeError, "the Authorizer was not configured (its __init__ did not run)");
    return 0;
}
