/* oauth_proxy._core: exceptions, the cookie functions and the Authorizer type. */
#include "python_api.h"

#include <string.h>

#include <openssl/crypto.h>

#include "authorizer.h"
#include "ca_bundle.h"
#include "cookie_crypto.h"
#include "identity.h"
#include "module_state.h"
#include "reasons.h"
#include "token_digest.h"

/* Parses key_hex into a one-off key. NULL with ValueError; the key never appears in the message. */
static cookie_key *key_from_argument(PyObject *key_hex) {
    unsigned char raw[COOKIE_KEY_BYTES];
    Py_ssize_t len = 0;
    const char *hex = PyUnicode_Check(key_hex) ? PyUnicode_AsUTF8AndSize(key_hex, &len) : NULL;
    if (hex == NULL || cookie_key_parse_hex(hex, (size_t)len, raw) != 0) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "the key must be 64 hexadecimal characters (32 bytes)");
        return NULL;
    }
    cookie_key *key = cookie_key_new(raw);
    OPENSSL_cleanse(raw, sizeof raw);
    if (key == NULL) PyErr_SetString(PyExc_MemoryError, "OpenSSL could not set up AES-256-GCM");
    return key;
}

/* The `format` argument of encrypt_cookie and decrypt_cookie: one generation, v1 when not given. */
static int one_format(PyObject *name, unsigned *format) {
    *format = COOKIE_V1;
    if (name == NULL) return 0;
    Py_ssize_t len = 0;
    const char *text = PyUnicode_AsUTF8AndSize(name, &len);
    if (text == NULL || cookie_formats_parse(text, (size_t)len, format) != COOKIE_OK ||
        (*format != COOKIE_V1 && *format != COOKIE_V2)) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "format must be \"v1\" or \"v2\"");
        return -1;
    }
    return 0;
}

static PyObject *encrypt_cookie(PyObject *module, PyObject *args, PyObject *kwargs) {
    (void)module;
    static char *keywords[] = {"plaintext", "key_hex", "format", NULL};
    PyObject *plaintext, *key_hex, *format_name = NULL;
    unsigned format;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "UU|U:encrypt_cookie", keywords, &plaintext, &key_hex,
                                     &format_name) ||
        one_format(format_name, &format) < 0)
        return NULL;
    Py_ssize_t len = 0;
    const char *plain = PyUnicode_AsUTF8AndSize(plaintext, &len);
    if (plain == NULL) {
        /* The UnicodeEncodeError would carry the whole plaintext (a token) in its args and repr. */
        if (!PyErr_ExceptionMatches(PyExc_UnicodeError)) return NULL;
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "the plaintext must be encodable as UTF-8 (it holds a lone surrogate)");
        return NULL;
    }
    if (len == 0) {
        PyErr_SetString(PyExc_ValueError, "the plaintext must not be empty");
        return NULL;
    }
    cookie_key *key = key_from_argument(key_hex);
    if (key == NULL) return NULL;
    char *out = NULL;
    size_t out_len = 0;
    int rc = cookie_encrypt(key, format, (const unsigned char *)plain, (size_t)len, &out, &out_len);
    cookie_key_free(key);
    if (rc == COOKIE_NO_MEMORY) return PyErr_NoMemory();
    if (rc != COOKIE_OK) {
        PyErr_SetString(PyExc_RuntimeError, "OpenSSL could not encrypt the cookie");
        return NULL;
    }
    PyObject *result = PyUnicode_FromStringAndSize(out, (Py_ssize_t)out_len);
    free(out);
    return result;
}

static PyObject *decrypt_cookie(PyObject *module, PyObject *args, PyObject *kwargs) {
    (void)module;
    static char *keywords[] = {"value", "key_hex", "format", NULL};
    PyObject *value, *key_hex, *format_name = NULL;
    unsigned format;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "UU|U:decrypt_cookie", keywords, &value, &key_hex, &format_name) ||
        one_format(format_name, &format) < 0)
        return NULL;
    cookie_key *key = key_from_argument(key_hex);
    if (key == NULL) return NULL;
    Py_ssize_t len = 0;
    const char *cookie = PyUnicode_AsUTF8AndSize(value, &len);
    char *plain = NULL;
    size_t plain_len = 0;
    int rc = COOKIE_INVALID;
    if (cookie != NULL)
        rc = cookie_decrypt(key, format, cookie, (size_t)len, &plain, &plain_len);
    else
        PyErr_Clear(); /* a str that is not even UTF-8 is no cookie either */
    cookie_key_free(key);
    if (rc == COOKIE_NO_MEMORY) return PyErr_NoMemory();
    if (rc != COOKIE_OK) {
        PyErr_SetString(g.cookie_decryption_error, "the value is not a valid cookie for this key");
        return NULL;
    }
    PyObject *result = PyUnicode_DecodeUTF8(plain, (Py_ssize_t)plain_len, "strict");
    cookie_plain_free(plain, plain_len);
    return result;
}

