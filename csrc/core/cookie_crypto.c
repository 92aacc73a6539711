#include "cookie_crypto.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "b64url.h"
#include "utf8.h"

#define VERSION_BYTE 0x01
#define IV_BYTES 12
#define TAG_BYTES 16

struct cookie_key {
    EVP_CIPHER_CTX *decrypt;
    EVP_CIPHER_CTX *encrypt;
};

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int cookie_key_parse_hex(const char *hex, size_t len, unsigned char out[COOKIE_KEY_BYTES]) {
    if (len != 2 * COOKIE_KEY_BYTES) return -1;
    for (size_t i = 0; i < COOKIE_KEY_BYTES; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0) {
            OPENSSL_cleanse(out, COOKIE_KEY_BYTES);
            return -1;
        }
        out[i] = (unsigned char)((hi << 4) | lo);
    }
    return 0;
}

cookie_key *cookie_key_new(const unsigned char raw[COOKIE_KEY_BYTES]) {
    cookie_key *key = calloc(1, sizeof *key);
    if (key == NULL) return NULL;
    key->decrypt = EVP_CIPHER_CTX_new();
    key->encrypt = EVP_CIPHER_CTX_new();
    if (key->decrypt == NULL || key->encrypt == NULL ||
        EVP_DecryptInit_ex(key->decrypt, EVP_aes_256_gcm(), NULL, raw, NULL) != 1 ||
        EVP_EncryptInit_ex(key->encrypt, EVP_aes_256_gcm(), NULL, raw, NULL) != 1) {
        cookie_key_free(key);
        return NULL;
    }
    return key;
}

void cookie_key_free(cookie_key *key) {
    if (key == NULL) return;
    /* EVP_CIPHER_CTX_free wipes the expanded key schedule. */
    EVP_CIPHER_CTX_free(key->decrypt);
    EVP_CIPHER_CTX_free(key->encrypt);
    free(key);
}

void cookie_plain_free(char *plain, size_t len) {
    if (plain == NULL) return;
    OPENSSL_cleanse(plain, len + 1);
    free(plain);
}

int cookie_formats_parse(const char *name, size_t len, unsigned *formats) {
    static const struct {
        const char *name;
        unsigned formats;
    } known[] = {{"v1", COOKIE_V1}, {"v2", COOKIE_V2}, {"v1,v2", COOKIE_V1 | COOKIE_V2}};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strlen(known[i].name) == len && memcmp(known[i].name, name, len) == 0) {
            *formats = known[i].formats;
            return COOKIE_OK;
        }
    }
    return COOKIE_INVALID;
}

/* Bytes before the IV: the version byte of v1, nothing in v2. */
static size_t frame_header(unsigned format) { return format == COOKIE_V1 ? 1 : 0; }

/* The smallest valid frame carries one plaintext byte. */
static size_t frame_min(unsigned format) { return frame_header(format) + IV_BYTES + 1 + TAG_BYTES; }

static int frame_fits(unsigned format, const unsigned char *raw, size_t raw_len) {
    if (raw_len < frame_min(format)) return 0;
    return format != COOKIE_V1 || raw[0] == VERSION_BYTE;
}

/* Opens one frame in place. On COOKIE_OK the plaintext has moved to the start of `raw`, NUL-terminated, and
   `raw` belongs to the caller's *plain; otherwise `raw` holds garbage, still the caller's to wipe. */
static int open_frame(cookie_key *key, unsigned format, unsigned char *raw, size_t raw_len, char **plain,
                      size_t *plain_len) {
    unsigned char *iv = raw + frame_header(format), *body = iv + IV_BYTES;
    int body_len = (int)(raw_len - frame_header(format) - IV_BYTES - TAG_BYTES), n = 0, tail = 0;
    /* The tag is handed over before decrypting in place, because the plaintext's terminator lands on it. */
    if (EVP_DecryptInit_ex(key->decrypt, NULL, NULL, NULL, iv) != 1 ||
        EVP_CIPHER_CTX_ctrl(key->decrypt, EVP_CTRL_GCM_SET_TAG, TAG_BYTES, body + body_len) != 1 ||
        EVP_DecryptUpdate(key->decrypt, body, &n, body, body_len) != 1 ||
        EVP_DecryptFinal_ex(key->decrypt, body + n, &tail) != 1 || n + tail != body_len ||
        !utf8_valid(body, (size_t)body_len))
        return COOKIE_INVALID;
    memmove(raw, body, (size_t)body_len);
    raw[body_len] = '\0';
    *plain = (char *)raw;
    *plain_len = (size_t)body_len;
    return COOKIE_OK;
}

