#include "metrics.h"

#include <string.h>

void metrics_denied(authorizer_metrics *m, const char *reason) {
    size_t len = strnlen(reason, METRICS_MAX_REASON_LEN + 1);
    if (len <= METRICS_MAX_REASON_LEN) {
        for (size_t i = 0; i < m->reason_count; i++) {
            if (strcmp(m->denied[i].reason, reason) == 0) {
                m->denied[i].count++;
                return;
            }
        }
        if (m->reason_count < METRICS_MAX_REASONS) {
            memcpy(m->denied[m->reason_count].reason, reason, len + 1);
            m->denied[m->reason_count].count = 1;
            m->reason_count++;
            return;
        }
    }
    /* A bounded number of dimensions (each one a CloudWatch metric), yet Denied stays the total. */
    m->other_denied++;
}

void metrics_introspected(authorizer_metrics *m, double elapsed_ms) {
    m->introspection_calls++;
    /* Past the hundredth call between two reads the calls are still counted; their times are not. */
    if (m->latency_count < METRICS_MAX_SAMPLES) m->latency_ms[m->latency_count++] = elapsed_ms;
}

void metrics_reset(authorizer_metrics *m) { memset(m, 0, sizeof *m); }
