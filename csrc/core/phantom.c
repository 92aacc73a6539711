#include "phantom.h"

#include <openssl/crypto.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "curl_loader.h"
#include "introspect.h"
#include "jwt_claims.h"
#include "token_cache.h"

struct phantom {
    introspector *introspector;
    token_cache *cache;
    authorizer_metrics *metrics; /* NULL unless METRICS=true */
    phantom_lock_hooks lock;     /* both NULL: no lock to give up */
};

/* Far above any sensible setting; keeps a typo from reserving gigabytes. */
#define MAX_CACHE_SIZE ((size_t)10 * 1000 * 1000)

static char *msg(const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return strdup(buf);
}

phantom *phantom_new(const phantom_config *cfg, const phantom_lock_hooks *lock, char **error) {
    *error = NULL;
    if (cfg->cache_ttl_s < 0) {
        *error = msg("INTROSPECTION_CACHE_TTL must not be negative");
        return NULL;
    }
    if (cfg->cache_size > MAX_CACHE_SIZE) {
        *error = msg("INTROSPECTION_CACHE_SIZE must be at most %zu", MAX_CACHE_SIZE);
        return NULL;
    }
    if (cfg->ca_file != NULL) {
        /* Checked now: otherwise every request would fail with a TLS error. */
        FILE *f = fopen(cfg->ca_file, "r");
        if (f == NULL) {
            *error = msg("INTROSPECTION_CA_FILE %.300s cannot be read: %s", cfg->ca_file, strerror(errno));
            return NULL;
        }
        fclose(f);
    }
    const curl_api *api = curl_api_get(error);
    if (api == NULL) {
        if (*error == NULL) *error = msg("cannot load libcurl");
        return NULL;
    }
    phantom *p = calloc(1, sizeof *p);
    if (p == NULL) {
        *error = msg("out of memory");
        return NULL;
    }
    if (lock != NULL && lock->release != NULL && lock->reacquire != NULL) p->lock = *lock;
    p->introspector = introspector_new(api, cfg->url, cfg->client_id, cfg->client_secret, cfg->timeout_ms, cfg->ca_file,
                                       cfg->pool_size, error);
    if (p->introspector == NULL) {
        if (*error == NULL) *error = msg("cannot set up introspection");
        phantom_free(p);
        return NULL;
    }
    p->cache = token_cache_new(cfg->cache_size, cfg->cache_ttl_s);
    if (p->cache == NULL) {
        *error = msg("out of memory");
        phantom_free(p);
        return NULL;
    }
    return p;
}

void phantom_free(phantom *p) {
    if (p == NULL) return;
    introspector_free(p->introspector);
    token_cache_free(p->cache);
    free(p);
}

void phantom_set_metrics(phantom *p, authorizer_metrics *m) { p->metrics = m; }

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

phantom_result phantom_exchange_detail(phantom *p, const char *token, size_t token_len, char **jwt, size_t *jwt_len,
                                       jwt_claims *out_claims, char *detail, size_t detail_size) {
    *jwt = NULL;
    *jwt_len = 0;
    if (out_claims != NULL) memset(out_claims, 0, sizeof *out_claims);
    if (detail != NULL && detail_size > 0) detail[0] = '\0';
    authorizer_metrics *metrics = p->metrics;
    if (token_cache_get(p->cache, token, token_len, jwt, jwt_len, out_claims)) {
        if (metrics != NULL) metrics->cache_hits++;
        return PHANTOM_JWT;
    }

    introspect_status st;
    double started = metrics != NULL ? now_ms() : 0;
    void *held = p->lock.release != NULL ? p->lock.release() : NULL;
    st = introspector_call(p->introspector, token, token_len, jwt, jwt_len, detail, detail_size);
    if (p->lock.reacquire != NULL) p->lock.reacquire(held);
    if (metrics != NULL) {
        /* Back under the caller's lock: the counters are shared with every other thread's calls. */
        metrics->cache_misses++;
        metrics_introspected(metrics, now_ms() - started);
    }

    if (st == INTROSPECT_INACTIVE) return PHANTOM_INACTIVE;
    if (st != INTROSPECT_JWT) return PHANTOM_FAILED;

    jwt_claims claims;
    if (jwt_claims_parse(*jwt, *jwt_len, &claims) != 0) {
        OPENSSL_cleanse(*jwt, *jwt_len);
        free(*jwt);
        *jwt = NULL;
        *jwt_len = 0;
        if (detail != NULL && detail_size > 0) snprintf(detail, detail_size, "HTTP 200 with a body that is not a JWT");
        return PHANTOM_FAILED;
    }
    token_cache_put(p->cache, token, token_len, *jwt, *jwt_len, &claims);
    if (out_claims != NULL)
        *out_claims = claims; /* handed over */
    else
        jwt_claims_clear(&claims);
    return PHANTOM_JWT;
}
