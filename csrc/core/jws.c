#include "jws.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "b64url.h"
#include "jwt_claims.h"

static const char *const alg_names[JWS_ALG_COUNT] = {
    "", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
};

const char *jws_alg_name(jws_alg alg) { return alg > JWS_ALG_UNKNOWN && alg < JWS_ALG_COUNT ? alg_names[alg] : ""; }

jws_alg jws_alg_from_name(const char *name, size_t len) {
    for (int a = JWS_RS256; a < JWS_ALG_COUNT; a++)
        if (len == strlen(alg_names[a]) && memcmp(name, alg_names[a], len) == 0) return (jws_alg)a;
    return JWS_ALG_UNKNOWN;
}

jwk_type jws_alg_key_type(jws_alg alg) {
    switch (alg) {
        case JWS_RS256:
        case JWS_RS384:
        case JWS_RS512:
        case JWS_PS256:
        case JWS_PS384:
        case JWS_PS512:
            return JWK_RSA;
        case JWS_ES256:
            return JWK_EC_P256;
        case JWS_ES384:
            return JWK_EC_P384;
        case JWS_ES512:
            return JWK_EC_P521;
        case JWS_EDDSA:
            return JWK_ED25519;
        default:
            return JWK_NONE;
    }
}

/* The digests are fetched from the provider once: an implicit fetch on every verification costs about as
   much as hashing a token. Never freed (process lifetime, like the provider itself). */
static EVP_MD *digests[3];
static pthread_once_t digests_once = PTHREAD_ONCE_INIT;

static void fetch_digests(void) {
    digests[0] = EVP_MD_fetch(NULL, "SHA256", NULL);
    digests[1] = EVP_MD_fetch(NULL, "SHA384", NULL);
    digests[2] = EVP_MD_fetch(NULL, "SHA512", NULL);
}

/* NULL for EdDSA, which hashes inside the algorithm; *failed when a digest could not be fetched. */
static const EVP_MD *digest_of(jws_alg alg, int *failed) {
    int which;
    switch (alg) {
        case JWS_RS256:
        case JWS_PS256:
        case JWS_ES256:
            which = 0;
            break;
        case JWS_RS384:
        case JWS_PS384:
        case JWS_ES384:
            which = 1;
            break;
        case JWS_RS512:
        case JWS_PS512:
        case JWS_ES512:
            which = 2;
            break;
        default:
            *failed = 0;
            return NULL;
    }
    pthread_once(&digests_once, fetch_digests);
    *failed = digests[which] == NULL;
    return digests[which];
}

static int is_b64url(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int jws_shaped(const char *token, size_t len) {
    size_t dots = 0, run = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)token[i];
        if (c == '.') {
            if (run == 0 || ++dots > 2) return 0;
            run = 0;
        } else if (is_b64url(c)) {
            run++;
        } else {
            return 0;
        }
    }
    return dots == 2 && run > 0;
}

static int fail(const char **why, const char *phrase) {
    *why = phrase;
    return -1;
}

enum { H_ALG, H_KID, H_CRIT, H_COUNT };
static const char *const header_names[H_COUNT] = {"alg", "kid", "crit"};
static const size_t header_lens[H_COUNT] = {3, 3, 4};

static int read_header(const unsigned char *json, size_t len, jws *out, const char **why) {
    json_member members[H_COUNT];
    json_wanted want = {header_names, header_lens, H_COUNT, members};
    if (json_members(json, len, &want) != 0) return fail(why, "header is not a JSON object");
    if (members[H_CRIT].type != JSON_ABSENT) return fail(why, "crit header");
    if (members[H_ALG].type != JSON_STRING) return fail(why, "no alg");
    size_t alg_len;
    char *alg = json_member_string(&members[H_ALG], &alg_len);
    if (alg == NULL) return fail(why, "out of memory");
    out->alg = jws_alg_from_name(alg, alg_len);
    free(alg);
    if (out->alg == JWS_ALG_UNKNOWN) return fail(why, "alg not supported");
    if (members[H_KID].type == JSON_STRING) {
        out->kid = json_member_string(&members[H_KID], &out->kid_len);
        if (out->kid == NULL) return fail(why, "out of memory");
    } else if (members[H_KID].type != JSON_ABSENT) {
        return fail(why, "kid is not a string");
    }
    return 0;
}

