/* The JWT claims scanner (csrc/core/jwt_claims.c), a strict JSON reader run on every allowed request.
   The first input byte picks the mode:
     even: the rest is a whole token, as it came out of a cookie or an Authorization header.
     odd:  the rest is the payload JSON; it is base64url-encoded between a fixed header and signature, so
           the fuzzer works on the JSON grammar directly instead of having to find base64 of JSON.
   Checks: no crash, leak or UB; on success the claims are NUL-terminated UTF-8 of their stated length;
   on failure the output is all zero; jwt_claims_parse_wanted (CONTEXT_CLAIMS) agrees with it. Which JSON texts are accepted is compared with Python's json module
   in tests/test_properties.py. */
#include <stdint.h>

#include "b64url.h"
#include "fuzz_common.h"
#include "jwt_claims.h"
#include "utf8.h"

static void check_string(const char *s, size_t len) {
    if (s == NULL) {
        CHECK(len == 0);
        return;
    }
    CHECK(s[len] == '\0');
    CHECK(utf8_valid((const unsigned char *)s, len));
}

static void scan(const char *token, size_t len) {
    jwt_claims claims;
    memset(&claims, 0xA5, sizeof claims); /* garbage in: the parser must initialise it */
    int rc = jwt_claims_parse(token, len, &claims);
    if (rc == 0) {
        check_string(claims.sub, claims.sub_len);
        check_string(claims.scope, claims.scope_len);
        CHECK(claims.has_exp == 0 || claims.has_exp == 1);
        /* The decoded payload is no longer than the token, and a claim no longer than the payload. */
        CHECK(claims.sub_len <= len && claims.scope_len <= len);
    } else {
        CHECK(rc == -1);
        CHECK(claims.sub == NULL && claims.scope == NULL && claims.has_exp == 0);
    }
    jwt_claims_clear(&claims);

    /* The same scan with CONTEXT_CLAIMS wanted: the same verdict and claims, and each member found is a
       whole JSON value inside the payload (a string decodes to UTF-8). */
    static const char *const names[] = {"sub", "tenant", "level"};
    static const size_t name_lens[] = {3, 6, 5};
    json_member found[3];
    json_wanted want = {names, name_lens, 3, found};
    jwt_claims again;
    unsigned char *payload = NULL;
    memset(found, 0xA5, sizeof found);
    int rc_wanted = jwt_claims_parse_wanted(token, len, &again, &want, &payload);
    CHECK(rc_wanted == rc);
    if (rc_wanted == 0) {
        CHECK(payload != NULL);
        for (int i = 0; i < 3; i++) {
            if (found[i].type == JSON_ABSENT) continue;
            CHECK(found[i].raw != NULL && found[i].raw_len > 0 && found[i].raw_len <= len);
            if (found[i].type == JSON_STRING) {
                size_t n = 0;
                char *text = json_member_string(&found[i], &n);
                CHECK(text != NULL);
                check_string(text, n);
                free(text);
            }
        }
    } else {
        CHECK(payload == NULL);
    }
    jwt_claims_clear(&again);
    free(payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    if (!(data[0] & 1)) {
        char *token = exact_copy(data + 1, size - 1);
        scan(token, size - 1);
        free(token);
        return 0;
    }
    static const char head[] = "eyJhbGciOiJSUzI1NiJ9.", tail[] = ".c2ln";
    size_t json_len = size - 1, enc_len = b64url_encoded_len(json_len);
    size_t len = sizeof head - 1 + enc_len + sizeof tail - 1;
    char *token = exact_copy("", len);
    memcpy(token, head, sizeof head - 1);
    b64url_encode(data + 1, json_len, token + sizeof head - 1);
    memcpy(token + sizeof head - 1 + enc_len, tail, sizeof tail - 1);
    scan(token, len);
    free(token);
    return 0;
}
