#include "route_scopes.h"

#include "python_api.h" /* route_table_load reads Python objects (scripts/fuzz leaves such files out) */

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

static void free_rule(route_rule *rule) {
    free((char *)rule->method.p);
    free((char *)rule->path.p);
    for (size_t i = 0; i < rule->scope_count; i++) free((char *)rule->scopes[i].p);
    free(rule->scopes);
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

void route_table_free(route_table *table) {
    for (size_t i = 0; i < table->count; i++) free_rule(&table->rules[i]);
    free(table->rules);
    table->rules = NULL;
    table->count = 0;
}

static int same_method(span rule, span method) {
    if (rule.n != method.n) return 0;
    for (size_t i = 0; i < rule.n; i++) {
        unsigned char c = (unsigned char)method.p[i];
        if (c >= 'a' && c <= 'z') c = (unsigned char)(c - 32);
        if (c != (unsigned char)rule.p[i]) return 0;
    }
    return 1;
}

/* The prefix entry of /orders covers /orders itself and everything below it, never /ordersX. */
static int path_applies(const route_rule *rule, span path) {
    if (!rule->prefix) return path.n == rule->path.n && memcmp(path.p, rule->path.p, path.n) == 0;
    if (path.n < rule->path.n || memcmp(path.p, rule->path.p, rule->path.n) != 0) return 0;
    return path.n == rule->path.n ? rule->path.n > 0 : path.p[rule->path.n] == '/';
}

const route_rule *route_table_match(const route_table *table, span method, span path) {
    for (size_t i = 0; i < table->count; i++) {
        const route_rule *rule = &table->rules[i];
        if ((rule->method.n == 0 || same_method(rule->method, method)) && path_applies(rule, path)) return rule;
    }
    return NULL;
}
