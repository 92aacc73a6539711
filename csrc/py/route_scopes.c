#include "route_scopes.h"

#include <stdlib.h>
#include <string.h>

static int copy_span(PyObject *text, span *out) {
    Py_ssize_t n = 0;
    const char *s = PyUnicode_Check(text) ? PyUnicode_AsUTF8AndSize(text, &n) : NULL;
    if (s == NULL) {
        if (!PyErr_Occurred() || PyErr_ExceptionMatches(PyExc_UnicodeError)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError, "route scopes: every part must be a str");
        }
        return -1;
    }
    char *copy = malloc((size_t)n + 1);
    if (copy == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(copy, s, (size_t)n);
    copy[n] = '\0';
    out->p = copy;
    out->n = (size_t)n;
    return 0;
}

static int load_rule(PyObject *item, route_rule *rule) {
    PyObject *method = NULL, *path = NULL, *prefix = NULL, *scopes = NULL;
    int rc = -1;
    if (!PyTuple_Check(item) || PyTuple_Size(item) != 4) {
        PyErr_SetString(PyExc_ValueError, "route scopes: each rule is a (method, path, is_prefix, scopes) tuple");
        return -1;
    }
    method = PyTuple_GetItem(item, 0);
    path = PyTuple_GetItem(item, 1);
    prefix = PyTuple_GetItem(item, 2);
    scopes = PySequence_Tuple(PyTuple_GetItem(item, 3));
    if (method == NULL || path == NULL || prefix == NULL || scopes == NULL) goto out;
    if (copy_span(method, &rule->method) < 0 || copy_span(path, &rule->path) < 0) goto out;
    if (rule->method.n == 1 && rule->method.p[0] == '*') rule->method.n = 0;
    rule->prefix = PyObject_IsTrue(prefix);
    if (rule->prefix < 0) goto out;
    Py_ssize_t n = PyTuple_Size(scopes);
    if (n <= 0) {
        PyErr_SetString(PyExc_ValueError, "route scopes: each rule needs at least one scope");
        goto out;
    }
    rule->scopes = calloc((size_t)n, sizeof *rule->scopes);
    if (rule->scopes == NULL) {
        PyErr_NoMemory();
        goto out;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (copy_span(PyTuple_GetItem(scopes, i), &rule->scopes[i]) < 0) goto out;
        rule->scope_count++;
    }
    rc = 0;
out:
    Py_XDECREF(scopes);
    return rc;
}

int route_table_load(PyObject *seq, route_table *out) {
    out->rules = NULL;
    out->count = 0;
    PyObject *items = PySequence_Tuple(seq);
    if (items == NULL) return -1;
    Py_ssize_t n = PyTuple_Size(items);
    out->rules = calloc(n > 0 ? (size_t)n : 1, sizeof *out->rules);
    if (out->rules == NULL) {
        Py_DECREF(items);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        out->count++; /* counted first, so route_table_free releases a half-loaded rule too */
        if (load_rule(PyTuple_GetItem(items, i), &out->rules[i]) < 0) {
            Py_DECREF(items);
            return -1;
        }
    }
    Py_DECREF(items);
    return 0;
}
