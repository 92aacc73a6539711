#include "form_encoding.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

char *form_urlencode(const char *s, size_t len, size_t *out_len) {
    static const char hex[] = "0123456789ABCDEF";
    if (len > (SIZE_MAX - 1) / 3) return NULL;
    char *out = malloc(len * 3 + 1);
    if (out == NULL) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
            c == '_' || c == '*') {
            out[o++] = (char)c;
        } else if (c == ' ') {
            out[o++] = '+';
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 0x0f];
        }
    }
    out[o] = '\0';
    if (out_len != NULL) *out_len = o;
    return out;
}

char *base64_encode_padded(const unsigned char *s, size_t len, size_t *out_len) {
    static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (len > (SIZE_MAX - 1) / 4 * 3 - 3) return NULL;
    size_t n = (len + 2) / 3 * 4;
    char *out = malloc(n + 1);
    if (out == NULL) return NULL;
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
    if (out_len != NULL) *out_len = o;
    return out;
}

static void wipe_free(char *s, size_t n) {
    if (s == NULL) return;
    OPENSSL_cleanse(s, n);
    free(s);
}

char *basic_auth_header(const char *client_id, const char *client_secret) {
    static const char prefix[] = "Authorization: Basic ";
    size_t id_len = 0, secret_len = 0, b64_len = 0;
    char *eid = form_urlencode(client_id, strlen(client_id), &id_len);
    char *esecret = form_urlencode(client_secret, strlen(client_secret), &secret_len);
    char *pair = NULL, *b64 = NULL, *header = NULL;
    if (eid == NULL || esecret == NULL) goto done;
    pair = malloc(id_len + 1 + secret_len);
    if (pair == NULL) goto done;
    memcpy(pair, eid, id_len);
    pair[id_len] = ':';
    memcpy(pair + id_len + 1, esecret, secret_len);
    b64 = base64_encode_padded((unsigned char *)pair, id_len + 1 + secret_len, &b64_len);
    if (b64 == NULL) goto done;
    header = malloc(sizeof prefix - 1 + b64_len + 1);
    if (header == NULL) goto done;
    memcpy(header, prefix, sizeof prefix - 1);
    memcpy(header + sizeof prefix - 1, b64, b64_len + 1);
done:
    wipe_free(eid, id_len);
    wipe_free(esecret, secret_len);
    wipe_free(pair, id_len + 1 + secret_len);
    wipe_free(b64, b64_len);
    return header;
}
