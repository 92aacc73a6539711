/* Values of the authorizer context: API Gateway accepts only strings, numbers and
   booleans there, whether they come from the JWT (CONTEXT_CLAIMS) or from the caller of allow(). */
#include "context_values.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "module_state.h"

PyObject *context_value_of_claim(const json_member *m) {
    switch (m->type) {
        case JSON_TRUE:
            Py_RETURN_TRUE;
        case JSON_FALSE:
            Py_RETURN_FALSE;
        case JSON_STRING: {
            size_t len = 0;
            char *text = json_member_string(m, &len);
            if (text == NULL) return PyErr_NoMemory();
            PyObject *value = PyUnicode_DecodeUTF8(text, (Py_ssize_t)len, "strict");
            free(text);
            return value;
        }
        case JSON_NUMBER: {
            char *text = malloc(m->raw_len + 1);
            if (text == NULL) return PyErr_NoMemory();
            memcpy(text, m->raw, m->raw_len);
            text[m->raw_len] = '\0';
            PyObject *value;
            /* As json.loads reads it: an int unless there is a fraction or an exponent. */
            if (strpbrk(text, ".eE") == NULL) {
                value = PyLong_FromString(text, NULL, 10);
                /* Past Python's limit on integer digits (sys.set_int_max_str_digits): left out, like an overflowing
               float, rather than an exception (on the ALLOW_TOKEN path the token is the caller's). */
                if (value == NULL && PyErr_ExceptionMatches(PyExc_ValueError)) PyErr_Clear();
            } else {
                double number = PyOS_string_to_double(text, NULL, NULL);
                value = number == -1.0 && PyErr_Occurred() ? NULL
                        : isfinite(number)                 ? PyFloat_FromDouble(number)
                                                           : NULL;
            }
            free(text);
            return value;
        }
        default:
            return NULL;
    }
}

static PyObject *type_name(PyObject *obj) { return PyObject_GetAttrString((PyObject *)Py_TYPE(obj), "__name__"); }

int context_add_entries(PyObject *response, PyObject *extra) {
    PyObject *items = PyMapping_Items(extra);
    if (items == NULL) {
        if (PyErr_ExceptionMatches(PyExc_AttributeError) || PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_TypeError, "context must be a mapping of str to str, int, float or bool");
        }
        return -1;
    }
    PyObject *context = PyDict_GetItemWithError(response, g.s_context);
    Py_ssize_t n = PyList_Size(items);
    int rc = context != NULL && n >= 0 ? 0 : -1;
    for (Py_ssize_t i = 0; rc == 0 && i < n; i++) {
        PyObject *item = PyList_GetItem(items, i), *key, *value;
        if (item == NULL || !PyTuple_Check(item) || PyTuple_Size(item) != 2) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "context.items() must give (key, value) pairs");
            rc = -1;
            break;
        }
        key = PyTuple_GetItem(item, 0);
        value = PyTuple_GetItem(item, 1);
        /* Exactly str: a subclass can bring its own __eq__, __hash__ or __str__, and then the key the response
           carries may differ from the one checked against "token" here. */
        if (!PyUnicode_CheckExact(key)) {
            PyObject *name = type_name(key);
            if (name != NULL) PyErr_Format(PyExc_TypeError, "context keys must be str (not a subclass), not %S", name);
            Py_XDECREF(name);
            rc = -1;
        } else if (PyUnicode_Compare(key, g.s_token) == 0) {
            PyErr_SetString(PyExc_ValueError,
                            "context[\"token\"] is set by oauth_proxy (the upstream Authorization header) and "
                            "cannot be overridden");
            rc = -1;
        } else if (!(PyUnicode_Check(value) || PyLong_Check(value) || PyFloat_Check(value))) {
            /* The key names the mistake; the value is not shown (it may be a secret). */
            PyObject *name = type_name(value);
            if (name != NULL)
                PyErr_Format(PyExc_TypeError,
                             "context[%R]: API Gateway accepts only str, int, float or bool values, not %S", key, name);
            Py_XDECREF(name);
            rc = -1;
        } else if (PyFloat_Check(value) && !isfinite(PyFloat_AsDouble(value))) {
            PyErr_Format(PyExc_ValueError, "context[%R]: a float must be finite (JSON has no NaN or infinity)", key);
            rc = -1;
        } else {
            rc = PyDict_SetItem(context, key, value);
        }
    }
    Py_DECREF(items);
    return rc;
}
