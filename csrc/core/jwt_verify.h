#ifndef OAUTH_PROXY_JWT_VERIFY_H
#define OAUTH_PROXY_JWT_VERIFY_H

/* Verification of a JWT against the authorization server's key set (JWKS_URL): the signature (jws.h, with
   the key chosen from the set by jwks_cache.h), then the claims: `exp` present and not past, `nbf` not in
   the future (both with JWT_LEEWAY_S of clock skew), `iss` and `aud` as configured. A token that verified
   may be remembered by a digest of it (token_cache.h) until its `exp`, so a repeated token costs a hash
   instead of a signature check. Pure C.
   Convention: jwt_verifier_new returns NULL with *error malloc'ed; jwt_verifier_check returns a verdict
   with `detail` set to a static-sized phrase for the log, never token text. */

#include <stddef.h>
#include <time.h>

#include "jwks_cache.h"
#include "jws.h"

#define JWT_LEEWAY_S 60

typedef struct {
    unsigned algorithms;          /* JWS_ALG_BIT()s accepted (JWT_ALGORITHMS) */
    const char *issuer;           /* NULL: iss not checked */
    const char *const *audiences; /* audience_count entries; 0: aud not checked */
    size_t audience_count;
    size_t cache_size; /* verified tokens remembered; 0: none */
    long cache_ttl_s;  /* and for at most this long (never past exp); <= 0: none */
} jwt_policy;

typedef struct jwt_verifier jwt_verifier;

typedef enum {
    JWT_VERIFIED,
    JWT_INVALID,         /* not a JWS, refused alg, no key, bad signature, claims refused */
    JWT_KEYS_UNAVAILABLE /* no key set ever fetched, and it cannot be had now */
} jwt_verdict;

/* Takes the key set (owned from now on, also on failure). */
jwt_verifier *jwt_verifier_new(const jwt_policy *policy, jwks_cache *keys, char **error);
void jwt_verifier_free(jwt_verifier *v);

/* The remembered-token digest needs token_digest's shared context: call with the binding's lock held (or
   from one thread), as token_cache.h says. */
jwt_verdict jwt_verifier_check(jwt_verifier *v, const char *token, size_t len, time_t now, char *detail,
                               size_t detail_size);

/* The verification of jwt_verifier_check without the key set: one parsed token under a given key, then its
   claims. For tests, fuzzing and the benchmark's bare-verification baseline. */
jwt_verdict jwt_check_with_key(const jwt_policy *policy, const char *token, size_t len, const jwk *key, time_t now,
                               char *detail, size_t detail_size);

#endif
