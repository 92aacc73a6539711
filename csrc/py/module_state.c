#include "module_state.h"

module_state g;

static int intern(PyObject **slot, const char *text) {
    *slot = PyUnicode_InternFromString(text);
    return *slot == NULL ? -1 : 0;
}

int module_state_init(void) {
    struct {
        PyObject **slot;
        const char *text;
    } strings[] = {
        {&g.s_version, "version"},
        {&g.s_v2, "2.0"},
        {&g.s_method_arn, "methodArn"},
        {&g.s_route_arn, "routeArn"},
        {&g.s_http_method, "httpMethod"},
        {&g.s_headers, "headers"},
        {&g.s_multi_value_headers, "multiValueHeaders"},
        {&g.s_cookies, "cookies"},
        {&g.s_request_context, "requestContext"},
        {&g.s_http, "http"},
        {&g.s_method, "method"},
        {&g.s_event_resource, "resource"},
        {&g.s_route_key, "routeKey"},
        {&g.s_principal_id, "principalId"},
        {&g.s_policy_document, "policyDocument"},
        {&g.s_version_key, "Version"},
        {&g.s_policy_version, "2012-10-17"},
        {&g.s_statement, "Statement"},
        {&g.s_action, "Action"},
        {&g.s_invoke, "execute-api:Invoke"},
        {&g.s_effect, "Effect"},
        {&g.s_allow, "Allow"},
        {&g.s_deny, "Deny"},
        {&g.s_resource, "Resource"},
        {&g.s_context, "context"},
        {&g.s_token, "token"},
        {&g.s_is_authorized, "isAuthorized"},
        {&g.s_anonymous, "anonymous"},
        {&g.s_any_resource, "*"},
        {&g.s_cookie, "cookie"},
        {&g.s_bearer, "bearer"},
        {&g.s_reason, "reason"},
        {&g.s_unauthorized, "Unauthorized"},
        {&g.s_forbidden, "Forbidden"},
    };
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        if (intern(strings[i].slot, strings[i].text) < 0) return -1;
    for (size_t i = 0; i < REASON_COUNT; i++)
        if (intern(&g.reason_code[i], reasons[i].code) < 0) return -1;
    return 0;
}