int cookie_decrypt(cookie_key *key, unsigned formats, const char *cookie, size_t len, char **plain, size_t *plain_len) {
    unsigned shortest = (formats & COOKIE_V2) ? COOKIE_V2 : COOKIE_V1;
    if ((formats & (COOKIE_V1 | COOKIE_V2)) == 0 || len < b64url_encoded_len(frame_min(shortest)) ||
        len > (size_t)INT_MAX)
        return COOKIE_INVALID;
    size_t cap = b64url_decoded_max(len), raw_len = 0;
    unsigned char *raw = malloc(cap);
    if (raw == NULL) return COOKIE_NO_MEMORY;
    int result = COOKIE_INVALID;
    if (b64url_decode(cookie, len, raw, &raw_len) != 0) goto done;
    if ((formats & COOKIE_V1) && frame_fits(COOKIE_V1, raw, raw_len)) {
        if (open_frame(key, COOKIE_V1, raw, raw_len, plain, plain_len) == COOKIE_OK) return COOKIE_OK;
        /* The failed attempt decrypted in place; v2 needs the bytes as they came. */
        if (!(formats & COOKIE_V2) || b64url_decode(cookie, len, raw, &raw_len) != 0) goto done;
    }
    if ((formats & COOKIE_V2) && frame_fits(COOKIE_V2, raw, raw_len) &&
        open_frame(key, COOKIE_V2, raw, raw_len, plain, plain_len) == COOKIE_OK)
        return COOKIE_OK;

done:
    OPENSSL_cleanse(raw, cap);
    free(raw);
    return result;
}

int cookie_encrypt(cookie_key *key, unsigned format, const unsigned char *plain, size_t len, char **out,
                   size_t *out_len) {
    if ((format != COOKIE_V1 && format != COOKIE_V2) || len == 0 || len > (size_t)INT_MAX - frame_min(COOKIE_V1))
        return COOKIE_INVALID;
    size_t header = frame_header(format), raw_len = header + IV_BYTES + len + TAG_BYTES;
    unsigned char *raw = malloc(raw_len);
    if (raw == NULL) return COOKIE_NO_MEMORY;
    unsigned char *iv = raw + header, *body = iv + IV_BYTES;
    int n = 0, tail = 0, result = COOKIE_INVALID;
    if (header) raw[0] = VERSION_BYTE;
    if (RAND_bytes(iv, IV_BYTES) != 1 || EVP_EncryptInit_ex(key->encrypt, NULL, NULL, NULL, iv) != 1 ||
        EVP_EncryptUpdate(key->encrypt, body, &n, plain, (int)len) != 1 ||
        EVP_EncryptFinal_ex(key->encrypt, body + n, &tail) != 1 || (size_t)(n + tail) != len ||
        EVP_CIPHER_CTX_ctrl(key->encrypt, EVP_CTRL_GCM_GET_TAG, TAG_BYTES, body + len) != 1)
        goto done;

    size_t enc_len = b64url_encoded_len(raw_len);
    char *enc = malloc(enc_len + 1);
    if (enc == NULL) {
        result = COOKIE_NO_MEMORY;
        goto done;
    }
    b64url_encode(raw, raw_len, enc);
    enc[enc_len] = '\0';
    *out = enc;
    *out_len = enc_len;
    result = COOKIE_OK;
done:
    OPENSSL_cleanse(raw, raw_len);
    free(raw);
    return result;
}
