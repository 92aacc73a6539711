#ifndef OAUTH_PROXY_COOKIE_CRYPTO_H
#define OAUTH_PROXY_COOKIE_CRYPTO_H

/* The Curity token handler cookie format, version 1:
   base64url_nopad(0x01 || iv[12] || AES-256-GCM ciphertext || tag[16]), no additional data.
   Convention of this file: int results are COOKIE_OK (0) or a negative COOKIE_* code; pointers are NULL on
   failure. */

#include <stddef.h>

#define COOKIE_KEY_BYTES 32

enum { COOKIE_OK = 0, COOKIE_INVALID = -1, COOKIE_NO_MEMORY = -2 };

typedef struct cookie_key cookie_key;

/* Parses exactly 64 hex digits into 32 bytes. Returns 0, or -1 (nothing about the input is reported). */
int cookie_key_parse_hex(const char *hex, size_t len, unsigned char out[COOKIE_KEY_BYTES]);

/* Builds the cipher contexts once, so a request never re-parses or re-expands a key. Returns NULL when
   OpenSSL fails (out of memory). The caller wipes `raw` afterwards. */
cookie_key *cookie_key_new(const unsigned char raw[COOKIE_KEY_BYTES]);
void cookie_key_free(cookie_key *key);

/* Decrypts a cookie value. On COOKIE_OK, *plain is malloc'ed, NUL-terminated, valid UTF-8 of *plain_len
   bytes, and must be released with cookie_plain_free. Contexts are reused: calls on one key must not
   run concurrently (the extension holds the GIL). */
int cookie_decrypt(cookie_key *key, const char *cookie, size_t len, char **plain, size_t *plain_len);

/* Encrypts with a fresh random IV. On COOKIE_OK, *out is malloc'ed and NUL-terminated; free() it.
   COOKIE_INVALID here means the RNG or the cipher failed. */
int cookie_encrypt(cookie_key *key, const unsigned char *plain, size_t len, char **out, size_t *out_len);

/* Wipes and frees a plaintext from cookie_decrypt (it is a token), or any other malloc'ed secret of
   len + 1 bytes. NULL is fine. */
void cookie_plain_free(char *plain, size_t len);

#endif
