#ifndef OAUTH_PROXY_PHANTOM_H
#define OAUTH_PROXY_PHANTOM_H

/* Phantom token exchange: opaque token -> JWT through RFC 7662 introspection, with an LRU cache in front.
 * Glue between the authorizer, the introspector and the cache. Pure C: the embedding runtime says through
 * phantom_lock_hooks what to release while the network is waited on (CPython: the GIL, csrc/py/phantom_glue.c).
 *
 * Convention of this file: phantom_new returns NULL on failure with *error set to a malloc'ed message that is
 * safe to show (no secret); phantom_exchange_detail returns its outcome as a phantom_result. */

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

/* Called around each network transfer (never around a cache hit): release gives up whatever lock the caller
 * holds, so that other threads run while this one waits on the network; its result goes to reacquire, which
 * takes the lock back. */
typedef struct {
    void *(*release)(void);
    void (*reacquire)(void *state);
} phantom_lock_hooks;

/* Loads libcurl on first use. lock NULL: the caller holds no lock to give up. *lock is copied. */
phantom *phantom_new(const phantom_config *cfg, const phantom_lock_hooks *lock, char **error);
void phantom_free(phantom *p);

/* From now on count cache hits and misses and time each transfer into m (NULL: stop). m belongs to the
 * caller and must outlive p's use of it; it is updated only with the caller's lock held (never between
 * release and reacquire). */
void phantom_set_metrics(phantom *p, authorizer_metrics *m);

typedef enum { PHANTOM_JWT, PHANTOM_INACTIVE, PHANTOM_FAILED } phantom_result;

/* Called with the caller's lock held. On PHANTOM_JWT *jwt is malloc'ed, NUL-terminated, owned by the caller,
 * and *claims (when not NULL) holds the JWT's parsed claims, from the cache on a hit: the caller need not
 * parse the JWT again, and releases them with jwt_claims_clear. On PHANTOM_FAILED a short reason goes to
 * detail (when not NULL): an HTTP status or a transport error category, never a secret or the body. */
phantom_result phantom_exchange_detail(phantom *p, const char *token, size_t token_len, char **jwt, size_t *jwt_len,
                                       jwt_claims *claims, char *detail, size_t detail_size);

#endif
