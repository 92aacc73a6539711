#ifndef OAUTH_PROXY_TOKEN_DIGEST_H
#define OAUTH_PROXY_TOKEN_DIGEST_H

#include <stddef.h>

#define TOKEN_DIGEST_BYTES 32

/* SHA-256 with the algorithm fetched once (an implicit fetch per call costs more than hashing a token).
   token_digest_init runs at import; token_digest returns 0 or -1. Call it with the GIL held: it reuses one
   digest context, which the GIL serialises. */
int token_digest_init(void);
int token_digest(const char *token, size_t len, unsigned char out[TOKEN_DIGEST_BYTES]);

#endif
