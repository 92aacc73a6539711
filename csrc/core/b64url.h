#ifndef OAUTH_PROXY_B64URL_H
#define OAUTH_PROXY_B64URL_H

/* Strict base64url without padding (RFC 4648 section 5).
   Convention of this file: b64url_decode returns 0, or -1 for input it refuses; the others cannot fail. */

#include <stddef.h>

/* Upper bound of the decoded size of `len` base64url characters. */
size_t b64url_decoded_max(size_t len);

/* Strict unpadded base64url (RFC 4648 section 5): only the URL-safe alphabet, no '=', no whitespace, and
   the unused low bits of the last character must be zero, so every byte string has exactly one accepted
   encoding. `out` must hold b64url_decoded_max(len) bytes. Returns 0, or -1 for anything else. */
int b64url_decode(const char *in, size_t len, unsigned char *out, size_t *out_len);

/* Exact length of the unpadded encoding of `len` bytes (no terminator). */
size_t b64url_encoded_len(size_t len);

/* Writes b64url_encoded_len(len) characters to `out`; no terminator. */
void b64url_encode(const unsigned char *in, size_t len, char *out);

#endif
