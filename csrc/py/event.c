#include "event.h"

#include <string.h>

#include "module_state.h"

/* Under the limited API, PyUnicode_Check and friends are calls to PyType_GetFlags. An event from
   json.loads holds exact str, list and dict objects, so an identity test answers almost every check inline;
   subclasses still go the long way. */
#define IS_STR(o) (Py_TYPE(o) == &PyUnicode_Type || PyUnicode_Check(o))
#define IS_DICT(o) (Py_TYPE(o) == &PyDict_Type || PyDict_Check(o))
#define IS_LIST(o) (Py_TYPE(o) == &PyList_Type || PyList_Check(o))

/* UTF-8 view of a str; NULL for any other type or a str that cannot be encoded (lone surrogates). */
static const char *utf8_of(PyObject *obj, size_t *len) {
    if (!IS_STR(obj)) return NULL;
    Py_ssize_t n = 0;
    const char *s = PyUnicode_AsUTF8AndSize(obj, &n);
    if (s == NULL) {
        PyErr_Clear();
        return NULL;
    }
    *len = (size_t)n;
    return s;
}

static int same_name(const char *a, size_t an, const char *b, size_t bn) {
    if (an != bn) return 0;
    for (size_t i = 0; i < an; i++) {
        unsigned char c = (unsigned char)a[i];
        if (c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
        if (c != (unsigned char)b[i]) return 0; /* b is lower case */
    }
    return 1;
}

/* A header that may be sent once: a second, different value makes it ambiguous, and the checks that read
   it then fail closed. */
static void note_single(single_header *h, const char *s, size_t n) {
    if (h->state == HEADER_ABSENT) {
        h->value.p = s;
        h->value.n = n;
        h->state = HEADER_ONE;
    } else if (h->state == HEADER_ONE && (h->value.n != n || memcmp(h->value.p, s, n) != 0)) {
        h->state = HEADER_AMBIGUOUS;
    }
}

static int add_cookie_header(request *req, const char *s, size_t n) {
    if (req->cookie_count == req->cookie_capacity) {
        size_t cap = req->cookie_capacity * 2;
        span *grown;
        if (req->cookies == req->cookie_inline) {
            grown = PyMem_Malloc(cap * sizeof *grown);
            if (grown != NULL) memcpy(grown, req->cookies, req->cookie_count * sizeof *grown);
        } else {
            grown = PyMem_Realloc(req->cookies, cap * sizeof *grown);
        }
        if (grown == NULL) {
            PyErr_NoMemory();
            return REQUEST_PY_ERROR;
        }
        req->cookies = grown;
        req->cookie_capacity = cap;
    }
    req->cookies[req->cookie_count].p = s;
    req->cookies[req->cookie_count].n = n;
    req->cookie_count++;
    return REQUEST_OK;
}

enum header_kind { OTHER_HEADER, ORIGIN, AUTHORIZATION, CSRF_HEADER, COOKIE };

static enum header_kind classify(PyObject *key, const request_names *names, int cookies_allowed) {
    size_t n = 0;
    const char *s = utf8_of(key, &n);
    if (s == NULL) return OTHER_HEADER;
    if (same_name(s, n, "origin", 6)) return ORIGIN;
    if (same_name(s, n, "authorization", 13)) return AUTHORIZATION;
    if (cookies_allowed && same_name(s, n, "cookie", 6)) return COOKIE;
    if (same_name(s, n, names->csrf_header.p, names->csrf_header.n)) return CSRF_HEADER;
    return OTHER_HEADER;
}

static int note_value(request *req, enum header_kind kind, PyObject *value) {
    size_t n = 0;
    const char *s = utf8_of(value, &n);
    if (s == NULL) return REQUEST_BAD;
    switch (kind) {
        case ORIGIN:
            note_single(&req->origin, s, n);
            break;
        case AUTHORIZATION:
            note_single(&req->authorization, s, n);
            break;
        case CSRF_HEADER:
            note_single(&req->csrf_header, s, n);
            break;
        case COOKIE:
            return add_cookie_header(req, s, n);
        case OTHER_HEADER:
            break;
    }
    return REQUEST_OK;
}

/* `headers`: name -> str (None tolerated as absent). With `skip_cookies`, Cookie values here are ignored
   because multiValueHeaders already listed them all. */
static int read_headers(PyObject *headers, const request_names *names, request *req, int cookies_allowed,
                        int skip_cookies) {
    if (headers == NULL || headers == Py_None) return REQUEST_OK;
    if (!IS_DICT(headers)) return REQUEST_BAD;
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(headers, &pos, &key, &value)) {
        if (!IS_STR(key)) return REQUEST_BAD;
        enum header_kind kind = classify(key, names, cookies_allowed);
        if (value == Py_None) continue;
        if (kind == OTHER_HEADER) {
            if (!IS_STR(value)) return REQUEST_BAD;
            continue;
        }
        if (kind == COOKIE && skip_cookies) continue;
        int rc = note_value(req, kind, value);
        if (rc != REQUEST_OK) return rc;
    }
    return REQUEST_OK;
}

