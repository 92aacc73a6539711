#ifndef OAUTH_PROXY_TOKEN_DIGEST_H
#define OAUTH_PROXY_TOKEN_DIGEST_H

#include <stddef.h>

#define TOKEN_DIGEST_BYTES 32

/* SHA-256 with the algorithm fetched once (an implicit fetch per call costs more than hashing a token).
   token_digest_init runs once, before any token_digest. Convention of this file: 0, or -1 on failure.
   Calls must be serialised by the caller (the extension holds the GIL): they reuse one digest context. */
int token_digest_init(void);
int token_digest(const char *token, size_t len, unsigned char out[TOKEN_DIGEST_BYTES]);

#endif
