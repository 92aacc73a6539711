#ifndef OAUTH_PROXY_COOKIE_CRYPTO_H
#define OAUTH_PROXY_COOKIE_CRYPTO_H

/* The two generations of Curity's token handler cookies, AES-256-GCM with no additional data:
     v1: base64url_nopad(0x01 || iv[12] || ciphertext || tag[16])
     v2: base64url_nopad(iv[12] || ciphertext || tag[16])   (Curity's 2024 OAuth Agent examples)
   Convention of this file: int results are COOKIE_OK (0) or a negative COOKIE_* code; pointers are NULL on
   failure. Nothing about a refused input is reported. */

#include <stddef.h>

#define COOKIE_KEY_BYTES 32

enum { COOKIE_OK = 0, COOKIE_INVALID = -1, COOKIE_NO_MEMORY = -2 };

/* A set of generations for a reader (COOKIE_V1 | COOKIE_V2 during a migration), exactly one for a writer. */
enum { COOKIE_V1 = 1, COOKIE_V2 = 2 };

/* Parses a generation name: "v1", "v2", or "v1,v2" (both). COOKIE_OK with *formats set, or COOKIE_INVALID. */
int cookie_formats_parse(const char *name, size_t len, unsigned *formats);

typedef struct cookie_key cookie_key;

/* Parses exactly 64 hex digits into 32 bytes. Returns 0, or -1 (nothing about the input is reported). */
int cookie_key_parse_hex(const char *hex, size_t len, unsigned char out[COOKIE_KEY_BYTES]);

/* Builds the cipher contexts once, so a request never re-parses or re-expands a key. Returns NULL when
   OpenSSL fails (out of memory). The caller wipes `raw` afterwards. */
cookie_key *cookie_key_new(const unsigned char raw[COOKIE_KEY_BYTES]);
void cookie_key_free(cookie_key *key);

/* Decrypts a cookie value of any generation in `formats`. With both, a value whose first byte is 0x01 is
   tried as v1 first, then as v2 (a v2 IV starts with 0x01 once in 256 cookies); the tag decides, so no value
   opens as both. On COOKIE_OK, *plain is malloc'ed, NUL-terminated, valid UTF-8 of *plain_len bytes, and
   must be released with cookie_plain_free. Contexts are reused: calls on one key must not run concurrently
   (the extension holds the GIL). */
int cookie_decrypt(cookie_key *key, unsigned formats, const char *cookie, size_t len, char **plain, size_t *plain_len);

/* Encrypts in one generation (`format` is COOKIE_V1 or COOKIE_V2) with a fresh random IV. On COOKIE_OK,
   *out is malloc'ed and NUL-terminated; free() it. COOKIE_INVALID here means an empty plaintext, another
   `format`, or a failure of the RNG or the cipher. */
int cookie_encrypt(cookie_key *key, unsigned format, const unsigned char *plain, size_t len, char **out,
                   size_t *out_len);

/* Wipes and frees a plaintext from cookie_decrypt (it is a token), or any other malloc'ed secret of
   len + 1 bytes. NULL is fine. */
void cookie_plain_free(char *plain, size_t len);

#endif