/* `multiValueHeaders`: name -> list of str. */
static int read_multi_value_headers(PyObject *headers, const request_names *names, request *req) {
    if (headers == NULL || headers == Py_None) return REQUEST_OK;
    if (!IS_DICT(headers)) return REQUEST_BAD;
    Py_ssize_t pos = 0;
    PyObject *key, *values;
    while (PyDict_Next(headers, &pos, &key, &values)) {
        if (!IS_STR(key)) return REQUEST_BAD;
        if (values == Py_None) continue;
        if (!IS_LIST(values)) return REQUEST_BAD;
        enum header_kind kind = classify(key, names, 1);
        Py_ssize_t count = PyList_Size(values);
        for (Py_ssize_t i = 0; i < count; i++) {
            PyObject *value = PyList_GetItem(values, i);
            if (value == NULL) return REQUEST_PY_ERROR;
            if (kind == OTHER_HEADER) {
                if (!IS_STR(value)) return REQUEST_BAD;
                continue;
            }
            int rc = note_value(req, kind, value);
            if (rc != REQUEST_OK) return rc;
        }
    }
    return REQUEST_OK;
}

static int read_cookie_list(PyObject *cookies, request *req) {
    if (cookies == NULL || cookies == Py_None) return REQUEST_OK;
    if (!IS_LIST(cookies)) return REQUEST_BAD;
    Py_ssize_t count = PyList_Size(cookies);
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *item = PyList_GetItem(cookies, i);
        size_t n = 0;
        const char *s;
        if (item == NULL) return REQUEST_PY_ERROR;
        if ((s = utf8_of(item, &n)) == NULL) return REQUEST_BAD;
        int rc = add_cookie_header(req, s, n);
        if (rc != REQUEST_OK) return rc;
    }
    return REQUEST_OK;
}

/* An item of a dict, NULL when absent (or when `dict` is not a dict); -1 only on a lookup error. The request
   keeps a strong reference to it: a later lookup may run Python code (a str subclass key with its own
   __eq__) that removes the item from the event, and what we read must outlive that. */
static int get_item(request *req, PyObject *dict, PyObject *key, PyObject **out) {
    *out = NULL;
    if (dict == NULL || !IS_DICT(dict)) return 0;
    *out = PyDict_GetItemWithError(dict, key);
    if (*out == NULL) return PyErr_Occurred() ? -1 : 0;
    if (req->held_count == sizeof req->held / sizeof req->held[0]) {
        PyErr_SetString(PyExc_SystemError, "oauth_proxy: more event lookups than request.held can keep");
        return -1;
    }
    Py_INCREF(*out);
    req->held[req->held_count++] = *out;
    return 0;
}

