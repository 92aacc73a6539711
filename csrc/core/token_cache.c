#include "token_cache.h"

#include <openssl/crypto.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "token_digest.h"

/* Expiry uses two clocks on purpose: the TTL runs on CLOCK_MONOTONIC so a
 * wall-clock step cannot stretch it, while the JWT's exp is a wall-clock
 * instant and can only be compared with CLOCK_REALTIME. An entry is live
 * while both deadlines are in the future. */

typedef struct entry {
    unsigned char key[TOKEN_DIGEST_BYTES];
    char *jwt;
    size_t jwt_len;
    char *sub, *scope; /* the JWT's claims, parsed once when stored */
    size_t sub_len, scope_len;
    double mono_deadline;
    int has_exp;
    double exp;
    struct entry *hnext;       /* bucket chain */
    struct entry *prev, *next; /* LRU list: head most recent */
} entry;

struct token_cache {
    pthread_mutex_t lock;
    size_t capacity, count;
    double ttl;
    entry **buckets;
    size_t mask; /* bucket count - 1, a power of two */
    entry *head, *tail;
    int enabled;
};

/* One bucket per entry up to this; longer chains beyond keep memory bounded. */
#define MAX_BUCKETS ((size_t)1 << 20)

static double now_clock(clockid_t id) {
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0) return 0;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* SHA-256 (token_digest.c: the algorithm is fetched once at import). */
static int hash_token(const char *token, size_t len, unsigned char out[TOKEN_DIGEST_BYTES]) {
    return token_digest(token, len, out);
}

static size_t bucket_of(const token_cache *c, const unsigned char *key) {
    uint64_t v;
    memcpy(&v, key, sizeof v); /* a uniform hash already: any bits will do */
    return (size_t)v & c->mask;
}

token_cache *token_cache_new(size_t capacity, long ttl_s) {
    token_cache *c = calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    if (pthread_mutex_init(&c->lock, NULL) != 0) {
        free(c);
        return NULL;
    }
    c->enabled = capacity > 0 && ttl_s > 0;
    if (!c->enabled) return c;
    c->capacity = capacity;
    c->ttl = (double)ttl_s;
    size_t buckets = 1;
    while (buckets < capacity && buckets < MAX_BUCKETS) buckets <<= 1;
    c->buckets = calloc(buckets, sizeof *c->buckets);
    if (c->buckets == NULL) {
        pthread_mutex_destroy(&c->lock);
        free(c);
        return NULL;
    }
    c->mask = buckets - 1;
    return c;
}

static void lru_unlink(token_cache *c, entry *e) {
    if (e->prev != NULL)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next != NULL)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(token_cache *c, entry *e) {
    e->prev = NULL;
    e->next = c->head;
    if (c->head != NULL) c->head->prev = e;
    c->head = e;
    if (c->tail == NULL) c->tail = e;
}

/* Removes e from its bucket and the list and frees it. */
static void remove_entry(token_cache *c, entry *e) {
    entry **pp = &c->buckets[bucket_of(c, e->key)];
    while (*pp != NULL && *pp != e) pp = &(*pp)->hnext;
    if (*pp == e) *pp = e->hnext;
    lru_unlink(c, e);
    OPENSSL_cleanse(e->jwt, e->jwt_len); /* a credential */
    free(e->jwt);
    free(e->sub);
    free(e->scope);
    free(e);
    c->count--;
}

static entry *find(token_cache *c, const unsigned char *key) {
    for (entry *e = c->buckets[bucket_of(c, key)]; e != NULL; e = e->hnext)
        if (memcmp(e->key, key, sizeof e->key) == 0) return e;
    return NULL;
}

static int live(const entry *e) {
    if (now_clock(CLOCK_MONOTONIC) >= e->mono_deadline) return 0;
    return !e->has_exp || now_clock(CLOCK_REALTIME) < e->exp;
}

