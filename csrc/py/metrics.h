#ifndef OAUTH_PROXY_METRICS_H
#define OAUTH_PROXY_METRICS_H

/* Counters behind METRICS=true: what the authorizer decided and what introspection cost, kept in C so
 * the hot path pays a few increments, read and reset once per Lambda invocation (metrics_take).
 * Not synchronised by themselves: every update and the read happen with the GIL held (phantom.c takes
 * the time around the transfer, when the GIL is released, but records it after taking the GIL back). */

#include <stddef.h>
#include <stdint.h>

#include "python_api.h"

/* Distinct denial reasons counted between two reads; the contract has twelve. */
#define METRICS_MAX_REASONS 32
/* A reason code is at most 64 characters (deny() refuses longer ones of the caller's). */
#define METRICS_MAX_REASON_LEN 64
/* Latency samples kept between two reads: EMF takes at most 100 values per metric. */
#define METRICS_MAX_SAMPLES 100

typedef struct {
    uint64_t allowed;
    struct {
        /* A copy: deny(event, reason) passes the caller's str, which may be gone by the next read. */
        char reason[METRICS_MAX_REASON_LEN + 1];
        uint64_t count;
    } denied[METRICS_MAX_REASONS];
    size_t reason_count;
    uint64_t introspection_calls;
    uint64_t cache_hits;
    uint64_t cache_misses;
    double latency_ms[METRICS_MAX_SAMPLES];
    size_t latency_count;
} authorizer_metrics;

void metrics_denied(authorizer_metrics *m, const char *reason);
/* One transfer to the introspection endpoint that took elapsed_ms. */
void metrics_introspected(authorizer_metrics *m, double elapsed_ms);

/* The counters as a dict {"allowed": int, "denied": {reason: int}, "introspection_calls": int,
 * "introspection_latency_ms": [float], "cache_hits": int, "cache_misses": int}, then zeroed. */
PyObject *metrics_take(authorizer_metrics *m);

#endif
