/* The introspection answer classifier (csrc/core/introspect_answer.c, included here to reach its static
   functions): jws_shaped (the JWT shape test it uses) against a reference; introspect_classify on a 200 with the input as its body
   against what that reference and the JSON reader say; and the JSON reading of an answer, which is
   jwt_claims.c's strict reader, reached two ways: as a bare object (json_claims_parse, what the classifier
   calls) and as a JWT payload (jwt_claims_parse). Both must accept the same texts and read the same claims. */
#include <ctype.h>
#include <stdint.h>

#include "../csrc/core/introspect_answer.c"

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

static int reference_ws(uint8_t c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* A 200 whose body is the input: a JWT (the body without surrounding whitespace) when it has the shape of one,
   inactive when blank or JSON with "active": false, a failure otherwise; never a detail quoting the body. */
static void check_classify(const uint8_t *data, size_t size) {
    size_t start = 0, end = size;
    while (start < end && reference_ws(data[start])) start++;
    while (end > start && reference_ws(data[end - 1])) end--;
    char *body = exact_copy(data, size);
    char *jwt = NULL, detail[128] = "";
    size_t jwt_len = 0;
    introspect_status got = introspect_classify(200, body, size, &jwt, &jwt_len, detail, sizeof detail);
    if (start == end) {
        CHECK(got == INTROSPECT_INACTIVE);
    } else if (reference_jwt_shape(data + start, end - start)) {
        CHECK(got == INTROSPECT_JWT && jwt != NULL && jwt_len == end - start);
        CHECK(memcmp(jwt, data + start, jwt_len) == 0 && jwt[jwt_len] == '\0');
    } else {
        jwt_claims answer;
        int parsed = json_claims_parse(body + start, end - start, &answer) == 0;
        int inactive = parsed && answer.active == JSON_ACTIVE_FALSE;
        jwt_claims_clear(&answer);
        CHECK(got == (inactive ? INTROSPECT_INACTIVE : INTROSPECT_FAILED));
        CHECK(jwt == NULL);
        if (got == INTROSPECT_FAILED) CHECK(strncmp(detail, "HTTP 200 with ", 14) == 0);
    }
    free(jwt);
    free(body);
    /* Any status but 200 and 204 fails without looking at the body. */
    long status = size > 0 ? 100 + data[0] * 2 : 500;
    if (status != 200 && status != 204) {
        CHECK(introspect_classify(status, NULL, 0, &jwt, &jwt_len, detail, sizeof detail) == INTROSPECT_FAILED);
        CHECK(strncmp(detail, "HTTP status ", 12) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *body = exact_copy(data, size);
    CHECK(jws_shaped(body, size) == reference_jwt_shape(data, size));
    check_classify(data, size);

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
        if (bare.sub != NULL)
            CHECK(bare.sub_len == wrapped.sub_len && memcmp(bare.sub, wrapped.sub, bare.sub_len) == 0);
    } else {
        CHECK(bare.active == JSON_ACTIVE_UNKNOWN && bare.sub == NULL && bare.scope == NULL);
    }
    jwt_claims_clear(&bare);
    jwt_claims_clear(&wrapped);
    free(token);
    free(body);
    return 0;
}
