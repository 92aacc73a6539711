#ifndef OAUTH_PROXY_JWT_CLAIMS_H
#define OAUTH_PROXY_JWT_CLAIMS_H

#include <stddef.h>

/* The claims the authorizer reads from a JWT: `sub` (principal), `scope` (REQUIRED_SCOPES) and `exp`
   (cache lifetime); and from an RFC 7662 JSON answer, `active`. One strict reader serves both. The
   signature is not checked here: the API behind the gateway verifies the JWT.
   Convention of this file: int results are 0, or -1 for text that is refused (outputs then cleared);
   pointers are NULL when out of memory. */
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

/* The decoded payload of a token shaped like a JWS compact serialization: 0 with *json malloc'ed (free()
   it) and not yet checked as JSON, or -1. */
int jwt_payload(const char *token, size_t len, unsigned char **json, size_t *json_len);

/* Selected members of the top-level JSON object (CONTEXT_CLAIMS), found in the same scan as the claims. */
enum { JSON_ABSENT = 0, JSON_STRING, JSON_NUMBER, JSON_TRUE, JSON_FALSE, JSON_OTHER };

typedef struct {
    int type;
    const unsigned char *raw; /* the value's text inside the JSON, quotes included for a string */
    size_t raw_len;
} json_member;

typedef struct {
    const char *const *names; /* UTF-8 member names */
    const size_t *name_lens;
    size_t count;
    json_member *found; /* count entries: the last member of each name, JSON_ABSENT when missing */
} json_wanted;

/* jwt_claims_parse that also fills want->found. On 0, *payload is the decoded payload the found spans point
   into (malloc'ed: free() it after using them); on -1 it is NULL. */
int jwt_claims_parse_wanted(const char *token, size_t len, jwt_claims *out, const json_wanted *want,
                            unsigned char **payload);

/* want->found for a bare JSON object text: 0, or -1 when it is not a strict JSON object. */
int json_members(const unsigned char *json, size_t len, const json_wanted *want);

/* The decoded UTF-8 of a JSON_STRING member: malloc'ed, NUL-terminated, or NULL when out of memory. */
char *json_member_string(const json_member *member, size_t *len);

#endif
