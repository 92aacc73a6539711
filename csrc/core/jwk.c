#include "jwk.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/param_build.h>

#include "b64url.h"
#include "jwt_claims.h"

/* A JWKS is small; a larger document is refused rather than parsed (a key set with thousands of keys is
   not one an authorization server publishes). */
#define JWK_MAX_KEYS 256

enum { M_KTY, M_CRV, M_X, M_Y, M_N, M_E, M_KID, M_USE, M_ALG, M_COUNT };
static const char *const member_names[M_COUNT] = {"kty", "crv", "x", "y", "n", "e", "kid", "use", "alg"};
static const size_t member_lens[M_COUNT] = {3, 3, 1, 1, 1, 1, 3, 3, 3};

/* The decoded text of a string member, or NULL (absent, another type, out of memory). */
static char *string_of(const json_member *m, size_t *len) {
    *len = 0;
    if (m->type != JSON_STRING) return NULL;
    return json_member_string(m, len);
}

static int text_is(const char *s, size_t len, const char *want) {
    return s != NULL && len == strlen(want) && memcmp(s, want, len) == 0;
}

/* The bytes of a base64url string member: malloc'ed (free() it), NULL when absent, not a string or not
   strict base64url. */
static unsigned char *bytes_of(const json_member *m, size_t *len) {
    size_t text_len;
    char *text = string_of(m, &text_len);
    if (text == NULL) return NULL;
    unsigned char *out = malloc(b64url_decoded_max(text_len) + 1);
    if (out != NULL && (text_len == 0 || b64url_decode(text, text_len, out, len) != 0)) {
        free(out);
        out = NULL;
    }
    free(text);
    return out;
}

static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld) {
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) <= 0 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static EVP_PKEY *rsa_key(const json_member *members) {
    size_t n_len = 0, e_len = 0;
    unsigned char *n = bytes_of(&members[M_N], &n_len);
    unsigned char *e = bytes_of(&members[M_E], &e_len);
    EVP_PKEY *pkey = NULL;
    BIGNUM *bn_n = NULL, *bn_e = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    /* e: odd, at least 3, at most 64 bits (larger exponents only slow verification down). */
    if (n == NULL || e == NULL || e_len > 8) goto out;
    bn_n = BN_bin2bn(n, (int)n_len, NULL);
    bn_e = BN_bin2bn(e, (int)e_len, NULL);
    if (bn_n == NULL || bn_e == NULL) goto out;
    int bits = BN_num_bits(bn_n);
    if (bits < JWK_RSA_MIN_BITS || bits > JWK_RSA_MAX_BITS || !BN_is_odd(bn_n)) goto out;
    if (!BN_is_odd(bn_e) || BN_is_one(bn_e)) goto out;
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL || !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) ||
        !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e))
        goto out;
    pkey = from_params("RSA", bld);
out:
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    free(n);
    free(e);
    return pkey;
}

/* OpenSSL's own check: the point is on the curve, not at infinity, and of the group's order. */
static int public_key_valid(EVP_PKEY *pkey) {
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = ctx != NULL && EVP_PKEY_public_check(ctx) == 1;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

static EVP_PKEY *ec_key(const json_member *members, jwk_type *type) {
    size_t crv_len = 0, x_len = 0, y_len = 0, size;
    char *crv = string_of(&members[M_CRV], &crv_len);
    const char *group;
    if (text_is(crv, crv_len, "P-256")) {
        *type = JWK_EC_P256, group = "P-256", size = 32;
    } else if (text_is(crv, crv_len, "P-384")) {
        *type = JWK_EC_P384, group = "P-384", size = 48;
    } else if (text_is(crv, crv_len, "P-521")) {
        *type = JWK_EC_P521, group = "P-521", size = 66;
    } else {
        free(crv);
        return NULL;
    }
    free(crv);
    unsigned char *x = bytes_of(&members[M_X], &x_len);
    unsigned char *y = bytes_of(&members[M_Y], &y_len);
    unsigned char *point = malloc(1 + 2 * size);
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    /* RFC 7518 section 6.2.1.2: each coordinate is exactly the field size, leading zeros included. */
    if (x == NULL || y == NULL || point == NULL || x_len != size || y_len != size) goto out;
    point[0] = 0x04; /* uncompressed */
    memcpy(point + 1, x, size);
    memcpy(point + 1 + size, y, size);
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL || !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, group, 0) ||
        !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, 1 + 2 * size))
        goto out;
    pkey = from_params("EC", bld);
    if (pkey != NULL && !public_key_valid(pkey)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
out:
    OSSL_PARAM_BLD_free(bld);
    free(point);
    free(x);
    free(y);
    return pkey;
}

static EVP_PKEY *okp_key(const json_member *members) {
    size_t crv_len = 0, x_len = 0;
    char *crv = string_of(&members[M_CRV], &crv_len);
    int ed25519 = text_is(crv, crv_len, "Ed25519");
    free(crv);
    if (!ed25519) return NULL;
    unsigned char *x = bytes_of(&members[M_X], &x_len);
    EVP_PKEY *pkey = NULL;
    if (x != NULL && x_len == 32) pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, x_len);
    free(x);
    return pkey;
}