static int span_of(PyObject *obj, span *out) {
    size_t n = 0;
    const char *s = obj ? utf8_of(obj, &n) : NULL;
    if (s == NULL || n == 0) return -1;
    out->p = s;
    out->n = n;
    return 0;
}

/* Sizes bound the work a request can cause: all Cookie headers together, and each of our own cookies
   (wherever it appears; unrelated cookies are not our business). */
static int check_cookie_sizes(request *req, const request_names *names) {
    size_t total = 0;
    for (size_t i = 0; i < req->cookie_count; i++) {
        total += req->cookies[i].n;
        if (total > MAX_COOKIE_HEADER_BYTES) return REQUEST_BAD;
    }
    for (size_t i = 0; i < req->cookie_count; i++) {
        cookie_cursor cursor;
        const char *name, *value;
        size_t name_len, value_len;
        cookie_cursor_init(&cursor, req->cookies[i].p, req->cookies[i].n);
        while (cookie_cursor_next(&cursor, &name, &name_len, &value, &value_len)) {
            int at = name_len == names->at_cookie.n && memcmp(name, names->at_cookie.p, name_len) == 0;
            int csrf = !at && names->csrf_cookie.n != 0 && name_len == names->csrf_cookie.n &&
                       memcmp(name, names->csrf_cookie.p, name_len) == 0;
            if (!at && !csrf) continue;
            if (value_len > MAX_OWN_COOKIE_BYTES) return REQUEST_BAD;
            if (at)
                req->at_count++;
            else
                req->csrf_count++;
        }
    }
    return REQUEST_OK;
}

/* The key of the ARN an answer's Resource is made from. */
static PyObject *arn_key(event_format format) { return format == EVENT_HTTP_V2 ? g.s_route_arn : g.s_method_arn; }

static event_format format_of(PyObject *version) {
    /* The comparison of two str runs no Python code and cannot fail. */
    return version != NULL && IS_STR(version) && PyUnicode_Compare(version, g.s_v2) == 0 ? EVENT_HTTP_V2
                                                                                         : EVENT_REST_V1;
}

/* The ARN (a str, or the request stays without one) and the method: REQUEST_BAD without either. */
static int note_arn_and_method(request *req, PyObject *arn, PyObject *method) {
    if (arn != NULL && IS_STR(arn)) {
        Py_INCREF(arn);
        req->arn = arn;
    }
    return req->arn != NULL && span_of(method, &req->method) == 0 ? REQUEST_OK : REQUEST_BAD;
}

/* Payload 1.0. The route is the resource template as configured (`/orders/{id}`). */
static int read_rest_v1(PyObject *event, const request_names *names, request *req) {
    PyObject *arn, *method, *headers, *multi, *route = NULL;
    if (get_item(req, event, g.s_method_arn, &arn) < 0 || get_item(req, event, g.s_headers, &headers) < 0 ||
        get_item(req, event, g.s_http_method, &method) < 0 ||
        get_item(req, event, g.s_multi_value_headers, &multi) < 0 ||
        (names->read_route && get_item(req, event, g.s_event_resource, &route) < 0))
        return REQUEST_PY_ERROR;
    if (note_arn_and_method(req, arn, method) != REQUEST_OK) return REQUEST_BAD;
    if (names->read_route && span_of(route, &req->route) != 0) return REQUEST_BAD;
    /* multiValueHeaders lists every Cookie header; `headers` then holds only the last of them. */
    int rc = read_multi_value_headers(multi, names, req);
    if (rc == REQUEST_OK) rc = read_headers(headers, names, req, 1, req->cookie_count > 0);
    return rc;
}

/* Payload 2.0. The route is the path of `routeKey` ("GET /orders/{id}" -> "/orders/{id}"), or the whole key
   when it has no method part ("$default"). Cookies come only from `cookies`, never from `headers`. */
