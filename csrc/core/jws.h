#ifndef OAUTH_PROXY_JWS_H
#define OAUTH_PROXY_JWS_H

/* JWS compact serialization (RFC 7515) with the asymmetric algorithms of RFC 7518 and RFC 8037: reading a
   token's protected header and checking its signature with a JWK. Symmetric (HS*) and unsecured (`none`)
   algorithms are not known here at all, so no setting can turn them on. Header members that name other keys
   (`jku`, `x5u`, `jwk`, `x5c`) are never read: the key comes from the configured key set only. Pure C.
   Convention: 0 on success, -1 on failure with *why set to a static phrase for the log (never token text). */

#include <stddef.h>

#include "jwk.h"

typedef enum {
    JWS_ALG_UNKNOWN = 0,
    JWS_RS256,
    JWS_RS384,
    JWS_RS512,
    JWS_PS256,
    JWS_PS384,
    JWS_PS512,
    JWS_ES256,
    JWS_ES384,
    JWS_ES512,
    JWS_EDDSA,
    JWS_ALG_COUNT
} jws_alg;

#define JWS_ALG_BIT(alg) (1u << (unsigned)(alg))

/* Longest token read; far above any real JWT, it bounds the work one hostile token can cause. */
#define JWS_MAX_TOKEN (64 * 1024)

const char *jws_alg_name(jws_alg alg);
/* JWS_ALG_UNKNOWN for anything but the ten names above (exact, case-sensitive). */
jws_alg jws_alg_from_name(const char *name, size_t len);
jwk_type jws_alg_key_type(jws_alg alg);

typedef struct {
    jws_alg alg;
    char *kid; /* NULL when the header has no `kid`; else malloc'ed, NUL-terminated */
    size_t kid_len;
    const char *signing_input; /* header "." payload, inside the token */
    size_t signing_input_len;
    unsigned char *signature; /* malloc'ed */
    size_t signature_len;
} jws;

/* 1 when the token has the form of a JWS compact serialization (three non-empty parts of the base64url
   alphabet), else 0: what tells a JWT in a cookie from an opaque token. */
int jws_shaped(const char *token, size_t len);

/* Splits and reads a compact JWS: three strict base64url parts, a header that is a JSON object with a
   string `alg` among ours, a string `kid` when present, no `crit` (no extension is understood). The
   payload is not read here. On 0, release *out with jws_clear; on -1 it is zeroed. */
int jws_parse(const char *token, size_t len, jws *out, const char **why);
void jws_clear(jws *j);

/* The signature of a parsed JWS under `key`, whose type must be the one its alg needs (and whose own `alg`,
   when it has one, must be the token's). */
int jws_verify_signature(const jws *j, const jwk *key, const char **why);

#endif
