#include "python_api.h"

#include "metrics.h"

#include <string.h>

void metrics_denied(authorizer_metrics *m, const char *reason)
{
    size_t len = strnlen(reason, METRICS_MAX_REASON_LEN + 1);
    if (len > METRICS_MAX_REASON_LEN)
        return; /* never the case for a reason code; not worth a truncated dimension */
    for (size_t i = 0; i < m->reason_count; i++) {
        if (strcmp(m->denied[i].reason, reason) == 0) {
            m->denied[i].count++;
            return;
        }
    }
    if (m->reason_count < METRICS_MAX_REASONS) {
        memcpy(m->denied[m->reason_count].reason, reason, len + 1);
        m->denied[m->reason_count].count = 1;
        m->reason_count++;
    }
}

void metrics_introspected(authorizer_metrics *m, double elapsed_ms)
{
    m->introspection_calls++;
    /* Past the hundredth call between two reads the calls are still counted; their times are not. */
    if (m->latency_count < METRICS_MAX_SAMPLES)
        m->latency_ms[m->latency_count++] = elapsed_ms;
}

static int put(PyObject *dict, const char *key, PyObject *value)
{
    if (value == NULL)
        return -1;
    int rc = PyDict_SetItemString(dict, key, value);
    Py_DECREF(value);
    return rc;
}

PyObject *metrics_take(authorizer_metrics *m)
{
    PyObject *result = PyDict_New(), *denied = PyDict_New(), *latency = PyList_New((Py_ssize_t)m->latency_count);
    if (result == NULL || denied == NULL || latency == NULL)
        goto fail;
    for (size_t i = 0; i < m->reason_count; i++) {
        PyObject *count = PyLong_FromUnsignedLongLong(m->denied[i].count);
        if (count == NULL || PyDict_SetItemString(denied, m->denied[i].reason, count) < 0) {
            Py_XDECREF(count);
            goto fail;
        }
        Py_DECREF(count);
    }
    for (size_t i = 0; i < m->latency_count; i++) {
        PyObject *ms = PyFloat_FromDouble(m->latency_ms[i]);
        if (ms == NULL || PyList_SetItem(latency, (Py_ssize_t)i, ms) < 0)
            goto fail;
    }
    if (put(result, "allowed", PyLong_FromUnsignedLongLong(m->allowed)) < 0)
        goto fail;
    if (PyDict_SetItemString(result, "denied", denied) < 0)
        goto fail;
    if (put(result, "introspection_calls", PyLong_FromUnsignedLongLong(m->introspection_calls)) < 0)
        goto fail;
    if (PyDict_SetItemString(result, "introspection_latency_ms", latency) < 0)
        goto fail;
    if (put(result, "cache_hits", PyLong_FromUnsignedLongLong(m->cache_hits)) < 0 ||
        put(result, "cache_misses", PyLong_FromUnsignedLongLong(m->cache_misses)) < 0)
        goto fail;
    Py_DECREF(denied);
    Py_DECREF(latency);
    memset(m, 0, sizeof *m);
    return result;
fail:
    Py_XDECREF(result);
    Py_XDECREF(denied);
    Py_XDECREF(latency);
    return NULL;
}
