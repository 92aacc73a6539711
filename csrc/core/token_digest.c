#include "token_digest.h"

#include <openssl/evp.h>

static EVP_MD *sha256;
/* One context for every call: EVP_Digest would allocate, initialise and free a context per token, which
   costs more than hashing it. Callers hold the GIL, which serialises the use of this context. */
static EVP_MD_CTX *ctx;

int token_digest_init(void) {
    if (sha256 == NULL) sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (ctx == NULL) ctx = EVP_MD_CTX_new();
    return sha256 == NULL || ctx == NULL ? -1 : 0;
}

int token_digest(const char *token, size_t len, unsigned char out[TOKEN_DIGEST_BYTES]) {
    unsigned int n = 0;
    if (sha256 == NULL || ctx == NULL || EVP_DigestInit_ex2(ctx, sha256, NULL) != 1 ||
        EVP_DigestUpdate(ctx, token, len) != 1 || EVP_DigestFinal_ex(ctx, out, &n) != 1 || n != TOKEN_DIGEST_BYTES)
        return -1;
    return 0;
}
