#include "jwt_claims.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64url.h"
#include "utf8.h"

#define MAX_DEPTH 64

typedef struct {
    const unsigned char *p;
    const unsigned char *end;
} json_reader;

static void skip_blanks(json_reader *r) {
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

static int hex4(const unsigned char *s, uint32_t *out) {
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (uint32_t)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

/* Reads a string whose opening quote is at r->p. Sets [*start, *stop) to the raw contents. Escapes and
   UTF-8 are validated here, so decode_string cannot fail on what this accepted. */
static int read_string(json_reader *r, const unsigned char **start, const unsigned char **stop, int *escaped) {
    r->p++;
    *start = r->p;
    *escaped = 0;
    const unsigned char *run = r->p; /* unescaped bytes not yet checked for UTF-8 */
    while (r->p < r->end) {
        unsigned char c = *r->p;
        if (c == '"') {
            if (!utf8_valid(run, (size_t)(r->p - run))) return -1;
            *stop = r->p++;
            return 0;
        }
        if (c < 0x20) return -1;
        if (c != '\\') {
            r->p++;
            continue;
        }
        if (!utf8_valid(run, (size_t)(r->p - run))) return -1;
        *escaped = 1;
        if (r->end - r->p < 2) return -1;
        unsigned char e = r->p[1];
        if (e == 'u') {
            uint32_t cp, lo;
            if (r->end - r->p < 6 || hex4(r->p + 2, &cp) != 0) return -1;
            r->p += 6;
            if (cp >= 0xDC00 && cp <= 0xDFFF) return -1; /* a lone low surrogate */
            if (cp >= 0xD800 && cp <= 0xDBFF) {          /* must pair with a low one */
                if (r->end - r->p < 6 || r->p[0] != '\\' || r->p[1] != 'u' || hex4(r->p + 2, &lo) != 0 || lo < 0xDC00 ||
                    lo > 0xDFFF)
                    return -1;
                r->p += 6;
            }
        } else if (strchr("\"\\/bfnrt", e) != NULL && e != '\0') {
            r->p += 2;
        } else {
            return -1;
        }
        run = r->p;
    }
    return -1;
}

static size_t put_utf8(uint32_t cp, char *out) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Decodes raw contents validated by read_string. The result is never longer than the raw text (an escape
   of 6 or 12 characters yields at most 3 or 4 bytes), so len + 1 bytes always suffice. */
static char *decode_string(const unsigned char *s, const unsigned char *stop, size_t *out_len) {
    char *out = malloc((size_t)(stop - s) + 1);
    if (out == NULL) return NULL;
    size_t o = 0;
    while (s < stop) {
        if (*s != '\\') {
            out[o++] = (char)*s++;
            continue;
        }
        unsigned char e = s[1];
        s += 2;
        switch (e) {
            case 'b':
                out[o++] = '\b';
                break;
            case 'f':
                out[o++] = '\f';
                break;
            case 'n':
                out[o++] = '\n';
                break;
            case 'r':
                out[o++] = '\r';
                break;
            case 't':
                out[o++] = '\t';
                break;
            case 'u': {
                uint32_t cp = 0, lo = 0;
                hex4(s, &cp);
                s += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    hex4(s + 2, &lo);
                    s += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                }
                o += put_utf8(cp, out + o);
                break;
            }
            default:
                out[o++] = (char)e;
                break; /* " \ / */
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

static int is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* RFC 8259 number grammar; the value is computed well enough for a timestamp (fractions kept, exponent
   clamped), without strtod, whose decimal point depends on the process locale. */
static int read_number(json_reader *r, double *value) {
    double v = 0, scale = 1;
    int negative = 0, exponent = 0;
    if (r->p < r->end && *r->p == '-') {
        negative = 1;
        r->p++;
    }
    if (r->p >= r->end || !is_digit(*r->p)) return -1;
    if (*r->p == '0') {
        r->p++;
    } else {
        while (r->p < r->end && is_digit(*r->p)) v = v * 10 + (*r->p++ - '0');
    }
    if (r->p < r->end && *r->p == '.') {
        r->p++;
        if (r->p >= r->end || !is_digit(*r->p)) return -1;
        while (r->p < r->end && is_digit(*r->p)) {
            scale /= 10;
            v += (*r->p++ - '0') * scale;
        }
    }
    if (r->p < r->end && (*r->p == 'e' || *r->p == 'E')) {
        int exp_negative = 0;
        r->p++;
        if (r->p < r->end && (*r->p == '+' || *r->p == '-')) exp_negative = *r->p++ == '-';
        if (r->p >= r->end || !is_digit(*r->p)) return -1;
        while (r->p < r->end && is_digit(*r->p)) {
            if (exponent < 1000) exponent = exponent * 10 + (*r->p - '0');
            r->p++;
        }
        if (exponent > 400) exponent = 400;
        for (int i = 0; i < exponent; i++) v = exp_negative ? v / 10 : v * 10;
    }
    *value = negative ? -v : v;
    return 0;
}

static int read_literal(json_reader *r, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0) return -1;
    r->p += n;
    return 0;
}

/* After a member or element: 1 when a comma says another follows, 0 when `close` ends the container. */
static int next_or_close(json_reader *r, unsigned char close) {
    skip_blanks(r);
    if (r->p >= r->end) return -1;
    if (*r->p == ',') {
        r->p++;
        skip_blanks(r);
        return 1;
    }
    return *r->p++ == close ? 0 : -1;
}

static int skip_value(json_reader *r, int depth);

static int skip_container(json_reader *r, int depth, unsigned char close) {
    if (depth >= MAX_DEPTH) return -1;
    r->p++;
    skip_blanks(r);
    if (r->p < r->end && *r->p == close) {
        r->p++;
        return 0;
    }
    for (;;) {
        if (close == '}') {
            const unsigned char *s, *e;
            int escaped;
            if (r->p >= r->end || *r->p != '"' || read_string(r, &s, &e, &escaped) != 0) return -1;
            skip_blanks(r);
            if (r->p >= r->end || *r->p++ != ':') return -1;
        }
        if (skip_value(r, depth + 1) != 0) return -1;
        int more = next_or_close(r, close);
        if (more <= 0) return more;
    }
}

static int skip_value(json_reader *r, int depth) {
    skip_blanks(r);
    if (r->p >= r->end) return -1;
    switch (*r->p) {
        case '{':
            return skip_container(r, depth, '}');
        case '[':
            return skip_container(r, depth, ']');
        case '"': {
            const unsigned char *s, *e;
            int escaped;
            return read_string(r, &s, &e, &escaped);
        }
        case 't':
            return read_literal(r, "true");
        case 'f':
            return read_literal(r, "false");
        case 'n':
            return read_literal(r, "null");
        default: {
            double ignored;
            return read_number(r, &ignored);
        }
    }
}

enum member { OTHER, SUB, SCOPE, EXP, ACTIVE };

static enum member classify_key(const unsigned char *s, const unsigned char *e, int escaped, int *failed) {
    size_t len = (size_t)(e - s);
    char *decoded = NULL;
    const char *key = (const char *)s;
    if (escaped) {
        decoded = decode_string(s, e, &len);
        if (decoded == NULL) {
            *failed = 1;
            return OTHER;
        }
        key = decoded;
    }
    enum member m = OTHER;
    if (len == 3 && memcmp(key, "sub", 3) == 0)
        m = SUB;
    else if (len == 5 && memcmp(key, "scope", 5) == 0)
        m = SCOPE;
    else if (len == 3 && memcmp(key, "exp", 3) == 0)
        m = EXP;
    else if (len == 6 && memcmp(key, "active", 6) == 0)
        m = ACTIVE;
    free(decoded);
    return m;
}

/* Replaces *slot with the decoded string when the value at r->p is a string; clears it otherwise (the last
   duplicate decides, whatever its type). */
static int read_string_member(json_reader *r, char **slot, size_t *slot_len) {
    free(*slot);
    *slot = NULL;
    *slot_len = 0;
    if (r->p < r->end && *r->p == '"') {
        const unsigned char *s, *e;
        int escaped;
        if (read_string(r, &s, &e, &escaped) != 0) return -1;
        *slot = decode_string(s, e, slot_len);
        return *slot == NULL ? -1 : 0;
    }
    return skip_value(r, 1);
}

static int key_is(const unsigned char *s, const unsigned char *e, int escaped, const char *name, size_t name_len,
                  int *failed) {
    if (!escaped) return (size_t)(e - s) == name_len && memcmp(s, name, name_len) == 0;
    size_t len = 0;
    char *decoded = decode_string(s, e, &len);
    if (decoded == NULL) {
        *failed = 1;
        return 0;
    }
    int same = len == name_len && memcmp(decoded, name, len) == 0;
    free(decoded);
    return same;
}

static int json_type_of(unsigned char c) {
    switch (c) {
        case '"':
            return JSON_STRING;
        case 't':
            return JSON_TRUE;
        case 'f':
            return JSON_FALSE;
        case '-':
            return JSON_NUMBER;
        default:
            return is_digit(c) ? JSON_NUMBER : JSON_OTHER;
    }
}

/* Notes where the member just read (its value spans [value, r->p)) is one of the wanted ones. */
static int note_wanted(const json_wanted *want, const unsigned char *s, const unsigned char *e, int escaped,
                       const unsigned char *value, const json_reader *r) {
    int failed = 0;
    for (size_t i = 0; i < want->count; i++) {
        if (!key_is(s, e, escaped, want->names[i], want->name_lens[i], &failed)) continue;
        want->found[i].type = json_type_of(*value);
        want->found[i].raw = value;
        want->found[i].raw_len = (size_t)(r->p - value);
    }
    return failed ? -1 : 0;
}

static int read_payload(json_reader *r, jwt_claims *out, const json_wanted *want) {
    if (want != NULL) memset(want->found, 0, want->count * sizeof *want->found);
    int active_members = 0;
    skip_blanks(r);
    if (r->p >= r->end || *r->p != '{') return -1;
    r->p++;
    skip_blanks(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
    } else {
        for (;;) {
            const unsigned char *s, *e;
            int escaped, failed = 0;
            if (r->p >= r->end || *r->p != '"' || read_string(r, &s, &e, &escaped) != 0) return -1;
            enum member m = classify_key(s, e, escaped, &failed);
            if (failed) return -1;
            skip_blanks(r);
            if (r->p >= r->end || *r->p++ != ':') return -1;
            skip_blanks(r);
            const unsigned char *value = r->p;
            int rc;
            if (m == SUB) {
                rc = read_string_member(r, &out->sub, &out->sub_len);
            } else if (m == SCOPE) {
                rc = read_string_member(r, &out->scope, &out->scope_len);
            } else if (m == ACTIVE) {
                active_members++;
                if (read_literal(r, "true") == 0) {
                    out->active = JSON_ACTIVE_TRUE;
                    rc = 0;
                } else if (read_literal(r, "false") == 0) {
                    out->active = JSON_ACTIVE_FALSE;
                    rc = 0;
                } else {
                    out->active = JSON_ACTIVE_UNKNOWN;
                    rc = skip_value(r, 1);
                }
            } else if (m == EXP && r->p < r->end && (*r->p == '-' || is_digit(*r->p))) {
                rc = read_number(r, &out->exp);
                out->has_exp = rc == 0;
            } else {
                if (m == EXP) out->has_exp = 0;
                rc = skip_value(r, 1);
            }
            if (rc != 0 || (want != NULL && note_wanted(want, s, e, escaped, value, r) != 0)) return -1;
            int more = next_or_close(r, '}');
            if (more < 0) return -1;
            if (more == 0) break;
        }
    }
    if (active_members > 1) out->active = JSON_ACTIVE_UNKNOWN;
    skip_blanks(r);
    return r->p == r->end ? 0 : -1;
}

int json_claims_parse(const char *json, size_t len, jwt_claims *out) {
    memset(out, 0, sizeof *out);
    json_reader r = {(const unsigned char *)json, (const unsigned char *)json + len};
    if (read_payload(&r, out, NULL) == 0) return 0;
    jwt_claims_clear(out);
    return -1;
}

int jwt_payload(const char *token, size_t len, unsigned char **json, size_t *json_len) {
    *json = NULL;
    *json_len = 0;
    const char *dot1 = memchr(token, '.', len);
    if (dot1 == NULL) return -1;
    const char *payload = dot1 + 1, *end = token + len;
    const char *dot2 = memchr(payload, '.', (size_t)(end - payload));
    if (dot2 == NULL || memchr(dot2 + 1, '.', (size_t)(end - dot2 - 1)) != NULL) return -1;
    size_t payload_len = (size_t)(dot2 - payload);
    if (dot1 == token || payload_len == 0) return -1;

    unsigned char *decoded = malloc(b64url_decoded_max(payload_len));
    if (decoded == NULL) return -1;
    if (b64url_decode(payload, payload_len, decoded, json_len) != 0) {
        free(decoded);
        *json_len = 0;
        return -1;
    }
    *json = decoded;
    return 0;
}

int jwt_claims_parse(const char *token, size_t len, jwt_claims *out) {
    memset(out, 0, sizeof *out);
    unsigned char *json;
    size_t json_len;
    if (jwt_payload(token, len, &json, &json_len) != 0) return -1;
    int rc = json_claims_parse((const char *)json, json_len, out);
    free(json);
    return rc;
}

int jwt_claims_parse_wanted(const char *token, size_t len, jwt_claims *out, const json_wanted *want,
                            unsigned char **payload) {
    memset(out, 0, sizeof *out);
    size_t json_len;
    if (jwt_payload(token, len, payload, &json_len) != 0) return -1;
    json_reader r = {*payload, *payload + json_len};
    if (read_payload(&r, out, want) == 0) return 0;
    jwt_claims_clear(out);
    free(*payload);
    *payload = NULL;
    return -1;
}

int json_members(const unsigned char *json, size_t len, const json_wanted *want) {
    jwt_claims ignored = {0};
    json_reader r = {json, json + len};
    int rc = read_payload(&r, &ignored, want);
    jwt_claims_clear(&ignored);
    return rc;
}

char *json_member_string(const json_member *member, size_t *len) {
    return decode_string(member->raw + 1, member->raw + member->raw_len - 1, len);
}

void jwt_claims_clear(jwt_claims *claims) {
    free(claims->sub);
    free(claims->scope);
    memset(claims, 0, sizeof *claims);
}
