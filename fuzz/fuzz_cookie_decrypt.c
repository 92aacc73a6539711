/* Cookie decryption (csrc/core/cookie_crypto.c) with a fixed key (key A of the Curity vectors).
   The first input byte picks the mode:
     even: the rest is a cookie value from the wire. Whatever decrypts must be NUL-terminated UTF-8; after
           each attempt, accepted or not, a known vector must still decrypt (the cipher contexts are
           reused across requests, so a failure must not leave them in a bad state).
     odd:  the rest is a plaintext. Encrypt, then decrypt: the same bytes come back when they are UTF-8,
           and decryption fails when they are not. Then one character of the cookie, chosen by the
           plaintext, is replaced by another alphabet character: that must never decrypt. */
#include <stdint.h>

#include <openssl/crypto.h>

#include "cookie_crypto.h"
#include "fuzz_common.h"
#include "utf8.h"

static const char KEY_HEX[] = "7b99279ab87533d3c238db874a842a91ee26a76027f3c03c317504963d2c9926";
static const char VECTOR[] = "AUixxnN28w2MjVK7sMZ3GqErPlw15NwIng-V8amEv5eu43Wr1nzhif1hU2QpKbw_L55GVxD0Kz4gKVG539ywk6g";
static const char VECTOR_PLAIN[] = "42665300-efe8-419d-be52-07b53e208f46";
static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

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

static void vector_still_decrypts(void) {
    char *plain = NULL;
    size_t len = 0;
    CHECK(cookie_decrypt(key, VECTOR, sizeof VECTOR - 1, &plain, &len) == COOKIE_OK);
    CHECK(len == sizeof VECTOR_PLAIN - 1 && memcmp(plain, VECTOR_PLAIN, len) == 0);
    cookie_plain_free(plain, len);
}

static void wire_value(const uint8_t *data, size_t size) {
    char *cookie = exact_copy(data, size), *plain = NULL;
    size_t len = 0;
    int rc = cookie_decrypt(key, cookie, size, &plain, &len);
    CHECK(rc == COOKIE_OK || rc == COOKIE_INVALID);
    if (rc == COOKIE_OK) {
        check_plain(plain, len);
        cookie_plain_free(plain, len);
    }
    free(cookie);
    vector_still_decrypts();
}

static void round_trip(const uint8_t *data, size_t size) {
    char *cookie = NULL, *plain = NULL;
    size_t cookie_len = 0, len = 0;
    int rc = cookie_encrypt(key, data, size, &cookie, &cookie_len);
    if (size == 0) {
        CHECK(rc == COOKIE_INVALID);
        return;
    }
    CHECK(rc == COOKIE_OK && cookie[cookie_len] == '\0' && strlen(cookie) == cookie_len);
    rc = cookie_decrypt(key, cookie, cookie_len, &plain, &len);
    if (utf8_valid(data, size)) {
        CHECK(rc == COOKIE_OK && len == size && memcmp(plain, data, size) == 0);
        check_plain(plain, len);
        cookie_plain_free(plain, len);
    } else {
        CHECK(rc == COOKIE_INVALID);
    }
    size_t at = (data[0] * 131u + size) % cookie_len;
    const char *spot = strchr(ALPHABET, cookie[at]);
    CHECK(spot != NULL);
    cookie[at] = ALPHABET[(size_t)(spot - ALPHABET + 1 + data[size - 1] % 63) % 64];
    plain = NULL;
    CHECK(cookie_decrypt(key, cookie, cookie_len, &plain, &len) == COOKIE_INVALID && plain == NULL);
    free(cookie);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    if (data[0] & 1)
        round_trip(data + 1, size - 1);
    else
        wire_value(data + 1, size - 1);
    return 0;
}
