/* The OpenSSL floor of one authorizer request: only the work no implementation can avoid.
 *
 * GET: base64url-decode the access-token cookie and AES-256-GCM decrypt it.
 * POST: the same for the CSRF cookie and the access-token cookie, plus the constant-time comparison of the
 * CSRF header with the CSRF plaintext.
 * The EVP context is created and keyed once (as any real implementation would); per request only the IV
 * is set. Buffers are allocated once, sized from the inputs. No event parsing, no response building.
 *
 * usage: floor KEY_HEX AT_OPAQUE AT_JWT CSRF_COOKIE CSRF_PLAINTEXT ITERATIONS [CASE]
 * prints one JSON object: ns per operation for get_opaque, post_opaque, get_jwt, post_jwt (only CASE if
 * given, for instruction counting under callgrind).
 */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define IV_LEN 12
#define TAG_LEN 16

static signed char b64_table[256];

static void b64_init(void) {
    const char *alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    memset(b64_table, -1, sizeof b64_table);
    for (int i = 0; i < 64; i++) b64_table[(unsigned char)alphabet[i]] = (signed char)i;
}

/* Strict unpadded base64url; returns the decoded length or -1. out holds at least len*3/4 bytes. */
static long b64url_decode(const char *in, size_t len, unsigned char *out) {
    if (len % 4 == 1) return -1;
    size_t o = 0, i = 0;
    for (; i + 4 <= len; i += 4) {
        int a = b64_table[(unsigned char)in[i]], b = b64_table[(unsigned char)in[i + 1]];
        int c = b64_table[(unsigned char)in[i + 2]], d = b64_table[(unsigned char)in[i + 3]];
        if ((a | b | c | d) < 0) return -1;
        uint32_t v = ((uint32_t)a << 18) | ((uint32_t)b << 12) | ((uint32_t)c << 6) | (uint32_t)d;
        out[o++] = (unsigned char)(v >> 16);
        out[o++] = (unsigned char)(v >> 8);
        out[o++] = (unsigned char)v;
    }
    size_t rest = len - i;
    if (rest >= 2) {
        int a = b64_table[(unsigned char)in[i]], b = b64_table[(unsigned char)in[i + 1]];
        if ((a | b) < 0) return -1;
        uint32_t v = ((uint32_t)a << 18) | ((uint32_t)b << 12);
        if (rest == 3) {
            int c = b64_table[(unsigned char)in[i + 2]];
            if (c < 0) return -1;
            v |= (uint32_t)c << 6;
            out[o++] = (unsigned char)(v >> 16);
            out[o++] = (unsigned char)(v >> 8);
        } else {
            out[o++] = (unsigned char)(v >> 16);
        }
    }
    return (long)o;
}

struct cookie {
    const char *text;
    size_t len;
    unsigned char *raw;   /* decoded bytes */
    unsigned char *plain; /* decrypted bytes */
};

static int cookie_init(struct cookie *c, const char *text) {
    c->text = text;
    c->len = strlen(text);
    c->raw = malloc(c->len * 3 / 4 + 4);
    c->plain = malloc(c->len * 3 / 4 + 4);
    return c->raw && c->plain ? 0 : -1;
}

/* Decode and decrypt; returns the plaintext length or -1. */
static long open_cookie(EVP_CIPHER_CTX *ctx, struct cookie *c) {
    long n = b64url_decode(c->text, c->len, c->raw);
    if (n < 1 + IV_LEN + 1 + TAG_LEN || c->raw[0] != 1) return -1;
    int ct_len = (int)(n - 1 - IV_LEN - TAG_LEN), out_len = 0, fin_len = 0;
    if (EVP_DecryptInit_ex(ctx, NULL, NULL, NULL, c->raw + 1) != 1) return -1;
    if (EVP_DecryptUpdate(ctx, c->plain, &out_len, c->raw + 1 + IV_LEN, ct_len) != 1) return -1;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, c->raw + n - TAG_LEN) != 1) return -1;
    if (EVP_DecryptFinal_ex(ctx, c->plain + out_len, &fin_len) != 1) return -1;
    return out_len + fin_len;
}

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static volatile long sink;

static int get_once(EVP_CIPHER_CTX *ctx, struct cookie *at) {
    long n = open_cookie(ctx, at);
    sink += n;
    return n < 0 ? -1 : 0;
}

static int post_once(EVP_CIPHER_CTX *ctx, struct cookie *at, struct cookie *csrf, const char *header,
                     size_t header_len) {
    long n = open_cookie(ctx, csrf);
    if (n < 0 || (size_t)n != header_len || CRYPTO_memcmp(csrf->plain, header, header_len) != 0) return -1;
    return get_once(ctx, at);
}

int main(int argc, char **argv) {
    if (argc != 7 && argc != 8) {
        fprintf(stderr, "usage: floor KEY_HEX AT_OPAQUE AT_JWT CSRF_COOKIE CSRF_PLAINTEXT ITERATIONS [CASE]\n");
        return 2;
    }
    unsigned char key[32];
    if (strlen(argv[1]) != 64) return 2;
    for (int i = 0; i < 32; i++) {
        unsigned int byte;
        if (sscanf(argv[1] + 2 * i, "%2x", &byte) != 1) return 2;
        key[i] = (unsigned char)byte;
    }
    long iterations = strtol(argv[6], NULL, 10);
    const char *only = argc == 8 ? argv[7] : NULL;
    if (iterations <= 0) return 2;
    b64_init();

    struct cookie opaque, jwt, csrf;
    if (cookie_init(&opaque, argv[2]) || cookie_init(&jwt, argv[3]) || cookie_init(&csrf, argv[4])) return 1;
    const char *header = argv[5];
    size_t header_len = strlen(header);

    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (!ctx || EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, NULL) != 1) return 1;
    OPENSSL_cleanse(key, sizeof key);

    /* Check once that the inputs are right, and warm the caches. */
    for (int i = 0; i < 1000; i++) {
        if (post_once(ctx, &opaque, &csrf, header, header_len) || post_once(ctx, &jwt, &csrf, header, header_len)) {
            fprintf(stderr, "floor: the cookies do not decrypt under the key, or the CSRF token differs\n");
            return 1;
        }
    }

    struct cookie *ats[2] = {&opaque, &jwt};
    const char *names[2] = {"opaque", "jwt"};
    const char *sep = "";
    char name[16];
    printf("{");
    for (int t = 0; t < 2; t++) {
        for (int post = 0; post < 2; post++) {
            snprintf(name, sizeof name, "%s_%s", post ? "post" : "get", names[t]);
            if (only && strcmp(only, name) != 0) continue;
            double start = now_ns();
            if (post)
                for (long i = 0; i < iterations; i++) post_once(ctx, ats[t], &csrf, header, header_len);
            else
                for (long i = 0; i < iterations; i++) get_once(ctx, ats[t]);
            printf("%s\"%s\": %.1f", sep, name, (now_ns() - start) / (double)iterations);
            sep = ", ";
        }
    }
    printf("}\n");

    EVP_CIPHER_CTX_free(ctx);
    free(opaque.raw), free(opaque.plain), free(jwt.raw), free(jwt.plain), free(csrf.raw), free(csrf.plain);
    return 0;
}
