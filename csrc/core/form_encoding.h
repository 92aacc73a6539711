#ifndef OAUTH_PROXY_FORM_ENCODING_H
#define OAUTH_PROXY_FORM_ENCODING_H

/* What an OAuth client sends in its request: form-urlencoded values (RFC 6749 appendix B) and HTTP Basic
 * client credentials (RFC 6749 section 2.3.1, RFC 7617).
 *
 * Convention of this file: every function returns a malloc'ed, NUL-terminated string owned by the caller, or
 * NULL when out of memory or when the length would overflow. */

#include <stddef.h>

/* Unreserved characters stay, space becomes '+', every other byte %XX. *out_len (when not NULL) gets the
 * length. */
char *form_urlencode(const char *s, size_t len, size_t *out_len);

/* Standard base64 alphabet with padding, as HTTP Basic uses it. */
char *base64_encode_padded(const unsigned char *s, size_t len, size_t *out_len);

/* "Authorization: Basic base64(urlencode(id) ":" urlencode(secret))". Every intermediate copy of the secret
 * is wiped; the caller wipes the result (OPENSSL_cleanse) before freeing it. */
char *basic_auth_header(const char *client_id, const char *client_secret);

#endif
