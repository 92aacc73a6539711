#include "token_digest.h"

#include <openssl/evp.h>

static EVP_MD *sha256;

int token_digest_init(void) {
    if (sha256 == NULL) sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    return sha256 == NULL ? -1 : 0;
}

int token_digest(const char *token, size_t len, unsigned char out[TOKEN_DIGEST_BYTES]) {
    unsigned int n = 0;
    if (sha256 == NULL || EVP_Digest(token, len, out, &n, sha256, NULL) != 1 || n != TOKEN_DIGEST_BYTES) return -1;
    return 0;
}
