#ifndef OAUTH_PROXY_METRICS_TAKE_H
#define OAUTH_PROXY_METRICS_TAKE_H

/* The METRICS=true counters (csrc/core/metrics.h) as the dict OAuthProxy._take_metrics returns. */

#include "python_api.h"
#include "metrics.h"

/* {"allowed": int, "denied": {reason: int}, "introspection_calls": int, "introspection_latency_ms": [float],
   "cache_hits": int, "cache_misses": int}, then the counters are zeroed. Denials past METRICS_MAX_REASONS
   distinct reasons appear under "other". A new reference, or NULL with a Python exception set (the counters
   are then kept for the next read). */
PyObject *metrics_take(authorizer_metrics *m);

#endif
