/* Cookie decryption (csrc/core/cookie_crypto.c) of both generations with a fixed key (key A of the Curity
   vectors). The first input byte picks the mode: bit 0 the kind of input, bits 1-2 the generations.
     bit 0 clear: the rest is a cookie value from the wire, read with the generations of bits 1-2 (0: v1,
           1: v2, 2: both, 3: none, which must refuse everything). Whatever decrypts must be NUL-terminated
           UTF-8, and must also decrypt, to the same bytes, under one of the single generations (reading both
           is the union of the two). After each attempt, accepted or not, known v1 and v2 vectors must still
           decrypt (the cipher contexts are reused across requests, so a failure must not leave them in a bad
           state).
     bit 0 set: the rest is a plaintext, encrypted as v2 when bit 1 is set, else v1. Decrypt it with that
           generation and with both: the same bytes come back when they are UTF-8, and decryption fails
           when they are not; the other generation alone never opens it. Then one character of the cookie,
           chosen by the plaintext, is replaced by another alphabet character: that must never decrypt. */
#include <stdint.h>

#include <openssl/crypto.h>

#include "cookie_crypto.h"
#include "fuzz_common.h"
#include "utf8.h"

static const char KEY_HEX[] = "7b99279ab87533d3c238db874a842a91ee26a76027f3c03c317504963d2c9926";
static const char VECTOR[] = "AUixxnN28w2MjVK7sMZ3GqErPlw15NwIng-V8amEv5eu43Wr1nzhif1hU2QpKbw_L55GVxD0Kz4gKVG539ywk6g";
static const char VECTOR_PLAIN[] = "42665300-efe8-419d-be52-07b53e208f46";
/* tests/vectors/curity-v2.json, made by Curity's own v2 OAuth Agent code: its IV starts with 0x01. */
static const char VECTOR_V2[] = "AelRBPJEJ6R7l-1Hn5ASvFbliIOcPvS22tssGe00mchVSkw_WY_x8JXy3yu35dd8moUEUSJeGq0ScA";
static const char VECTOR_V2_PLAIN[] = "token-with-an-iv-starting-0x01";
static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const unsigned WIRE_FORMATS[4] = {COOKIE_V1, COOKIE_V2, COOKIE_V1 | COOKIE_V2, 0};

static cookie_key *key;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc, (void)argv;
    unsigned char raw[COOKIE_KEY_BYTES];
    CHECK(cookie_key_parse_hex(KEY_HEX, sizeof KEY_HEX - 1, raw) == 0);
    key = cookie_key_new(raw);
    OPENSSL_cleanse(raw, sizeof raw);
    CHECK(key != NULL);
    return 0;
}

static void check_plain(const char *plain, size_t len) {
    CHECK(plain[len] == '\0');
    CHECK(len > 0 && utf8_valid((const unsigned char *)plain, len));
}

static void decrypts_to(unsigned formats, const char *cookie, size_t cookie_len, const char *expected,
                        size_t expected_len) {
    char *plain = NULL;
    size_t len = 0;
    CHECK(cookie_decrypt(key, formats, cookie, cookie_len, &plain, &len) == COOKIE_OK);
    CHECK(len == expected_len && memcmp(plain, expected, len) == 0);
    cookie_plain_free(plain, len);
}

static void vectors_still_decrypt(void) {
    decrypts_to(COOKIE_V1, VECTOR, sizeof VECTOR - 1, VECTOR_PLAIN, sizeof VECTOR_PLAIN - 1);
    decrypts_to(COOKIE_V2, VECTOR_V2, sizeof VECTOR_V2 - 1, VECTOR_V2_PLAIN, sizeof VECTOR_V2_PLAIN - 1);
    decrypts_to(COOKIE_V1 | COOKIE_V2, VECTOR_V2, sizeof VECTOR_V2 - 1, VECTOR_V2_PLAIN, sizeof VECTOR_V2_PLAIN - 1);
}

static void wire_value(unsigned formats, const uint8_t *data, size_t size) {
    char *cookie = exact_copy(data, size), *plain = NULL;
    size_t len = 0;
    int rc = cookie_decrypt(key, formats, cookie, size, &plain, &len);
    CHECK(rc == COOKIE_OK || rc == COOKIE_INVALID);
    CHECK(rc == COOKIE_INVALID || formats != 0);
    if (rc == COOKIE_OK) {
        check_plain(plain, len);
        if (formats == (COOKIE_V1 | COOKIE_V2)) {
            char *single = NULL;
            size_t single_len = 0;
            if (cookie_decrypt(key, COOKIE_V1, cookie, size, &single, &single_len) != COOKIE_OK)
                CHECK(cookie_decrypt(key, COOKIE_V2, cookie, size, &single, &single_len) == COOKIE_OK);
            CHECK(single_len == len && memcmp(single, plain, len) == 0);
            cookie_plain_free(single, single_len);
        }
        cookie_plain_free(plain, len);
    }
    free(cookie);
    vectors_still_decrypt();
}

static void round_trip(unsigned format, const uint8_t *data, size_t size) {
    char *cookie = NULL, *plain = NULL;
    size_t cookie_len = 0, len = 0;
    unsigned other = format == COOKIE_V1 ? COOKIE_V2 : COOKIE_V1;
    int rc = cookie_encrypt(key, format, data, size, &cookie, &cookie_len);
    if (size == 0) {
        CHECK(rc == COOKIE_INVALID);
        return;
    }
    CHECK(rc == COOKIE_OK && cookie[cookie_len] == '\0' && strlen(cookie) == cookie_len);
    if (utf8_valid(data, size)) {
        decrypts_to(format, cookie, cookie_len, (const char *)data, size);
        decrypts_to(COOKIE_V1 | COOKIE_V2, cookie, cookie_len, (const char *)data, size);
    } else {
        CHECK(cookie_decrypt(key, format, cookie, cookie_len, &plain, &len) == COOKIE_INVALID);
    }
    CHECK(cookie_decrypt(key, other, cookie, cookie_len, &plain, &len) == COOKIE_INVALID && plain == NULL);
    size_t at = (data[0] * 131u + size) % cookie_len;
    const char *spot = strchr(ALPHABET, cookie[at]);
    CHECK(spot != NULL);
    cookie[at] = ALPHABET[(size_t)(spot - ALPHABET + 1 + data[size - 1] % 63) % 64];
    CHECK(cookie_decrypt(key, COOKIE_V1 | COOKIE_V2, cookie, cookie_len, &plain, &len) == COOKIE_INVALID &&
          plain == NULL);
    free(cookie);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    if (data[0] & 1)
        round_trip((data[0] & 2) ? COOKIE_V2 : COOKIE_V1, data + 1, size - 1);
    else
        wire_value(WIRE_FORMATS[(data[0] >> 1) & 3], data + 1, size - 1);
    return 0;
}
