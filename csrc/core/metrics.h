#ifndef OAUTH_PROXY_METRICS_H
#define OAUTH_PROXY_METRICS_H

/* Counters behind METRICS=true: what the authorizer decided and what introspection cost, kept in C so the hot
   path pays a few increments; the binding reads them into a dict and resets them once per Lambda invocation
   (metrics_take in csrc/py/metrics_take.h).
   Pure C, no allocation: nothing here fails. Not synchronised by themselves: the binding makes every update
   and the read with the GIL held (the introspection time is taken while the GIL is released, and recorded
   after it is taken back). */

#include <stddef.h>
#include <stdint.h>

/* Distinct denial reasons counted between two reads: the catalogue's codes and a caller's own codes passed to
   deny(). Past this many, further reasons are counted together under METRICS_OTHER_REASON. */
#define METRICS_MAX_REASONS 32
#define METRICS_OTHER_REASON "other"
/* A reason code is at most 64 characters (deny() refuses longer ones); a longer one counts under "other". */
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
    uint64_t other_denied; /* denials whose reason found no slot; with denied[], every denial is counted */
    uint64_t introspection_calls;
    uint64_t cache_hits;
    uint64_t cache_misses;
    double latency_ms[METRICS_MAX_SAMPLES];
    size_t latency_count;
} authorizer_metrics;

/* One denial for `reason` (a NUL-terminated code). */
void metrics_denied(authorizer_metrics *m, const char *reason);
/* One transfer to the introspection endpoint that took elapsed_ms. */
void metrics_introspected(authorizer_metrics *m, double elapsed_ms);
/* Back to zero, after a read. */
void metrics_reset(authorizer_metrics *m);

#endif
