/* Strict base64url (csrc/b64url.c): decode arbitrary text and compare acceptance with a reference
   predicate; whatever is accepted must re-encode to exactly the same text (one canonical encoding per byte
   string); and encoding arbitrary bytes must decode back to them. Buffers are sized exactly as the header
   promises, so ASan catches a write past b64url_decoded_max or b64url_encoded_len. */
#include <stdint.h>

#include "b64url.h"
#include "fuzz_common.h"

static int in_alphabet(unsigned char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

static int value_of(unsigned char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    return c == '-' ? 62 : 63;
}

/* Valid unpadded base64url: alphabet only, length not 1 mod 4, unused trailing bits zero. */
static int reference_valid(const unsigned char *s, size_t len) {
    if (len % 4 == 1) return 0;
    for (size_t i = 0; i < len; i++)
        if (!in_alphabet(s[i])) return 0;
    if (len % 4 == 2) return (value_of(s[len - 1]) & 0x0F) == 0;
    if (len % 4 == 3) return (value_of(s[len - 1]) & 0x03) == 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *text = exact_copy(data, size);

    /* text -> bytes */
    size_t cap = b64url_decoded_max(size), out_len = 12345;
    unsigned char *out = (unsigned char *)exact_copy("", cap);
    int rc = b64url_decode(text, size, out, &out_len);
    CHECK((rc == 0) == reference_valid(data, size));
    if (rc == 0) {
        CHECK(out_len <= cap && out_len == size * 3 / 4);
        size_t enc_len = b64url_encoded_len(out_len);
        CHECK(enc_len == size);
        char *again = exact_copy("", enc_len);
        b64url_encode(out, out_len, again);
        CHECK(memcmp(again, text, size) == 0);
        free(again);
    }
    free(out);

    /* bytes -> text -> bytes */
    size_t enc_len = b64url_encoded_len(size);
    char *enc = exact_copy("", enc_len);
    b64url_encode(data, size, enc);
    CHECK(reference_valid((const unsigned char *)enc, enc_len));
    unsigned char *back = (unsigned char *)exact_copy("", b64url_decoded_max(enc_len));
    size_t back_len = 0;
    CHECK(b64url_decode(enc, enc_len, back, &back_len) == 0);
    CHECK(back_len == size && (size == 0 || memcmp(back, data, size) == 0));
    free(back);
    free(enc);
    free(text);
    return 0;
}
