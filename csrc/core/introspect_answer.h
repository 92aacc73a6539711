#ifndef OAUTH_PROXY_INTROSPECT_ANSWER_H
#define OAUTH_PROXY_INTROSPECT_ANSWER_H

/* What an introspection endpoint's answer means, when a JWT was asked for (Accept: application/jwt, the
 * phantom token pattern): 200 with a JWT body, the JWT; 204, an empty 200 or JSON {"active": false}, an
 * inactive token; anything else a failure (JSON {"active": true} included: no JWT came back).
 *
 * Convention of this file: the answer is the return value (an introspect_status); outputs are set only as
 * each status says. */

#include <stddef.h>

typedef enum {
    INTROSPECT_JWT,      /* 200 with a JWT body */
    INTROSPECT_INACTIVE, /* 204, an empty 200 or JSON {"active": false} */
    INTROSPECT_FAILED    /* anything else, including transport errors */
} introspect_status;

/* Classifies an HTTP status and the response body (body_len bytes, not NUL-terminated). On INTROSPECT_JWT,
 * *jwt is a malloc'ed, NUL-terminated copy of the body without surrounding whitespace, owned by the caller.
 * On INTROSPECT_FAILED, detail (when not NULL) receives a short reason that never quotes the body. */
introspect_status introspect_classify(long http_status, const char *body, size_t body_len, char **jwt, size_t *jwt_len,
                                      char *detail, size_t detail_size);

#endif
