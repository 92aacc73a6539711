#ifndef OAUTH_PROXY_JWT_CLAIMS_H
#define OAUTH_PROXY_JWT_CLAIMS_H

#include <stddef.h>

/* The claims the authorizer reads from a JWT: `sub` (principal), `scope` (REQUIRED_SCOPES) and `exp`
   (cache lifetime); and from an RFC 7662 JSON answer, `active`. One strict reader serves both. The
   signature is not checked here: the API behind the gateway verifies the JWT. */
/* Zero is "unknown", so a zeroed or cleared jwt_claims never reads as an answer. */
enum { JSON_ACTIVE_UNKNOWN = 0, JSON_ACTIVE_FALSE = 1, JSON_ACTIVE_TRUE = 2 };

typedef struct {
    char *sub; /* NULL when absent or not a string; else malloc'ed UTF-8, NUL-terminated */
    size_t sub_len;
    char *scope; /* likewise */
    size_t scope_len;
    int has_exp; /* 1 when `exp` is a JSON number */
    double exp;
    int active; /* JSON_ACTIVE_FALSE or _TRUE for exactly one boolean `active`; else JSON_ACTIVE_UNKNOWN
                   (absent, another type, or given twice: ambiguous, so no answer) */
} jwt_claims;

/* 0 when `token` is a JWS compact serialization (three base64url segments) whose payload is a strict
   RFC 8259 JSON object, filling `out`; -1 otherwise, with `out` zeroed. Duplicate members: the last wins,
   as in most JSON parsers. Nesting deeper than 64 levels is refused. */
int jwt_claims_parse(const char *token, size_t len, jwt_claims *out);

/* The same reading of a bare JSON object text (an introspection answer): 0, or -1 with `out` cleared. */
int json_claims_parse(const char *json, size_t len, jwt_claims *out);

void jwt_claims_clear(jwt_claims *claims);

#endif
