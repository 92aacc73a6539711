#include "b64url.h"

#include <stdint.h>

static const char ALPHABET[64] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 0xFF marks a byte outside the alphabet. A table avoids branches on untrusted input. */
static const uint8_t DECODE[256] = {
#define X 0xFF
    X,  X,  X,  X,  X,  X,  X,  X, X,  X, X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X, X,  X, X,  X,  X,  X,  X,  X,  62, X,  X,  52, 53, 54, 55, 56, 57, 58, 59, 60, 61,
    X,  X,  X,  X,  X,  X,  X,  0, 1,  2, 3,  4,  5,  6,  7,  8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
    22, 23, 24, 25, X,  X,  X,  X, 63, X, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44,
    45, 46, 47, 48, 49, 50, 51, X, X,  X, X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X, X,  X, X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X, X,  X, X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X, X,  X, X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
    X,  X,  X,  X,  X,  X,  X,  X, X,  X, X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,  X,
#undef X
};

size_t b64url_decoded_max(size_t len) { return (len / 4) * 3 + 2; }

int b64url_decode(const char *in, size_t len, unsigned char *out, size_t *out_len) {
    const unsigned char *s = (const unsigned char *)in;
    size_t full = len / 4, rest = len % 4, o = 0;
    if (rest == 1) return -1; /* one character carries only 6 bits: never a whole byte */
    for (size_t i = 0; i < full; i++, s += 4) {
        uint8_t a = DECODE[s[0]], b = DECODE[s[1]], c = DECODE[s[2]], d = DECODE[s[3]];
        if ((a | b | c | d) & 0x80) return -1;
        uint32_t v = ((uint32_t)a << 18) | ((uint32_t)b << 12) | ((uint32_t)c << 6) | d;
        out[o++] = (unsigned char)(v >> 16);
        out[o++] = (unsigned char)(v >> 8);
        out[o++] = (unsigned char)v;
    }
    if (rest == 2) {
        uint8_t a = DECODE[s[0]], b = DECODE[s[1]];
        if ((a | b) & 0x80 || (b & 0x0F)) return -1;
        out[o++] = (unsigned char)((a << 2) | (b >> 4));
    } else if (rest == 3) {
        uint8_t a = DECODE[s[0]], b = DECODE[s[1]], c = DECODE[s[2]];
        if ((a | b | c) & 0x80 || (c & 0x03)) return -1;
        out[o++] = (unsigned char)((a << 2) | (b >> 4));
        out[o++] = (unsigned char)((b << 4) | (c >> 2));
    }
    *out_len = o;
    return 0;
}

size_t b64url_encoded_len(size_t len) { return (len / 3) * 4 + ((len % 3) ? (len % 3) + 1 : 0); }

void b64url_encode(const unsigned char *in, size_t len, char *out) {
    size_t i = 0, o = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
        out[o++] = ALPHABET[(v >> 18) & 63];
        out[o++] = ALPHABET[(v >> 12) & 63];
        out[o++] = ALPHABET[(v >> 6) & 63];
        out[o++] = ALPHABET[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = ALPHABET[(v >> 18) & 63];
        out[o++] = ALPHABET[(v >> 12) & 63];
    } else if (len - i == 2) {
        uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8);
        out[o++] = ALPHABET[(v >> 18) & 63];
        out[o++] = ALPHABET[(v >> 12) & 63];
        out[o++] = ALPHABET[(v >> 6) & 63];
    }
}
