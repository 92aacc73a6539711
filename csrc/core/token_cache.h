#ifndef OAUTH_PROXY_TOKEN_CACHE_H
#define OAUTH_PROXY_TOKEN_CACHE_H

/* LRU cache of introspection results: SHA-256(opaque token) -> JWT.
 * The opaque token itself is never stored. The entries are guarded by the cache's own mutex, but the key is
 * hashed by token_digest, whose one shared context needs calls serialised by the caller (the extension holds
 * the GIL around them; the fuzz harness is single-threaded).
 * Convention of this file: token_cache_new returns NULL when out of memory; token_cache_get answers 1 (hit)
 * or 0 (miss, also when out of memory); token_cache_put fails silently: the cache is an optimisation. */

#include <stddef.h>

#include "jwt_claims.h"

typedef struct token_cache token_cache;

/* capacity 0 or ttl_s <= 0 gives a cache that stores nothing (caching
 * disabled); NULL only when out of memory. */
token_cache *token_cache_new(size_t capacity, long ttl_s);
void token_cache_free(token_cache *c);

/* 1: hit, *jwt malloc'ed and NUL-terminated, owned by the caller, and when
 * claims is not NULL, *claims holds copies of the JWT's sub and scope (and
 * exp), as parsed when the entry was stored: a hit need not parse the JWT
 * again (release with jwt_claims_clear);
 * 0: miss (also when out of memory). An expired entry is dropped on lookup. */
int token_cache_get(token_cache *c, const char *token, size_t token_len, char **jwt, size_t *jwt_len,
                    jwt_claims *claims);

/* Stores a JWT and its parsed claims for at most ttl_s seconds and never past
 * claims->exp (seconds since the epoch) when claims->has_exp. Already expired,
 * or caching disabled: nothing stored.
 * Replaces an existing entry for the same token; evicts the least recently
 * used entry when full. Failures are silent: the cache is an optimisation. */
void token_cache_put(token_cache *c, const char *token, size_t token_len, const char *jwt, size_t jwt_len,
                     const jwt_claims *claims);

size_t token_cache_count(token_cache *c);

#endif
