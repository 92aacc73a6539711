/* The JWS reader and verifier (csrc/core/jws.c, jwt_verify.c's claim checks), run on every bearer token
   when JWKS_URL is set. The first input byte picks one of the fixed keys below (RSA 2048, EC P-256, P-384,
   P-521, Ed25519: the RFC examples' public keys) and the accepted algorithms; the rest is the token.
   Checks: no crash, leak or UB; a parsed token has a known alg, a signing input that is a prefix of the
   token ending before the last dot, and a signature of the stated length; a token only verifies when its
   alg is accepted and fits the key's type; nothing verifies once a signature byte is flipped. */
#include <stdint.h>
#include <time.h>

#include "fuzz_common.h"
#include "jwk.h"
#include "jws.h"
#include "jwt_verify.h"

static const char *const key_texts[] = {
    "{\"kty\":\"RSA\",\"e\":\"AQAB\",\"n\":\"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-"
    "4qPCJrcS2mJ"
    "PMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbB"
    "YUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9"
    "iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ\"}",
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\","
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}",
    "{\"kty\":\"EC\",\"crv\":\"P-521\",\"x\":\"AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-"
    "7ytDyRXY"
    "gCF5cj0Kt\",\"y\":\"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1\"}",
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}",
};
#define KEY_COUNT (sizeof key_texts / sizeof key_texts[0])
static jwk keys[KEY_COUNT];

static void load_keys(void) {
    static int loaded;
    if (loaded) return;
    for (size_t i = 0; i < KEY_COUNT; i++)
        CHECK(jwk_parse((const unsigned char *)key_texts[i], strlen(key_texts[i]), &keys[i]) == 0);
    loaded = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    load_keys();
    if (size < 1) return 0;
    const jwk *key = &keys[data[0] % KEY_COUNT];
    jwt_policy policy = {0};
    policy.algorithms = (data[0] & 0x80) ? 0xFFFFu : JWS_ALG_BIT(JWS_RS256) | JWS_ALG_BIT(JWS_ES256);
    char *token = exact_copy(data + 1, size - 1);
    size_t len = size - 1;

    jws j;
    const char *why = NULL;
    if (jws_parse(token, len, &j, &why) == 0) {
        CHECK(j.alg > JWS_ALG_UNKNOWN && j.alg < JWS_ALG_COUNT);
        CHECK(j.signing_input == token && j.signing_input_len < len && token[j.signing_input_len] == '.');
        CHECK(j.kid == NULL || j.kid[j.kid_len] == '\0');
        if (jws_verify_signature(&j, key, &why) == 0) {
            CHECK(jws_alg_key_type(j.alg) == key->type);
            /* The same token with one signature byte changed must fail. */
            j.signature[0] ^= 1;
            CHECK(jws_verify_signature(&j, key, &why) != 0);
        } else {
            CHECK(why != NULL);
        }
        jws_clear(&j);
    } else {
        CHECK(why != NULL && j.signature == NULL && j.kid == NULL);
    }

    char detail[96];
    jwt_verdict v = jwt_check_with_key(&policy, token, len, key, (time_t)1300819000, detail, sizeof detail);
    CHECK(v == JWT_VERIFIED || v == JWT_INVALID);
    CHECK(memchr(detail, '\0', sizeof detail) != NULL);
    free(token);
    return 0;
}
