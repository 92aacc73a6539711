#ifndef OAUTH_PROXY_JWT_CLAIMS_H
#define OAUTH_PROXY_JWT_CLAIMS_H

#include <stddef.h>

/* The claims the authorizer reads from a JWT: `sub` (principal), `scope` (REQUIRED_SCOPES) and `exp`
   (cache lifetime). The signature is not checked here: the token came out of our own encrypted cookie or
   from the authorization server, and the API behind the gateway verifies it. */
typedef struct {
    char *sub; /* NULL when absent or not a string; else malloc'ed UTF-8, NUL-terminated */
    size_t sub_len;
    char *scope; /* likewise */
    size_t scope_len;
    int has_exp; /* 1 when `exp` is a JSON number */
    double exp;
} jwt_claims;

/* 0 when `token` is a JWS compact serialization (three base64url segments) whose payload is a strict
   RFC 8259 JSON object, filling `out`; -1 otherwise, with `out` zeroed. Duplicate members: the last wins,
   as in most JSON parsers. Nesting deeper than 64 levels is refused. */
int jwt_claims_parse(const char *token, size_t len, jwt_claims *out);

void jwt_claims_clear(jwt_claims *claims);

#endif