/* A NUL-terminated copy of n bytes; NULL for a NULL source or out of memory. */
static char *copy_bytes(const char *s, size_t n) {
    char *d = s != NULL && n < SIZE_MAX ? malloc(n + 1) : NULL;
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

int token_cache_get(token_cache *c, const char *token, size_t token_len, char **jwt, size_t *jwt_len,
                    jwt_claims *claims) {
    unsigned char key[TOKEN_DIGEST_BYTES];
    *jwt = NULL;
    *jwt_len = 0;
    if (claims != NULL) memset(claims, 0, sizeof *claims);
    if (c == NULL || !c->enabled || hash_token(token, token_len, key) != 0) return 0;
    int hit = 0;
    if (pthread_mutex_lock(&c->lock) != 0) return 0;
    entry *e = find(c, key);
    if (e != NULL && !live(e)) {
        remove_entry(c, e);
        e = NULL;
    }
    if (e != NULL) {
        char *copy = malloc(e->jwt_len + 1);
        jwt_claims got = {0};
        int ok = copy != NULL;
        if (ok && claims != NULL) {
            got.sub = copy_bytes(e->sub, e->sub_len);
            got.sub_len = e->sub_len;
            got.scope = copy_bytes(e->scope, e->scope_len);
            got.scope_len = e->scope_len;
            got.has_exp = e->has_exp;
            got.exp = e->exp;
            ok = (got.sub != NULL) == (e->sub != NULL) && (got.scope != NULL) == (e->scope != NULL);
        }
        if (ok) {
            memcpy(copy, e->jwt, e->jwt_len + 1);
            *jwt = copy;
            *jwt_len = e->jwt_len;
            if (claims != NULL) *claims = got;
            lru_unlink(c, e);
            lru_push_front(c, e);
            hit = 1;
        } else {
            free(copy);
            jwt_claims_clear(&got);
        }
    }
    pthread_mutex_unlock(&c->lock);
    return hit;
}

void token_cache_put(token_cache *c, const char *token, size_t token_len, const char *jwt, size_t jwt_len,
                     const jwt_claims *claims) {
    unsigned char key[TOKEN_DIGEST_BYTES];
    int has_exp = claims->has_exp;
    double exp = claims->exp;
    if (c == NULL || !c->enabled) return;
    if (has_exp && !(exp > now_clock(CLOCK_REALTIME))) /* also rejects NaN */
        return;
    if (hash_token(token, token_len, key) != 0) return;
    entry *e = calloc(1, sizeof *e);
    char *copy = jwt_len < SIZE_MAX ? malloc(jwt_len + 1) : NULL;
    char *sub = copy_bytes(claims->sub, claims->sub_len);
    char *scope = copy_bytes(claims->scope, claims->scope_len);
    if (e == NULL || copy == NULL || (sub == NULL) != (claims->sub == NULL) ||
        (scope == NULL) != (claims->scope == NULL)) {
        free(e);
        free(copy);
        free(sub);
        free(scope);
        return;
    }
    e->sub = sub;
    e->sub_len = claims->sub_len;
    e->scope = scope;
    e->scope_len = claims->scope_len;
    memcpy(copy, jwt, jwt_len);
    copy[jwt_len] = '\0';
    memcpy(e->key, key, sizeof key);
    e->jwt = copy;
    e->jwt_len = jwt_len;
    e->has_exp = has_exp;
    e->exp = exp;
    e->mono_deadline = now_clock(CLOCK_MONOTONIC) + c->ttl;

    if (pthread_mutex_lock(&c->lock) != 0) {
        free(copy);
        free(sub);
        free(scope);
        free(e);
        return;
    }
    entry *old = find(c, key);
    if (old != NULL) remove_entry(c, old);
    while (c->count >= c->capacity && c->tail != NULL) remove_entry(c, c->tail);
    size_t b = bucket_of(c, key);
    e->hnext = c->buckets[b];
    c->buckets[b] = e;
    lru_push_front(c, e);
    c->count++;
    pthread_mutex_unlock(&c->lock);
}

size_t token_cache_count(token_cache *c) {
    if (c == NULL || pthread_mutex_lock(&c->lock) != 0) return 0;
    size_t n = c->count;
    pthread_mutex_unlock(&c->lock);
    return n;
}

void token_cache_free(token_cache *c) {
    if (c == NULL) return;
    entry *e = c->head;
    while (e != NULL) {
        entry *next = e->next;
        OPENSSL_cleanse(e->jwt, e->jwt_len); /* a credential */
        free(e->jwt);
        free(e->sub);
        free(e->scope);
        free(e);
        e = next;
    }
    free(c->buckets);
    pthread_mutex_destroy(&c->lock);
    free(c);
}
