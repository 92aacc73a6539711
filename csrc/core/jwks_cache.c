#include "jwks_cache.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct jwks_cache {
    jwks_cache_config cfg;
    pthread_mutex_t lock; /* guards everything below */
    jwk_set *set;         /* NULL until a fetch succeeded */
    int refetched;        /* a fetch for an unknown kid happened, at last_refetch */
    time_t last_refetch;
    unsigned long fetches;
};

jwks_cache *jwks_cache_new(const jwks_cache_config *cfg) {
    jwks_cache *c = calloc(1, sizeof *c);
    if (c == NULL || pthread_mutex_init(&c->lock, NULL) != 0) {
        if (cfg->free_fetch_ctx != NULL) cfg->free_fetch_ctx(cfg->fetch_ctx);
        free(c);
        return NULL;
    }
    c->cfg = *cfg;
    return c;
}

void jwks_cache_free(jwks_cache *c) {
    if (c == NULL) return;
    jwk_set_free(c->set);
    if (c->cfg.free_fetch_ctx != NULL) c->cfg.free_fetch_ctx(c->cfg.fetch_ctx);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

unsigned long jwks_cache_fetches(jwks_cache *c) {
    pthread_mutex_lock(&c->lock);
    unsigned long n = c->fetches;
    pthread_mutex_unlock(&c->lock);
    return n;
}

/* Fetches and parses outside the mutex; installs the new set under it. 0, or -1 with detail set. */
static int refresh(jwks_cache *c, char *detail, size_t detail_size) {
    void *state = c->cfg.release_lock != NULL ? c->cfg.release_lock() : NULL;
    unsigned char *body = NULL;
    size_t len = 0;
    jwk_set *set = NULL;
    int rc = c->cfg.fetch(c->cfg.fetch_ctx, &body, &len, detail, detail_size);
    if (rc == 0 && jwk_set_parse(body, len, &set) != 0) {
        snprintf(detail, detail_size, "the JWKS is not a JSON object with a keys array");
        rc = -1;
    }
    free(body);
    if (c->cfg.reacquire_lock != NULL) c->cfg.reacquire_lock(state);
    if (rc != 0) return -1;
    pthread_mutex_lock(&c->lock);
    jwk_set *old = c->set;
    c->set = set;
    pthread_mutex_unlock(&c->lock);
    jwk_set_free(old);
    return 0;
}

/* Under the mutex: copies the key found into *key with its own reference. */
static jwks_lookup find_locked(jwks_cache *c, int has_kid, const char *kid, size_t kid_len, jwk_type type, jwk *key,
                               int *kid_known) {
    *kid_known = 0;
    if (c->set == NULL) return JWKS_UNAVAILABLE;
    const jwk *found = jwk_set_find(c->set, has_kid, kid, kid_len, type, kid_known);
    if (found == NULL || EVP_PKEY_up_ref(found->pkey) != 1) return JWKS_KEY_NONE;
    key->type = found->type;
    memcpy(key->alg, found->alg, sizeof key->alg);
    key->pkey = found->pkey;
    return JWKS_KEY_FOUND;
}

jwks_lookup jwks_cache_key(jwks_cache *c, int has_kid, const char *kid, size_t kid_len, jwk_type type, time_t now,
                           jwk *key, char *detail, size_t detail_size) {
    memset(key, 0, sizeof *key);
    if (detail_size > 0) detail[0] = '\0';
    int kid_known;
    pthread_mutex_lock(&c->lock);
    jwks_lookup r = find_locked(c, has_kid, kid, kid_len, type, key, &kid_known);
    /* Nothing held yet: every request tries (an endpoint that comes up is used at once). An unknown kid:
       the set may have been rotated, but a stream of made-up kids must not become a stream of fetches. */
    int refetch = r == JWKS_KEY_NONE && has_kid && !kid_known &&
                  (!c->refetched || now - c->last_refetch >= JWKS_REFETCH_INTERVAL_S);
    int due = r == JWKS_UNAVAILABLE || refetch;
    if (refetch) {
        c->refetched = 1;
        c->last_refetch = now;
    }
    if (due) c->fetches++;
    pthread_mutex_unlock(&c->lock);
    if (!due || refresh(c, detail, detail_size) != 0) return r;
    pthread_mutex_lock(&c->lock);
    r = find_locked(c, has_kid, kid, kid_len, type, key, &kid_known);
    pthread_mutex_unlock(&c->lock);
    return r;
}