static PyObject *system_ca_bundle_path(PyObject *module, PyObject *unused) {
    (void)module;
    (void)unused;
    const char *path = system_ca_bundle();
    if (path == NULL) Py_RETURN_NONE;
    return PyUnicode_FromString(path);
}

static PyMethodDef module_methods[] = {
    {"_system_ca_bundle", system_ca_bundle_path, METH_NOARGS,
     "The PEM bundle introspection trusts when INTROSPECTION_CA_FILE is unset (None: libcurl's default)."},
    {"encrypt_cookie", (PyCFunction)(void (*)(void))encrypt_cookie, METH_VARARGS | METH_KEYWORDS,
     "encrypt_cookie(plaintext, key_hex, format=\"v1\") -> str\n\nA cookie value of Curity's generation "
     "`format` (\"v1\" or \"v2\") with a fresh random IV."},
    {"decrypt_cookie", (PyCFunction)(void (*)(void))decrypt_cookie, METH_VARARGS | METH_KEYWORDS,
     "decrypt_cookie(value, key_hex, format=\"v1\") -> str\n\nRaises CookieDecryptionError for anything that "
     "is not a valid cookie of that generation under that key."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "oauth_proxy._core",
    .m_doc = "The C core of oauth_proxy. Use the oauth_proxy package, not this module.",
    .m_size = -1,
    .m_methods = module_methods,
};

/* REASONS: the reason catalogue as a read-only mapping code -> status, built once. */
static int add_reasons(PyObject *module) {
    PyObject *table = PyDict_New();
    if (table == NULL) return -1;
    for (size_t i = 0; i < REASON_COUNT; i++) {
        PyObject *status = PyLong_FromLong(reasons[i].status);
        int rc = status != NULL ? PyDict_SetItem(table, g.reason_code[i], status) : -1;
        Py_XDECREF(status);
        if (rc < 0) {
            Py_DECREF(table);
            return -1;
        }
    }
    PyObject *view = PyDictProxy_New(table);
    Py_DECREF(table); /* the proxy holds the only reference: nobody can change the dict behind it */
    if (view == NULL) return -1;
    if (PyModule_AddObject(module, "REASONS", view) < 0) {
        Py_DECREF(view);
        return -1;
    }
    return 0;
}

/* `status` (when not 0) and `reason` become class attributes: a caller of authenticate() reads e.status and
   e.reason whatever the denial; the C side sets the instance's reason when it raises. */
static int add_exception(PyObject *module, PyObject **slot, const char *name, PyObject *base, const char *doc,
                         int status, const char *reason) {
    char qualified[64] = "oauth_proxy.";
    strncat(qualified, name, sizeof qualified - strlen(qualified) - 1);
    PyObject *attributes = NULL;
    if (status != 0) {
        attributes = Py_BuildValue("{s:i,s:z}", "status", status, "reason", reason);
        if (attributes == NULL) return -1;
    }
    *slot = PyErr_NewExceptionWithDoc(qualified, doc, base, attributes);
    Py_XDECREF(attributes);
    if (*slot == NULL) return -1;
    Py_INCREF(*slot);
    if (PyModule_AddObject(module, name, *slot) < 0) {
        Py_DECREF(*slot);
        return -1;
    }
    return 0;
}

PyMODINIT_FUNC PyInit__core(void) {
    if (module_state_init() < 0) return NULL;
    if (token_digest_init() < 0) {
        PyErr_SetString(PyExc_ImportError, "OpenSSL has no SHA-256");
        return NULL;
    }
    PyObject *module = PyModule_Create(&module_def);
    if (module == NULL) return NULL;
    if (add_exception(module, &g.unauthorized, "Unauthorized", PyExc_Exception,
                      "The request carries no usable credentials: API Gateway answers 401. .reason is the "
                      "denial's reason code.",
                      401, NULL) < 0 ||
        add_exception(module, &g.forbidden, "Forbidden", PyExc_Exception,
                      "authenticate() refused the request (API Gateway answers 403). .reason is the denial's "
                      "reason code.",
                      403, NULL) < 0 ||
        add_exception(module, &g.introspection_error, "IntrospectionError", PyExc_Exception,
                      "The introspection endpoint gave no usable answer: API Gateway answers 500.",
                      REASON(INTROSPECTION_FAILED)->status, REASON(INTROSPECTION_FAILED)->code) < 0 ||
        add_exception(module, &g.cookie_decryption_error, "CookieDecryptionError", PyExc_ValueError,
                      "The value is not a valid cookie under the key.", 0, NULL) < 0)
        goto fail;
    if (add_reasons(module) < 0) goto fail;
    PyObject *type = authorizer_type_new(module);
    if (type == NULL || PyModule_AddObject(module, "Authorizer", type) < 0) {
        Py_XDECREF(type);
        goto fail;
    }
    g.identity_type = identity_type_new(module);
    if (g.identity_type == NULL) goto fail;
    Py_INCREF(g.identity_type);
    if (PyModule_AddObject(module, "Identity", g.identity_type) < 0) {
        Py_DECREF(g.identity_type);
        goto fail;
    }
    return module;
fail:
    Py_DECREF(module);
    return NULL;
}
