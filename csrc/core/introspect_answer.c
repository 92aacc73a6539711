#include "introspect_answer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jws.h"
#include "jwt_claims.h"

static int is_http_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* A fixed reason: never the body, which may hold a credential. */
static introspect_status failed(char *detail, size_t detail_size, const char *why) {
    if (detail != NULL && detail_size > 0) snprintf(detail, detail_size, "%s", why);
    return INTROSPECT_FAILED;
}

introspect_status introspect_classify(long http_status, const char *body, size_t body_len, char **jwt, size_t *jwt_len,
                                      char *detail, size_t detail_size) {
    if (http_status == 204) return INTROSPECT_INACTIVE;
    if (http_status != 200) {
        if (detail != NULL && detail_size > 0) snprintf(detail, detail_size, "HTTP status %ld", http_status);
        return INTROSPECT_FAILED;
    }
    const char *s = body;
    size_t n = body_len;
    while (n > 0 && is_http_ws(s[0])) {
        s++;
        n--;
    }
    while (n > 0 && is_http_ws(s[n - 1])) n--;
    if (n == 0) return INTROSPECT_INACTIVE;
    /* The shape of a signed compact JWS; the payload is checked later by the caller's claim parser. */
    if (jws_shaped(s, n)) {
        char *out = malloc(n + 1);
        if (out == NULL) return failed(detail, detail_size, "out of memory");
        memcpy(out, s, n);
        out[n] = '\0';
        *jwt = out;
        *jwt_len = n;
        return INTROSPECT_JWT;
    }
    /* The same strict JSON reader as for JWT payloads; a duplicated "active" is no answer. */
    jwt_claims answer;
    int active = json_claims_parse(s, n, &answer) == 0 ? answer.active : JSON_ACTIVE_UNKNOWN;
    jwt_claims_clear(&answer);
    if (active == JSON_ACTIVE_FALSE) return INTROSPECT_INACTIVE;
    return failed(detail, detail_size,
                  active == JSON_ACTIVE_TRUE ? "HTTP 200 with JSON active:true instead of a JWT"
                                             : "HTTP 200 with neither a JWT nor an introspection response");
}
