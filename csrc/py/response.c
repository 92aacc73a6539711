#include "response.h"

#include <string.h>

#include <openssl/crypto.h>

#include "module_state.h"

static int nonempty_field(const char *start, const char *stop) { return stop > start; }

PyObject *resource_wildcard(PyObject *arn) {
    Py_ssize_t len = 0;
    const char *s = PyUnicode_AsUTF8AndSize(arn, &len);
    if (s == NULL) {
        PyErr_Clear();
        return NULL;
    }
    const char *end = s + len, *p = s, *field[6];
    /* arn : partition : service : region : account : resource */
    for (int i = 0; i < 6; i++) {
        field[i] = p;
        if (i == 5) break;
        const char *colon = memchr(p, ':', (size_t)(end - p));
        if (colon == NULL) return NULL;
        p = colon + 1;
    }
    if (field[1] - field[0] != 4 || memcmp(field[0], "arn:", 4) != 0) return NULL;
    if (!nonempty_field(field[1], field[2] - 1) || !nonempty_field(field[3], field[4] - 1) ||
        !nonempty_field(field[4], field[5] - 1))
        return NULL;
    if (field[3] - field[2] != 12 || memcmp(field[2], "execute-api:", 12) != 0) return NULL;
    const char *api = field[5];
    const char *slash = memchr(api, '/', (size_t)(end - api));
    if (slash == NULL || slash == api) return NULL;
    const char *stage = slash + 1;
    const char *stage_end = memchr(stage, '/', (size_t)(end - stage));
    if (stage_end == NULL || stage_end == stage) return NULL;
    /* No blanks or further colons in the resource part: what we hand back is a policy resource. */
    for (const char *c = api; c < stage_end; c++)
        if (*c == ':' || *c == ' ' || *c == '*' || (unsigned char)*c < 0x21) return NULL;

    size_t prefix = (size_t)(stage_end - s) + 1;
    /* An authorizer serves one API and a few stages, so the wildcard is nearly always the previous one:
       reuse that string instead of building it again (three allocations). The GIL guards the cache. */
    static PyObject *last;
    if (last != NULL) {
        Py_ssize_t last_len = 0;
        const char *l = PyUnicode_AsUTF8AndSize(last, &last_len);
        if (l != NULL && (size_t)last_len == prefix + 1 && memcmp(l, s, prefix) == 0) {
            Py_INCREF(last);
            return last;
        }
    }
    PyObject *head = PyUnicode_FromStringAndSize(s, (Py_ssize_t)prefix);
    if (head == NULL) return NULL;
    PyObject *star = PyUnicode_FromStringAndSize("*", 1);
    PyObject *out = star ? PyUnicode_Concat(head, star) : NULL;
    Py_DECREF(head);
    Py_XDECREF(star);
    if (out != NULL) {
        Py_XDECREF(last);
        Py_INCREF(out);
        last = out;
    }
    return out;
}

static int set(PyObject *dict, PyObject *key, PyObject *value) {
    if (value == NULL) return -1;
    int rc = PyDict_SetItem(dict, key, value);
    Py_DECREF(value);
    return rc;
}

static PyObject *policy(PyObject *principal, PyObject *effect, PyObject *resource) {
    PyObject *statement = PyDict_New(), *document = NULL, *statements = NULL, *out = NULL;
    if (statement == NULL || PyDict_SetItem(statement, g.s_action, g.s_invoke) < 0 ||
        PyDict_SetItem(statement, g.s_effect, effect) < 0 || PyDict_SetItem(statement, g.s_resource, resource) < 0)
        goto fail;
    statements = PyList_New(1);
    if (statements == NULL) goto fail;
    PyList_SetItem(statements, 0, statement); /* steals it; index 0 of a one-item list cannot fail */
    statement = NULL;
    document = PyDict_New();
    if (document == NULL || PyDict_SetItem(document, g.s_version_key, g.s_policy_version) < 0) goto fail;
    if (set(document, g.s_statement, statements) < 0) {
        statements = NULL;
        goto fail;
    }
    statements = NULL;
    out = PyDict_New();
    if (out == NULL || PyDict_SetItem(out, g.s_principal_id, principal) < 0) goto fail;
    if (set(out, g.s_policy_document, document) < 0) {
        document = NULL;
        goto fail;
    }
    return out;
fail:
    Py_XDECREF(statement);
    Py_XDECREF(statements);
    Py_XDECREF(document);
    Py_XDECREF(out);
    return NULL;
}

static PyObject *token_context(const char *token, size_t token_len) {
    static const char scheme[] = "Bearer ";
    size_t n = sizeof scheme - 1 + token_len;
    char *buf = PyMem_Malloc(n);
    if (buf == NULL) return PyErr_NoMemory();
    memcpy(buf, scheme, sizeof scheme - 1);
    memcpy(buf + sizeof scheme - 1, token, token_len);
    PyObject *value = PyUnicode_DecodeUTF8(buf, (Py_ssize_t)n, "strict");
    OPENSSL_cleanse(buf, n); /* the str keeps the token; this scratch copy need not outlive it in freed memory */
    PyMem_Free(buf);
    if (value == NULL) return NULL;
    PyObject *context = PyDict_New();
    if (context == NULL || set(context, g.s_token, value) < 0) {
        if (context == NULL) Py_DECREF(value);
        Py_XDECREF(context);
        return NULL;
    }
    return context;
}

PyObject *allow_response(int simple, PyObject *principal, PyObject *resource, const char *token, size_t token_len) {
    PyObject *out = simple ? PyDict_New() : policy(principal, g.s_allow, resource);
    if (out == NULL) return NULL;
    if ((simple && PyDict_SetItem(out, g.s_is_authorized, Py_True) < 0) ||
        set(out, g.s_context, token_context(token, token_len)) < 0) {
        Py_DECREF(out);
        return NULL;
    }
    return out;
}

PyObject *deny_response(int simple, PyObject *resource) {
    if (!simple) return policy(g.s_anonymous, g.s_deny, resource);
    PyObject *out = PyDict_New();
    if (out != NULL && PyDict_SetItem(out, g.s_is_authorized, Py_False) < 0) Py_CLEAR(out);
    return out;
}
