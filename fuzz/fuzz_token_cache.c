/* The introspection result cache (csrc/core/token_cache.c: hash buckets plus an LRU list) driven by a sequence
   of operations and compared with a model: an array in most-recently-used order. The first byte picks a
   capacity of 1 to 8, so buckets collide and evictions are frequent. Each further pair of bytes is one
   operation on one of 16 tokens: put (a fresh JWT), get, or put with an `exp` already past (which must
   store nothing and leave an existing entry alone). A get may ask for the stored claims too, which must be
   the ones put with that version. The TTL is an hour, so nothing expires during a run. */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "fuzz_common.h"
#include "token_cache.h"
#include "token_digest.h"

#define TOKENS 16

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    CHECK(token_digest_init() == 0);
    return 0;
}

typedef struct {
    int token;
    unsigned version;
} slot;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    size_t capacity = 1 + data[0] % 8;
    token_cache *cache = token_cache_new(capacity, 3600);
    CHECK(cache != NULL);
    slot model[8];
    size_t count = 0;
    unsigned version = 0;
    for (size_t i = 1; i + 1 < size; i += 2) {
        int op = data[i] % 3, id = data[i + 1] % TOKENS;
        char token[32], jwt[48];
        int token_len = snprintf(token, sizeof token, "opaque-token-%d", id);
        size_t at = count;
        for (size_t k = 0; k < count; k++)
            if (model[k].token == id) at = k;
        if (op == 0) {
            version++;
            int jwt_len = snprintf(jwt, sizeof jwt, "h.jwt-%d-%u.s", id, version);
            char sub[32];
            int sub_len = snprintf(sub, sizeof sub, "sub-%d-%u", id, version);
            /* claims as the JWT parser would give them: sub present on odd versions, scope on every third */
            jwt_claims claims = {.sub = version & 1 ? sub : NULL,
                                 .sub_len = version & 1 ? (size_t)sub_len : 0,
                                 .scope = version % 3 == 0 ? "read write" : NULL,
                                 .scope_len = version % 3 == 0 ? 10 : 0,
                                 .has_exp = data[i] & 8 ? 1 : 0,
                                 .exp = (double)time(NULL) + 86400};
            token_cache_put(cache, token, (size_t)token_len, jwt, (size_t)jwt_len, &claims);
            if (at < count) {
                memmove(model + at, model + at + 1, (count - at - 1) * sizeof *model);
                count--;
            }
            if (count == capacity) count--; /* the least recently used goes */
            memmove(model + 1, model, count * sizeof *model);
            model[0] = (slot){id, version};
            count++;
        } else if (op == 1) {
            char *got = NULL;
            size_t got_len = 0;
            jwt_claims claims;
            int with_claims = data[i + 1] & 16;
            int hit = token_cache_get(cache, token, (size_t)token_len, &got, &got_len, with_claims ? &claims : NULL);
            CHECK(hit == (at < count));
            if (hit) {
                unsigned v = model[at].version;
                int jwt_len = snprintf(jwt, sizeof jwt, "h.jwt-%d-%u.s", id, v);
                CHECK(got_len == (size_t)jwt_len && memcmp(got, jwt, got_len) == 0 && got[got_len] == '\0');
                if (with_claims) {
                    char sub[32];
                    int sub_len = snprintf(sub, sizeof sub, "sub-%d-%u", id, v);
                    if (v & 1)
                        CHECK(claims.sub != NULL && claims.sub_len == (size_t)sub_len &&
                              memcmp(claims.sub, sub, claims.sub_len) == 0 && claims.sub[sub_len] == '\0');
                    else
                        CHECK(claims.sub == NULL);
                    CHECK((claims.scope != NULL) == (v % 3 == 0));
                    if (claims.scope != NULL)
                        CHECK(claims.scope_len == 10 && memcmp(claims.scope, "read write", 10) == 0);
                    jwt_claims_clear(&claims);
                }
                slot s = model[at];
                memmove(model + 1, model, at * sizeof *model);
                model[0] = s;
                free(got);
            } else {
                CHECK(got == NULL && got_len == 0);
            }
        } else {
            jwt_claims expired = {.has_exp = 1, .exp = (double)time(NULL) - 10};
            token_cache_put(cache, token, (size_t)token_len, "h.p.s", 5, &expired);
        }
        CHECK(token_cache_count(cache) == count);
    }
    token_cache_free(cache);
    return 0;
}
