/* The JWKS cache (csrc/core/jwks_cache.c): when it fetches, what it keeps, what a lookup answers. A fake fetch
   answers from the input (one of three key sets, a failure, or a document that is not a key set); the rest of
   the input is a sequence of lookups, some after the clock moved on. Each step is checked against a model
   written the obvious way: nothing held -> fetch on every lookup; a kid the held set does not know -> fetch,
   but not again within JWKS_REFETCH_INTERVAL_S of the last such fetch; a failed fetch keeps what was held. */
#include <stdint.h>

#include "fuzz_common.h"
#include "jwks_cache.h"

#define RSA_1                                                                                                         \
    "{\"kty\":\"RSA\",\"kid\":\"rsa-1\",\"e\":\"AQAB\",\"n\":\"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_"                    \
    "wWJcyQoTbji9k0l8W26mPddxHmfH"                                                                                    \
    "Qp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaS" \
    "HSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DW"  \
    "NmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ\"}"
#define EC_1                                                                                                    \
    "{\"kty\":\"EC\",\"kid\":\"ec-1\",\"crv\":\"P-256\",\"x\":\"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU\"," \
    "\"y\":\"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0\"}"
#define ED_1 \
    "{\"kty\":\"OKP\",\"kid\":\"ed-1\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}"

/* Which kids each document holds: bit 0 rsa-1, bit 1 ec-1, bit 2 ed-1. */
static const char *const documents[] = {"{\"keys\":[" RSA_1 "]}", "{\"keys\":[" RSA_1 "," EC_1 "]}",
                                        "{\"keys\":[" ED_1 "]}"};
static const unsigned holds[] = {1, 3, 4};
static const char *const kids[] = {"rsa-1", "ec-1", "ed-1", "unknown"};
static const jwk_type kid_types[] = {JWK_RSA, JWK_EC_P256, JWK_ED25519, JWK_RSA};

typedef struct {
    const uint8_t *data;
    size_t size, pos;
    int last_answer; /* -1 failure or garbage, else the document given */
} script;

static uint8_t next_byte(script *s) { return s->pos < s->size ? s->data[s->pos++] : 0; }

static int fake_fetch(void *ctx, unsigned char **body, size_t *len, char *detail, size_t detail_size) {
    script *s = ctx;
    uint8_t b = next_byte(s) % 5;
    s->last_answer = b < 3 ? b : -1;
    if (b == 3) {
        snprintf(detail, detail_size, "HTTP status 503");
        return -1;
    }
    const char *text = b < 3 ? documents[b] : "{\"keys\":\"not an array\"}";
    *len = strlen(text);
    *body = malloc(*len);
    CHECK(*body != NULL);
    memcpy(*body, text, *len);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    script s = {data, size, 0, -1};
    jwks_cache_config cfg = {fake_fetch, &s, NULL, NULL, NULL};
    jwks_cache *c = jwks_cache_new(&cfg);
    CHECK(c != NULL);
    int held = -1, refetched = 0; /* the model */
    time_t now = 1000000, last_refetch = 0;
    unsigned long fetches = 0;
    while (s.pos < s.size) {
        uint8_t op = next_byte(&s);
        now += op >> 4 & 7 ? (op >> 4 & 7) * 6 : 0; /* 0 to 42 seconds */
        int which = op & 3, no_kid = (op & 4) != 0;
        jwk_type type = kid_types[which];
        int known = !no_kid && held >= 0 && which < 3 && (holds[held] >> which & 1);
        int kid_in_set = known; /* every kid above has one type, so known means found */
        int fetch =
            held < 0 || (!no_kid && !kid_in_set && (!refetched || now - last_refetch >= JWKS_REFETCH_INTERVAL_S));
        if (held >= 0 && fetch) {
            refetched = 1;
            last_refetch = now;
        }
        jwk key;
        char detail[64];
        jwks_lookup r =
            jwks_cache_key(c, !no_kid, kids[which], strlen(kids[which]), type, now, &key, detail, sizeof detail);
        if (fetch) {
            fetches++;
            if (s.last_answer >= 0) held = s.last_answer;
        }
        CHECK(jwks_cache_fetches(c) == fetches);
        int expect_found;
        if (held < 0) {
            CHECK(r == JWKS_UNAVAILABLE);
            continue;
        }
        if (no_kid) {
            /* The one key of that type: every document holds at most one per type. */
            unsigned bit = type == JWK_RSA ? 1u : type == JWK_EC_P256 ? 2u : 4u;
            expect_found = (holds[held] & bit) != 0;
        } else {
            expect_found = which < 3 && (holds[held] >> which & 1);
        }
        CHECK(r == (expect_found ? JWKS_KEY_FOUND : JWKS_KEY_NONE));
        if (r == JWKS_KEY_FOUND) {
            CHECK(key.pkey != NULL && key.type == type);
            jwk_clear(&key);
        } else {
            CHECK(key.pkey == NULL);
        }
    }
    jwks_cache_free(c);
    return 0;
}