/* The key's `alg`, when present, must be one of ours and fit the key type; it then restricts the key. */
static int read_alg(const json_member *m, jwk *out) {
    if (m->type == JSON_ABSENT) return 0;
    size_t len;
    char *alg = string_of(m, &len);
    if (alg == NULL || len >= sizeof out->alg) {
        free(alg);
        return -1;
    }
    memcpy(out->alg, alg, len + 1);
    free(alg);
    const char *a = out->alg;
    switch (out->type) {
        case JWK_RSA:
            return (a[0] == 'R' || a[0] == 'P') && a[1] == 'S' &&
                           (!strcmp(a + 2, "256") || !strcmp(a + 2, "384") || !strcmp(a + 2, "512"))
                       ? 0
                       : -1;
        case JWK_EC_P256:
            return strcmp(a, "ES256") == 0 ? 0 : -1;
        case JWK_EC_P384:
            return strcmp(a, "ES384") == 0 ? 0 : -1;
        case JWK_EC_P521:
            return strcmp(a, "ES512") == 0 ? 0 : -1;
        case JWK_ED25519:
            return strcmp(a, "EdDSA") == 0 ? 0 : -1;
        default:
            return -1;
    }
}

int jwk_parse(const unsigned char *json, size_t len, jwk *out) {
    memset(out, 0, sizeof *out);
    json_member members[M_COUNT];
    json_wanted want = {member_names, member_lens, M_COUNT, members};
    if (json_members(json, len, &want) != 0) return -1;

    size_t kty_len = 0, use_len = 0;
    char *kty = string_of(&members[M_KTY], &kty_len);
    char *use = string_of(&members[M_USE], &use_len);
    int use_ok = members[M_USE].type == JSON_ABSENT || text_is(use, use_len, "sig");
    free(use);
    if (use_ok && text_is(kty, kty_len, "RSA")) {
        out->type = JWK_RSA;
        out->pkey = rsa_key(members);
    } else if (use_ok && text_is(kty, kty_len, "EC")) {
        out->pkey = ec_key(members, &out->type);
    } else if (use_ok && text_is(kty, kty_len, "OKP")) {
        out->type = JWK_ED25519;
        out->pkey = okp_key(members);
    }
    free(kty);
    if (out->pkey == NULL || read_alg(&members[M_ALG], out) != 0) goto fail;
    if (members[M_KID].type == JSON_STRING) {
        out->kid = string_of(&members[M_KID], &out->kid_len);
        if (out->kid == NULL) goto fail;
    } else if (members[M_KID].type != JSON_ABSENT) {
        goto fail;
    }
    return 0;
fail:
    ERR_clear_error(); /* a refused key leaves nothing for unrelated OpenSSL users */
    jwk_clear(out);
    return -1;
}

void jwk_clear(jwk *key) {
    EVP_PKEY_free(key->pkey);
    free(key->kid);
    memset(key, 0, sizeof *key);
}

static const char *const set_names[1] = {"keys"};
static const size_t set_lens[1] = {4};

int jwk_set_parse(const unsigned char *json, size_t len, jwk_set **out) {
    *out = NULL;
    json_member keys;
    json_wanted want = {set_names, set_lens, 1, &keys};
    if (json_members(json, len, &want) != 0 || keys.raw_len == 0 || keys.raw[0] != '[') return -1;
    jwk_set *set = calloc(1, sizeof *set);
    if (set == NULL) return -1;
    size_t offset = 0, elements = 0;
    json_member element;
    int rc;
    while ((rc = json_array_next(&keys, &offset, &element)) == 1) {
        if (++elements > JWK_MAX_KEYS) break;
        if (set->keys == NULL) {
            set->keys = calloc(JWK_MAX_KEYS, sizeof *set->keys);
            if (set->keys == NULL) break;
        }
        if (element.raw[0] == '{' && jwk_parse(element.raw, element.raw_len, &set->keys[set->count]) == 0) set->count++;
    }
    if (rc != 0) {
        jwk_set_free(set);
        return -1;
    }
    *out = set;
    return 0;
}

void jwk_set_free(jwk_set *set) {
    if (set == NULL) return;
    for (size_t i = 0; i < set->count; i++) jwk_clear(&set->keys[i]);
    free(set->keys);
    free(set);
}

const jwk *jwk_set_find(const jwk_set *set, int has_kid, const char *kid, size_t kid_len, jwk_type type,
                        int *kid_known) {
    *kid_known = 0;
    const jwk *found = NULL;
    size_t of_type = 0;
    for (size_t i = 0; set != NULL && i < set->count; i++) {
        const jwk *k = &set->keys[i];
        if (has_kid) {
            if (k->kid == NULL || k->kid_len != kid_len || memcmp(k->kid, kid, kid_len) != 0) continue;
            *kid_known = 1;
            if (k->type == type && found == NULL) found = k;
        } else if (k->type == type) {
            found = k;
            of_type++;
        }
    }
    if (!has_kid && of_type != 1) return NULL;
    return found;
}
