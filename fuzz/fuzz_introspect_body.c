/* The introspection response classifier (csrc/core/introspect.c, included here to reach its static functions):
   looks_like_jwt against a reference; and the JSON reading of an answer, which is jwt_claims.c's strict
   reader, reached two ways: as a bare object (json_claims_parse, what introspect.c calls) and as a JWT
   payload (jwt_claims_parse). Both must accept the same texts and read the same claims from them. */
#include <ctype.h>
#include <stdint.h>

#include "../csrc/core/introspect.c"

#include "b64url.h"
#include "fuzz_common.h"
#include "jwt_claims.h"

static int reference_jwt_shape(const uint8_t *s, size_t n) {
    size_t segs = 1, len = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '.') {
            if (len == 0) return 0;
            segs++, len = 0;
        } else if (isalnum(s[i]) || s[i] == '-' || s[i] == '_') {
            len++;
        } else {
            return 0;
        }
    }
    return segs == 3 && len > 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *body = exact_copy(data, size);
    CHECK(looks_like_jwt(body, size) == reference_jwt_shape(data, size));

    jwt_claims bare, wrapped;
    int bare_ok = json_claims_parse(body, size, &bare) == 0;
    static const char head[] = "eyJhbGciOiJSUzI1NiJ9.", tail[] = ".c2ln";
    size_t enc = b64url_encoded_len(size), len = sizeof head - 1 + enc + sizeof tail - 1;
    char *token = exact_copy("", len);
    memcpy(token, head, sizeof head - 1);
    b64url_encode(data, size, token + sizeof head - 1);
    memcpy(token + sizeof head - 1 + enc, tail, sizeof tail - 1);
    int wrapped_ok = jwt_claims_parse(token, len, &wrapped) == 0;
    CHECK(bare_ok == wrapped_ok);
    if (bare_ok) {
        CHECK(bare.active == wrapped.active && bare.has_exp == wrapped.has_exp);
        CHECK((bare.sub == NULL) == (wrapped.sub == NULL));
        if (bare.sub != NULL) CHECK(bare.sub_len == wrapped.sub_len && memcmp(bare.sub, wrapped.sub, bare.sub_len) == 0);
    } else {
        CHECK(bare.active == JSON_ACTIVE_UNKNOWN && bare.sub == NULL && bare.scope == NULL);
    }
    jwt_claims_clear(&bare);
    jwt_claims_clear(&wrapped);
    free(token);
    free(body);
    return 0;
}
