#ifndef OAUTH_PROXY_JWK_H
#define OAUTH_PROXY_JWK_H

/* JSON Web Keys (RFC 7517) for verifying signatures: RSA (n, e), EC P-256/P-384/P-521 (crv, x, y, the point
   checked to lie on the curve) and OKP Ed25519 (x). Private members, when a careless JWKS publishes them, are
   never read. Pure C.
   Convention: functions return 0 on success and -1 on failure; nothing here logs or keeps input text. */

#include <stddef.h>

#include <openssl/evp.h>

typedef enum { JWK_NONE = 0, JWK_RSA, JWK_EC_P256, JWK_EC_P384, JWK_EC_P521, JWK_ED25519 } jwk_type;

/* RSA moduli below this are refused (RFC 7518 section 3.3 asks for 2048 bits at least); above the upper
   bound a key would make every verification slow. */
#define JWK_RSA_MIN_BITS 2048
#define JWK_RSA_MAX_BITS 8192

typedef struct {
    jwk_type type;
    char *kid; /* NULL when the key has no string `kid`; else malloc'ed, NUL-terminated */
    size_t kid_len;
    char alg[8]; /* the key's own `alg` when it names one we know, else "" (any alg of its type) */
    EVP_PKEY *pkey;
} jwk;

typedef struct {
    jwk *keys;
    size_t count;
} jwk_set;

/* One JWK object (JSON text). 0 with *out filled (release with jwk_clear); -1 when it is not a usable
   signature-verification key: malformed, another kty or curve, `use` other than "sig", a wrong-sized
   coordinate or modulus, a point off the curve. */
int jwk_parse(const unsigned char *json, size_t len, jwk *out);
void jwk_clear(jwk *key);

/* A JWKS document: a JSON object whose `keys` member is an array. Keys that are not usable (see jwk_parse)
   are left out, so one exotic key does not hide the others. 0 with *out malloc'ed (free with
   jwk_set_free), possibly with no key; -1 when the document is not such an object. */
int jwk_set_parse(const unsigned char *json, size_t len, jwk_set **out);
void jwk_set_free(jwk_set *set);

/* The key for a token: with a kid (has_kid), the key of that kid and `type`; without, the set's one key
   of `type`, and none when the set holds several of that type. *kid_known tells whether any key carries
   that kid (of any type): an unknown kid may mean a rotation, a known one of another type does not.
   NULL when there is no such key. */
const jwk *jwk_set_find(const jwk_set *set, int has_kid, const char *kid, size_t kid_len, jwk_type type,
                        int *kid_known);

#endif
