#ifndef OAUTH_PROXY_REASONS_H
#define OAUTH_PROXY_REASONS_H

/* Every reason the authorizer can give for a denial, with the HTTP status API Gateway then answers: the one
   place that pairs a reason code with its status. The decision names an entry (REASON(CSRF_MISMATCH)), the
   binding turns the status into its answer (403 a Deny policy, 401 Unauthorized, 500 IntrospectionError), and
   the denial log, the metrics and oauth_proxy.REASONS all read the code from here.

   A new reason is one row of REASON_CATALOGUE: X(NAME, "code", status). Codes are lower-case words joined by
   '_', at most METRICS_MAX_REASON_LEN characters (they become a metrics dimension).
   Constant data, pure C: nothing here allocates or fails. */

#define REASON_CATALOGUE(X)                              \
    X(UNTRUSTED_ORIGIN, "untrusted_origin", 403)         \
    X(MISSING_ORIGIN, "missing_origin", 403)             \
    X(CSRF_COOKIE_MISSING, "csrf_cookie_missing", 403)   \
    X(CSRF_HEADER_MISSING, "csrf_header_missing", 403)   \
    X(CSRF_MISMATCH, "csrf_mismatch", 403)               \
    X(CSRF_DECRYPT_FAILED, "csrf_decrypt_failed", 403)   \
    X(AT_COOKIE_MISSING, "at_cookie_missing", 401)       \
    X(AT_DECRYPT_FAILED, "at_decrypt_failed", 401)       \
    X(TOKEN_INACTIVE, "token_inactive", 401)             \
    X(INTROSPECTION_FAILED, "introspection_failed", 500) \
    X(INSUFFICIENT_SCOPE, "insufficient_scope", 403)     \
    X(BAD_EVENT, "bad_event", 403)

typedef struct {
    const char *code; /* the reason code of the log line, Forbidden/Unauthorized.reason and REASONS */
    int status;       /* 401, 403 or 500 */
} reason;

enum reason_id {
#define REASON_ID(name, code, status) REASON_##name,
    REASON_CATALOGUE(REASON_ID)
#undef REASON_ID
        REASON_COUNT
};

/* Indexed by enum reason_id. */
extern const reason reasons[REASON_COUNT];

#define REASON(name) (&reasons[REASON_##name])

#endif
