/* The introspection response classifiers (csrc/introspect.c, included here to reach its static
   functions): looks_like_jwt against a reference, and json_active against the other strict JSON reader of
   the code base, the JWT claims scanner. Both claim RFC 8259, so whenever json_active finds a well-formed
   object (ACTIVE_TRUE or ACTIVE_FALSE), the claims scanner must accept the same text as a JWT payload;
   and where the claims scanner refuses it, json_active must not have found an answer. */
#include <ctype.h>
#include <stdint.h>

#include "../csrc/introspect.c"

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

    int active = json_active(body, size);
    static const char head[] = "eyJhbGciOiJSUzI1NiJ9.", tail[] = ".c2ln";
    size_t enc = b64url_encoded_len(size), len = sizeof head - 1 + enc + sizeof tail - 1;
    char *token = exact_copy("", len);
    memcpy(token, head, sizeof head - 1);
    b64url_encode(data, size, token + sizeof head - 1);
    memcpy(token + sizeof head - 1 + enc, tail, sizeof tail - 1);
    jwt_claims claims;
    int strict_ok = jwt_claims_parse(token, len, &claims) == 0;
    jwt_claims_clear(&claims);
    /* One known difference: json_active lets an escaped lone surrogate (\ud800) pass, the claims scanner
       refuses it; RFC 8259 calls such strings unpredictable rather than invalid. */
    int lone_surrogate_escape = 0;
    for (size_t i = 0; i + 3 < size; i++)
        if (data[i] == '\\' && data[i + 1] == 'u' && (data[i + 2] == 'd' || data[i + 2] == 'D') &&
            strchr("89abcdefABCDEF", data[i + 3]) != NULL && data[i + 3] != '\0')
            lone_surrogate_escape = 1;
    if (active != ACTIVE_UNKNOWN && !lone_surrogate_escape) CHECK(strict_ok);
    free(token);
    free(body);
    return 0;
}