int jws_parse(const char *token, size_t len, jws *out, const char **why) {
    memset(out, 0, sizeof *out);
    if (len > JWS_MAX_TOKEN) return fail(why, "token too long");
    const char *end = token + len;
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 == NULL ? NULL : memchr(dot1 + 1, '.', (size_t)(end - dot1 - 1));
    if (dot2 == NULL || memchr(dot2 + 1, '.', (size_t)(end - dot2 - 1)) != NULL)
        return fail(why, "not a JWS compact serialization");
    size_t header_len = (size_t)(dot1 - token), payload_len = (size_t)(dot2 - dot1 - 1);
    size_t sig_len = (size_t)(end - dot2 - 1);
    if (header_len == 0 || payload_len == 0 || sig_len == 0) return fail(why, "empty JWS part");

    unsigned char *header = malloc(b64url_decoded_max(header_len));
    out->signature = malloc(b64url_decoded_max(sig_len));
    size_t decoded_len;
    int rc = -1;
    if (header == NULL || out->signature == NULL) {
        fail(why, "out of memory");
    } else if (b64url_decode(token, header_len, header, &decoded_len) != 0 ||
               b64url_decode(dot2 + 1, sig_len, out->signature, &out->signature_len) != 0) {
        fail(why, "bad base64url");
    } else {
        rc = read_header(header, decoded_len, out, why);
    }
    free(header);
    if (rc != 0) {
        jws_clear(out);
        return -1;
    }
    out->signing_input = token;
    out->signing_input_len = (size_t)(dot2 - token);
    return 0;
}

void jws_clear(jws *j) {
    free(j->kid);
    free(j->signature);
    memset(j, 0, sizeof *j);
}

/* JWS carries ECDSA as the raw r || s, each the size of the group order (RFC 7518 section 3.4); OpenSSL
   verifies the DER SEQUENCE of two INTEGERs. *der malloc'ed; 0 or -1. */
static int ecdsa_raw_to_der(const unsigned char *raw, size_t raw_len, unsigned char **der, size_t *der_len) {
    *der = NULL;
    ECDSA_SIG *sig = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(raw, (int)(raw_len / 2), NULL);
    BIGNUM *s = BN_bin2bn(raw + raw_len / 2, (int)(raw_len / 2), NULL);
    if (sig == NULL || r == NULL || s == NULL || ECDSA_SIG_set0(sig, r, s) != 1) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(sig);
        return -1;
    }
    int n = i2d_ECDSA_SIG(sig, der); /* allocates *der with OPENSSL_malloc */
    ECDSA_SIG_free(sig);
    if (n <= 0) return -1;
    *der_len = (size_t)n;
    return 0;
}

static size_t ec_signature_size(jwk_type type) { return type == JWK_EC_P256 ? 64 : type == JWK_EC_P384 ? 96 : 132; }

int jws_verify_signature(const jws *j, const jwk *key, const char **why) {
    jwk_type type = jws_alg_key_type(j->alg);
    if (type == JWK_NONE || key->type != type) return fail(why, "key type does not match alg");
    if (key->alg[0] != '\0' && strcmp(key->alg, jws_alg_name(j->alg)) != 0) return fail(why, "key is for another alg");

    const unsigned char *sig = j->signature;
    size_t sig_len = j->signature_len;
    unsigned char *der = NULL;
    if (type == JWK_RSA) {
        if (sig_len != (size_t)EVP_PKEY_get_size(key->pkey)) return fail(why, "bad signature length");
    } else if (type == JWK_ED25519) {
        if (sig_len != 64) return fail(why, "bad signature length");
    } else {
        if (sig_len != ec_signature_size(type)) return fail(why, "bad signature length");
        if (ecdsa_raw_to_der(sig, sig_len, &der, &sig_len) != 0) return fail(why, "out of memory");
        sig = der;
    }

    int no_digest;
    const EVP_MD *md = digest_of(j->alg, &no_digest);
    EVP_MD_CTX *ctx = no_digest ? NULL : EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok = ctx != NULL && EVP_DigestVerifyInit(ctx, &pctx, md, NULL, key->pkey) == 1;
    if (ok && j->alg >= JWS_PS256 && j->alg <= JWS_PS512) {
        /* RFC 7518 section 3.5: MGF1 with the same hash, salt as long as the hash. */
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) > 0 &&
             EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, md) > 0 &&
             EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) > 0;
    } else if (ok && type == JWK_RSA) {
        ok = EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) > 0;
    }
    int verified =
        ok && EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)j->signing_input, j->signing_input_len) == 1;
    EVP_MD_CTX_free(ctx);
    OPENSSL_free(der);
    if (!verified) ERR_clear_error(); /* a refused token leaves nothing for unrelated OpenSSL users */
    return verified ? 0 : fail(why, ok ? "bad signature" : "cannot set up verification");
}
