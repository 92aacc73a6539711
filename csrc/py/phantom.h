#ifndef OAUTH_PROXY_PHANTOM_H
#define OAUTH_PROXY_PHANTOM_H

/* Phantom token exchange: opaque token -> JWT through RFC 7662 introspection,
 * with an LRU cache in front. Glue between the authorizer, the introspector
 * and the cache. */

#include <stddef.h>

#include "jwt_claims.h"
#include "metrics.h"

typedef struct phantom phantom;

typedef struct {
    const char *url;
    const char *client_id;
    const char *client_secret;
    long timeout_ms;
    const char *ca_file; /* NULL: system store */
    long cache_ttl_s;
    size_t cache_size;
    size_t pool_size; /* connections to the endpoint, 1 to INTROSPECT_MAX_POOL */
} phantom_config;

/* Loads libcurl on first use. No Python API. On failure returns NULL with
 * *error set to a malloc'ed message that is safe to show (no secret). */
phantom *phantom_new(const phantom_config *cfg, char **error);
void phantom_free(phantom *p);

/* From now on count cache hits and misses and time each transfer into m (NULL: stop). m belongs to the
 * caller and must outlive p's use of it; it is updated with the GIL held. */
void phantom_set_metrics(phantom *p, authorizer_metrics *m);

typedef enum { PHANTOM_JWT, PHANTOM_INACTIVE, PHANTOM_FAILED } phantom_result;

/* Called WITH the GIL held; it releases the GIL only around the network
 * transfer (a cache hit never releases it). On PHANTOM_JWT *jwt is malloc'ed,
 * NUL-terminated, owned by the caller. */
phantom_result phantom_exchange(phantom *p, const char *token, size_t token_len,
                                char **jwt, size_t *jwt_len);

/* The same, and on PHANTOM_FAILED a short reason in detail (when not NULL):
 * an HTTP status or a transport error category, never a secret or the body.
 * On PHANTOM_JWT, *claims (when not NULL) holds the JWT's parsed claims, from
 * the cache on a hit: the caller need not parse the JWT again, and releases
 * them with jwt_claims_clear. */
phantom_result phantom_exchange_detail(phantom *p, const char *token, size_t token_len,
                                       char **jwt, size_t *jwt_len, jwt_claims *claims,
                                       char *detail, size_t detail_size);

#endif
