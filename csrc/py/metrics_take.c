#include "metrics_take.h"

/* Adds value (a new reference, or NULL after a failure) under key; 0, or -1 with a Python exception set. */
static int put(PyObject *dict, const char *key, PyObject *value) {
    if (value == NULL) return -1;
    int rc = PyDict_SetItemString(dict, key, value);
    Py_DECREF(value);
    return rc;
}

/* denied[reason] += count: the overflow bucket meets a caller's own reason that happens to be "other". */
static int add_count(PyObject *denied, const char *reason, uint64_t count) {
    PyObject *before = PyDict_GetItemString(denied, reason); /* borrowed; the dict holds only ints */
    if (before != NULL) {
        unsigned long long earlier = PyLong_AsUnsignedLongLong(before);
        if (earlier == (unsigned long long)-1 && PyErr_Occurred()) return -1;
        count += earlier;
    }
    return put(denied, reason, PyLong_FromUnsignedLongLong(count));
}

PyObject *metrics_take(authorizer_metrics *m) {
    PyObject *result = PyDict_New(), *denied = PyDict_New(), *latency = PyList_New((Py_ssize_t)m->latency_count);
    if (result == NULL || denied == NULL || latency == NULL) goto fail;
    for (size_t i = 0; i < m->reason_count; i++)
        if (put(denied, m->denied[i].reason, PyLong_FromUnsignedLongLong(m->denied[i].count)) < 0) goto fail;
    if (m->other_denied > 0 && add_count(denied, METRICS_OTHER_REASON, m->other_denied) < 0) goto fail;
    for (size_t i = 0; i < m->latency_count; i++) {
        PyObject *ms = PyFloat_FromDouble(m->latency_ms[i]);
        if (ms == NULL || PyList_SetItem(latency, (Py_ssize_t)i, ms) < 0) goto fail;
    }
    if (put(result, "allowed", PyLong_FromUnsignedLongLong(m->allowed)) < 0 ||
        PyDict_SetItemString(result, "denied", denied) < 0 ||
        put(result, "introspection_calls", PyLong_FromUnsignedLongLong(m->introspection_calls)) < 0 ||
        PyDict_SetItemString(result, "introspection_latency_ms", latency) < 0 ||
        put(result, "cache_hits", PyLong_FromUnsignedLongLong(m->cache_hits)) < 0 ||
        put(result, "cache_misses", PyLong_FromUnsignedLongLong(m->cache_misses)) < 0)
        goto fail;
    Py_DECREF(denied);
    Py_DECREF(latency);
    metrics_reset(m);
    return result;
fail:
    Py_XDECREF(result);
    Py_XDECREF(denied);
    Py_XDECREF(latency);
    return NULL;
}
