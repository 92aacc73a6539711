#ifndef OAUTH_PROXY_MODULE_STATE_H
#define OAUTH_PROXY_MODULE_STATE_H

#include "python_api.h"
#include "reasons.h"

/* Objects made once at import and shared by every call: exception types and interned strings, so the hot
   path neither allocates keys nor hashes them again. */
typedef struct {
    PyObject *unauthorized; /* oauth_proxy.Unauthorized */
    PyObject *introspection_error;
    PyObject *cookie_decryption_error;
    PyObject *forbidden;     /* oauth_proxy.Forbidden */
    PyObject *identity_type; /* oauth_proxy.Identity */
    /* event keys */
    PyObject *s_version, *s_v2, *s_method_arn, *s_route_arn, *s_http_method, *s_headers, *s_multi_value_headers,
        *s_cookies, *s_request_context, *s_http, *s_method, *s_event_resource, *s_route_key;
    /* response keys and constant values */
    PyObject *s_principal_id, *s_policy_document, *s_version_key, *s_policy_version, *s_statement, *s_action, *s_invoke,
        *s_effect, *s_allow, *s_deny, *s_resource, *s_context, *s_token, *s_is_authorized, *s_anonymous,
        *s_any_resource;
    /* Identity and exceptions */
    PyObject *s_cookie, *s_bearer, *s_reason, *s_unauthorized, *s_forbidden;
    /* The catalogue's codes as str, indexed by enum reason_id: what the denial log and .reason receive. */
    PyObject *reason_code[REASON_COUNT];
} module_state;

extern module_state g;

/* 0, or -1 with a Python exception set. */
int module_state_init(void);

#endif
