#include "jwt_glue.h"

#include <stdlib.h>
#include <string.h>

#include "curl_loader.h"
#include "jwks_http.h"

static void *release_gil(void) { return PyEval_SaveThread(); }
static void reacquire_gil(void *state) { PyEval_RestoreThread((PyThreadState *)state); }

/* A sequence of str as NUL-terminated UTF-8 pointers into the str objects (kept alive by `seq`). */
static const char **strings_of(PyObject *seq, Py_ssize_t *count, const char *what) {
    *count = PySequence_Size(seq);
    if (*count < 0) return NULL;
    const char **out = calloc((size_t)(*count > 0 ? *count : 1), sizeof *out);
    if (out == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < *count; i++) {
        PyObject *item = PySequence_GetItem(seq, i);
        if (item == NULL) goto fail;
        /* The sequence holds the str, so the UTF-8 buffer outlives this borrowed use. */
        out[i] = PyUnicode_Check(item) ? PyUnicode_AsUTF8AndSize(item, NULL) : NULL;
        Py_DECREF(item);
        if (out[i] == NULL) {
            if (!PyErr_Occurred()) PyErr_Format(PyExc_TypeError, "%s must hold str values", what);
            goto fail;
        }
    }
    return out;
fail:
    free(out);
    return NULL;
}

static int algorithms_mask(PyObject *seq, unsigned *mask) {
    Py_ssize_t count;
    const char **names = strings_of(seq, &count, "JWT_ALGORITHMS");
    if (names == NULL) return -1;
    *mask = 0;
    for (Py_ssize_t i = 0; i < count; i++) {
        jws_alg alg = jws_alg_from_name(names[i], strlen(names[i]));
        if (alg == JWS_ALG_UNKNOWN) {
            PyErr_Format(PyExc_ValueError, "JWT_ALGORITHMS: %.20s is not supported", names[i]);
            free(names);
            return -1;
        }
        *mask |= JWS_ALG_BIT(alg);
    }
    free(names);
    if (*mask == 0) {
        PyErr_SetString(PyExc_ValueError, "JWT_ALGORITHMS must name at least one algorithm");
        return -1;
    }
    return 0;
}

jwt_verifier *jwt_glue_verifier(PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"url",        "timeout_ms", "ca_file",    "issuer", "audiences",
                               "algorithms", "cache_ttl",  "cache_size", NULL};
    const char *url, *ca_file = NULL, *issuer = NULL;
    long timeout_ms, cache_ttl = 300;
    Py_ssize_t cache_size = 1024;
    PyObject *audiences = NULL, *algorithms = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "sl|zzOOln:_enable_jwks", keywords, &url, &timeout_ms, &ca_file,
                                     &issuer, &audiences, &algorithms, &cache_ttl, &cache_size))
        return NULL;
    if (timeout_ms < 1 || timeout_ms > 600000 || cache_ttl < 0 || cache_ttl > 86400 || cache_size < 0) {
        PyErr_SetString(PyExc_ValueError, "INTROSPECTION_TIMEOUT_MS must be 1 to 600000, INTROSPECTION_CACHE_TTL "
                                          "0 to 86400 and INTROSPECTION_CACHE_SIZE not negative");
        return NULL;
    }
    jwt_policy policy = {0};
    policy.algorithms =
        JWS_ALG_BIT(JWS_RS256) | JWS_ALG_BIT(JWS_PS256) | JWS_ALG_BIT(JWS_ES256) | JWS_ALG_BIT(JWS_EDDSA);
    if (algorithms != NULL && algorithms != Py_None && algorithms_mask(algorithms, &policy.algorithms) != 0)
        return NULL;
    policy.issuer = issuer;
    Py_ssize_t audience_count = 0;
    const char **audience_names = NULL;
    if (audiences != NULL && audiences != Py_None) {
        audience_names = strings_of(audiences, &audience_count, "JWT_AUDIENCE");
        if (audience_names == NULL) return NULL;
    }
    policy.audiences = audience_names;
    policy.audience_count = (size_t)audience_count;
    policy.cache_ttl_s = cache_ttl;
    policy.cache_size = (size_t)cache_size;

    char *error = NULL;
    const curl_api *api = curl_api_get(&error);
    jwks_http *http = api != NULL ? jwks_http_new(api, url, timeout_ms, ca_file, &error) : NULL;
    jwks_cache *keys = NULL;
    jwt_verifier *verifier = NULL;
    if (http != NULL) {
        jwks_cache_config cfg = {jwks_http_fetch, http, jwks_http_free, release_gil, reacquire_gil};
        keys = jwks_cache_new(&cfg); /* owns http from here, also when it fails */
        if (keys == NULL) error = strdup("out of memory");
    }
    if (keys != NULL) verifier = jwt_verifier_new(&policy, keys, &error); /* owns keys from here */
    free(audience_names);
    if (verifier == NULL) {
        /* The messages name a setting or a library, never a value that could be a secret. */
        PyErr_SetString(PyExc_ValueError, error != NULL ? error : "JWT verification could not be set up");
        free(error);
    }
    return verifier;
}

static const char capsule_name[] = "oauth_proxy._core.jwk";

static void free_key(PyObject *capsule) {
    jwk *key = PyCapsule_GetPointer(capsule, capsule_name);
    if (key == NULL) return;
    jwk_clear(key);
    free(key);
}

PyObject *jwt_glue_jwk_load(PyObject *module, PyObject *arg) {
    (void)module;
    Py_ssize_t len;
    const char *text = PyUnicode_Check(arg) ? PyUnicode_AsUTF8AndSize(arg, &len) : NULL;
    if (text == NULL) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "_jwk_load takes the JWK as a str");
        return NULL;
    }
    jwk *key = malloc(sizeof *key);
    if (key == NULL) return PyErr_NoMemory();
    if (jwk_parse((const unsigned char *)text, (size_t)len, key) != 0) {
        free(key);
        PyErr_SetString(PyExc_ValueError, "not a usable signature verification key");
        return NULL;
    }
    PyObject *capsule = PyCapsule_New(key, capsule_name, free_key);
    if (capsule == NULL) {
        jwk_clear(key);
        free(key);
    }
    return capsule;
}

PyObject *jwt_glue_jws_check(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *capsule;
    const char *token;
    Py_ssize_t len;
    long long now;
    int claims;
    if (!PyArg_ParseTuple(args, "Os#Lp:_jws_check", &capsule, &token, &len, &now, &claims)) return NULL;
    jwk *key = PyCapsule_GetPointer(capsule, capsule_name);
    if (key == NULL) return NULL;
    char detail[96] = "";
    if (claims) {
        jwt_policy policy = {0};
        policy.algorithms = ~0u;
        if (jwt_check_with_key(&policy, token, (size_t)len, key, (time_t)now, detail, sizeof detail) == JWT_VERIFIED)
            detail[0] = '\0';
        return PyUnicode_FromString(detail);
    }
    jws parsed;
    const char *why = "";
    if (jws_parse(token, (size_t)len, &parsed, &why) == 0) {
        if (jws_verify_signature(&parsed, key, &why) == 0) why = "";
        jws_clear(&parsed);
    }
    return PyUnicode_FromString(why);
}
