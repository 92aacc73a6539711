#ifndef OAUTH_PROXY_JWKS_CACHE_H
#define OAUTH_PROXY_JWKS_CACHE_H

/* The authorization server's key set, kept in memory. Fetched on first need (and on every need until one
   fetch succeeds); fetched again when a token names a kid the set does not hold (a key rotation), at most
   once per JWKS_REFETCH_INTERVAL_S (the first such fetch at once, however recent the first one); a fetch
   that fails or brings an unreadable document keeps the keys already held. Thread-safe: the set is guarded
   by a mutex that is never held during a fetch. Pure C.
   Convention: jwks_cache_new returns NULL when out of memory; jwks_cache_key returns a jwks_lookup. */

#include <stddef.h>
#include <time.h>

#include "jwk.h"

#define JWKS_REFETCH_INTERVAL_S 30

/* Fetches the JWKS document: 0 with *body malloc'ed (the cache frees it), or -1 with `detail` holding a
   short reason (an HTTP status or transport category) for the log. */
typedef int (*jwks_fetch_fn)(void *ctx, unsigned char **body, size_t *len, char *detail, size_t detail_size);

typedef struct {
    jwks_fetch_fn fetch;
    void *fetch_ctx;
    void (*free_fetch_ctx)(void *ctx); /* may be NULL */
    /* Around a fetch, so that a binding can let other threads run while it waits (both NULL: nothing). */
    void *(*release_lock)(void);
    void (*reacquire_lock)(void *state);
} jwks_cache_config;

typedef struct jwks_cache jwks_cache;

typedef enum {
    JWKS_KEY_FOUND,  /* *key holds its own reference: release with jwk_clear */
    JWKS_KEY_NONE,   /* the set (fetched at least once) has no such key */
    JWKS_UNAVAILABLE /* no key set was ever fetched, and fetching failed now */
} jwks_lookup;

/* Takes ownership of cfg->fetch_ctx (freed with cfg->free_fetch_ctx, also when NULL is returned). */
jwks_cache *jwks_cache_new(const jwks_cache_config *cfg);
void jwks_cache_free(jwks_cache *c);

/* The key a token asks for (see jwk_set_find); `now` decides whether a fetch is due. detail receives the
   reason of a failed fetch (or "" when none was needed). */
jwks_lookup jwks_cache_key(jwks_cache *c, int has_kid, const char *kid, size_t kid_len, jwk_type type, time_t now,
                           jwk *key, char *detail, size_t detail_size);

/* Fetches made (successful or not), for tests and metrics. */
unsigned long jwks_cache_fetches(jwks_cache *c);

#endif