static int read_http_v2(PyObject *event, const request_names *names, request *req) {
    PyObject *arn, *headers, *context, *http, *method, *cookies, *route = NULL;
    if (get_item(req, event, g.s_route_arn, &arn) < 0 || get_item(req, event, g.s_headers, &headers) < 0 ||
        get_item(req, event, g.s_request_context, &context) < 0 || get_item(req, context, g.s_http, &http) < 0 ||
        get_item(req, http, g.s_method, &method) < 0 || get_item(req, event, g.s_cookies, &cookies) < 0 ||
        (names->read_route && get_item(req, event, g.s_route_key, &route) < 0))
        return REQUEST_PY_ERROR;
    if (note_arn_and_method(req, arn, method) != REQUEST_OK) return REQUEST_BAD;
    if (names->read_route) {
        if (span_of(route, &req->route) != 0) return REQUEST_BAD;
        const char *blank = memchr(req->route.p, ' ', req->route.n);
        if (blank != NULL) {
            size_t skip = (size_t)(blank - req->route.p) + 1;
            if (skip >= req->route.n) return REQUEST_BAD;
            req->route.p += skip;
            req->route.n -= skip;
        }
    }
    int rc = read_headers(headers, names, req, 0, 0);
    if (rc == REQUEST_OK) rc = read_cookie_list(cookies, req);
    return rc;
}

int request_read(PyObject *event, const request_names *names, request *req) {
    memset(req, 0, sizeof *req);
    req->cookies = req->cookie_inline;
    req->cookie_capacity = sizeof req->cookie_inline / sizeof req->cookie_inline[0];
    if (!IS_DICT(event)) return REQUEST_BAD;

    /* In each reader, every lookup that could run Python code happens first, each keeping a strong reference,
       before any span is taken; nothing after them runs Python code. */
    PyObject *version;
    if (get_item(req, event, g.s_version, &version) < 0) return REQUEST_PY_ERROR;
    req->format = format_of(version);
    int rc = req->format == EVENT_HTTP_V2 ? read_http_v2(event, names, req) : read_rest_v1(event, names, req);
    if (rc == REQUEST_OK) rc = check_cookie_sizes(req, names);
    return rc;
}

int event_format_and_arn(PyObject *event, event_format *format, PyObject **arn) {
    *format = EVENT_REST_V1;
    *arn = NULL;
    if (!IS_DICT(event)) return 0;
    PyObject *version = PyDict_GetItemWithError(event, g.s_version);
    if (version == NULL && PyErr_Occurred()) return -1;
    *format = format_of(version);
    PyObject *found = PyDict_GetItemWithError(event, arn_key(*format));
    if (found == NULL) return PyErr_Occurred() ? -1 : 0;
    if (IS_STR(found)) {
        Py_INCREF(found);
        *arn = found;
    }
    return 0;
}

void request_release(request *req) {
    Py_CLEAR(req->arn);
    for (size_t i = 0; i < req->held_count; i++) Py_DECREF(req->held[i]);
    req->held_count = 0;
    if (req->cookies != req->cookie_inline) PyMem_Free(req->cookies);
    req->cookies = req->cookie_inline;
    req->cookie_count = 0;
}

void cookie_iter_init(cookie_iter *it, const request *req) {
    it->req = req;
    it->header = 0;
    if (req->cookie_count > 0) cookie_cursor_init(&it->cursor, req->cookies[0].p, req->cookies[0].n);
}

int cookie_iter_next(cookie_iter *it, span name, span *value) {
    while (it->header < it->req->cookie_count) {
        const char *n, *v;
        size_t n_len, v_len;
        while (cookie_cursor_next(&it->cursor, &n, &n_len, &v, &v_len)) {
            if (n_len == name.n && memcmp(n, name.p, n_len) == 0) {
                value->p = v;
                value->n = v_len;
                return 1;
            }
        }
        if (++it->header < it->req->cookie_count)
            cookie_cursor_init(&it->cursor, it->req->cookies[it->header].p, it->req->cookies[it->header].n);
    }
    return 0;
}
