#ifndef OAUTH_PROXY_EVENT_H
#define OAUTH_PROXY_EVENT_H

/* Reads what the decision needs out of an API Gateway authorizer event, without copying: spans point into the
   event's strings, which the request keeps alive (strong references) for the duration of the call. Nothing
   here runs Python code after the first lookups, so the spans stay valid while the GIL is held.
   One reader per payload format (event.c); everything else takes the format as an event_format. */

#include "python_api.h"
#include "cookie_header.h"
#include "span.h"

#define MAX_COOKIE_HEADER_BYTES (64 * 1024)
#define MAX_OWN_COOKIE_BYTES (16 * 1024)

enum header_state { HEADER_ABSENT = 0, HEADER_ONE, HEADER_AMBIGUOUS };

typedef struct {
    span value;
    enum header_state state;
} single_header;

/* The names a request is searched for; made from the cookie prefix once per authorizer. */
typedef struct {
    span at_cookie;   /* <prefix>-at */
    span csrf_cookie; /* <prefix>-csrf */
    span csrf_header; /* x-<prefix>-csrf, lower case */
    int read_route;   /* ROUTE_SCOPES is set: the route must be read too */
} request_names;

/* The payload formats API Gateway sends a Lambda authorizer. */
typedef enum {
    EVENT_REST_V1, /* REST API REQUEST authorizer, payload 1.0: methodArn, httpMethod, headers, multiValueHeaders */
    EVENT_HTTP_V2, /* HTTP API, payload 2.0 ("version": "2.0"): routeArn, requestContext.http.method, lower-case
                      headers, the cookies in `cookies` */
} event_format;

typedef struct {
    event_format format;
    PyObject *arn;      /* new reference or NULL */
    PyObject *held[10]; /* strong references to what was looked up in the event (at most 8 lookups, for a
                           payload 2.0 event read with ROUTE_SCOPES; the guard in event.c refuses more) */
    size_t held_count;
    span method;
    span route; /* with read_route: REST `resource`, or the path of HTTP API `routeKey` (all of `$default`) */
    single_header origin, authorization, csrf_header;
    span *cookies; /* each a Cookie header (1.0) or an entry of `cookies` (2.0) */
    size_t cookie_count;
    size_t cookie_capacity;
    span cookie_inline[4];
    size_t at_count, csrf_count; /* occurrences of our two cookies */
} request;

enum { REQUEST_OK = 0, REQUEST_BAD = -1, REQUEST_PY_ERROR = -2 };

/* REQUEST_OK, REQUEST_BAD (malformed or oversized: the `bad_event` denial; req->arn may still be set), or
   REQUEST_PY_ERROR with a Python exception set (out of memory). Always call request_release. */
int request_read(PyObject *event, const request_names *names, request *req);
void request_release(request *req);

/* What an answer built outside request_read needs (allow, deny): the event's format, and its method or route
   ARN (a new reference to a str, or NULL when absent). 0, or -1 with a Python exception. */
int event_format_and_arn(PyObject *event, event_format *format, PyObject **arn);

/* Iterates the values of one cookie name across all Cookie headers of the request, in order. */
typedef struct {
    const request *req;
    size_t header;
    cookie_cursor cursor;
} cookie_iter;

void cookie_iter_init(cookie_iter *it, const request *req);
int cookie_iter_next(cookie_iter *it, span name, span *value);

#endif
