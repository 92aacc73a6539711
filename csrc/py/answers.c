#include "answers.h"

#include <stdlib.h>
#include <string.h>

#include "context_values.h"
#include "decision.h"
#include "identity.h"
#include "module_state.h"
#include "response.h"

/* The log line and the metrics of one denial. `code` is the reason code as str, `code_utf8` the same as C text;
   detail, when not NULL, is passed to on_deny as a fourth argument: a short text that never holds a secret.
   Never fails: a broken log must not change the outcome. */
static void report_denial(Authorizer *self, PyObject *code, const char *code_utf8, int status, PyObject *event,
                          const char *detail) {
    if (self->metrics != NULL) metrics_denied(self->metrics, code_utf8);
    PyObject *result = detail != NULL ? PyObject_CallFunction(self->on_deny, "OiOs", code, status, event, detail)
                                      : PyObject_CallFunction(self->on_deny, "OiO", code, status, event);
    if (result == NULL) PyErr_WriteUnraisable(self->on_deny);
    Py_XDECREF(result);
}

static PyObject *code_of(const reason *why) { return g.reason_code[why - reasons]; }

/* Raises `type` (Unauthorized, Forbidden) with its fixed message (API Gateway answers 401 only when Lambda
   reports exactly "Unauthorized") and the reason code as .reason; .status is a class attribute. Always NULL. */
static PyObject *raise_denial(PyObject *type, PyObject *message, const reason *why) {
    PyObject *error = PyObject_CallFunctionObjArgs(type, message, NULL);
    if (error == NULL) return NULL;
    if (PyObject_SetAttr(error, g.s_reason, code_of(why)) == 0) PyErr_SetObject(type, error);
    Py_DECREF(error);
    return NULL;
}

/* Reports a denial and raises what its status calls for: 1 for a 403, which each caller answers its own way;
   0 with Unauthorized (401) or IntrospectionError (500) set. */
static int answer_denial(Authorizer *self, const decision *d, PyObject *event) {
    const reason *why = d->denial;
    if (why->status == 500) {
        const char *detail = d->detail[0] ? d->detail : "no usable answer";
        report_denial(self, code_of(why), why->code, why->status, event, detail);
        PyErr_Format(g.introspection_error, "token introspection failed: %s", detail);
        return 0;
    }
    report_denial(self, code_of(why), why->code, why->status, event, NULL);
    if (why->status == 403) return 1;
    raise_denial(g.unauthorized, g.s_unauthorized, why);
    return 0;
}

/* Copies the CONTEXT_CLAIMS members of a JWT into the response's context: from `found` when the decision's
   scan found them, else by scanning the token's payload now (a phantom cache hit, allow()). */
static int add_context_claims(Authorizer *self, PyObject *response, const char *token, size_t token_len,
                              const json_member *found) {
    unsigned char *json = NULL;
    json_member *scanned = NULL;
    if (found == NULL) {
        size_t json_len = 0;
        scanned = calloc(self->claim_count, sizeof *scanned);
        if (scanned == NULL || jwt_payload(token, token_len, &json, &json_len) != 0) {
            free(scanned);
            PyErr_NoMemory(); /* only called for a token already read as a JWT */
            return -1;
        }
        json_wanted want = {self->claim_names, self->claim_name_lens, self->claim_count, scanned};
        if (json_members(json, json_len, &want) != 0) memset(scanned, 0, self->claim_count * sizeof *scanned);
        found = scanned;
    }
    PyObject *context = PyDict_GetItemWithError(response, g.s_context);
    int rc = context != NULL ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < self->claim_count; i++) {
        PyObject *value = context_value_of_claim(&found[i]);
        if (value == NULL) {
            if (PyErr_Occurred()) rc = -1;
            continue;
        }
        rc = PyDict_SetItem(context, PyTuple_GetItem(self->context_claims, (Py_ssize_t)i), value);
        Py_DECREF(value);
    }
    free(scanned);
    free(json);
    return rc;
}

/* The allow response with the CONTEXT_CLAIMS of a JWT; `found` as for add_context_claims. */
static PyObject *allow_answer(Authorizer *self, event_format format, PyObject *principal, PyObject *resource,
                              const char *token, size_t token_len, int is_jwt, const json_member *found) {
    PyObject *result = allow_response(authorizer_simple_for(self, format), principal, resource, token, token_len);
    if (result != NULL && self->claim_count > 0 && is_jwt &&
        add_context_claims(self, result, token, token_len, found) < 0)
        Py_CLEAR(result);
    return result;
}

/* METRICS: one allow answer handed to API Gateway, by authorize or by the allow() builder. Counted once the
   answer is complete, so an allow() that then fails (a bad context value) counts nothing. */
static void count_allow(Authorizer *self, const PyObject *result) {
    if (result != NULL && self->metrics != NULL) self->metrics->allowed++;
}

PyObject *answer_authorize(Authorizer *self, PyObject *event) {
    if (!authorizer_configured(self)) return NULL;
    decision d;
    PyObject *result = NULL;
    decision_outcome outcome = decide(self, event, &d);
    if (outcome == DECIDED_DENY) {
        if (answer_denial(self, &d, event))
            result = deny_response(authorizer_simple_for(self, d.req.format), d.resource);
    } else if (outcome == DECIDED_ALLOW) {
        PyObject *principal = decision_principal(&d);
        if (principal != NULL) {
            result = allow_answer(self, d.req.format, principal, d.resource, d.token, d.token_len, d.is_jwt,
                                  d.payload != NULL ? d.found : NULL);
            count_allow(self, result);
            Py_DECREF(principal);
        }
    }
    decision_release(&d);
    return result;
}

PyObject *answer_authenticate(Authorizer *self, PyObject *event) {
    if (!authorizer_configured(self)) return NULL;
    decision d;
    PyObject *result = NULL;
    decision_outcome outcome = decide(self, event, &d);
    if (outcome == DECIDED_DENY) {
        if (answer_denial(self, &d, event)) raise_denial(g.forbidden, g.s_forbidden, d.denial);
    } else if (outcome == DECIDED_ALLOW) {
        PyObject *principal = decision_principal(&d);
        PyObject *token = principal ? PyUnicode_DecodeUTF8(d.token, (Py_ssize_t)d.token_len, "strict") : NULL;
        if (token != NULL) {
            identity_fields fields = {
                token, principal, d.bearer ? g.s_bearer : g.s_cookie, d.resource, d.req.arn, self->serial, d.is_jwt};
            char *scope = d.claims.scope; /* handed to the Identity, which makes its scopes from it on demand */
            d.claims.scope = NULL;
            result = identity_new(&fields, scope, d.claims.scope_len);
        }
        Py_XDECREF(token);
        Py_XDECREF(principal);
    }
    decision_release(&d);
    return result;
}

/* Positional-or-keyword arguments of a METH_FASTCALL | METH_KEYWORDS method; `required` leading ones. */
static int parse_arguments(const char *function, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames,
                           const char *const *names, Py_ssize_t count, Py_ssize_t required, PyObject **out) {
    for (Py_ssize_t i = 0; i < count; i++) out[i] = NULL;
    if (nargs > count) {
        PyErr_Format(PyExc_TypeError, "%s() takes at most %zd positional arguments", function, count);
        return -1;
    }
    for (Py_ssize_t i = 0; i < nargs; i++) out[i] = args[i];
    Py_ssize_t nkw = kwnames != NULL ? PyTuple_Size(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; k++) {
        PyObject *key = PyTuple_GetItem(kwnames, k);
        Py_ssize_t i = 0;
        while (i < count && PyUnicode_CompareWithASCIIString(key, names[i]) != 0) i++;
        if (i == count) {
            PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument %R", function, key);
            return -1;
        }
        if (out[i] != NULL) {
            PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", function, names[i]);
            return -1;
        }
        out[i] = args[nargs + k];
    }
    for (Py_ssize_t i = 0; i < required; i++) {
        if (out[i] == NULL) {
            PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", function, names[i]);
            return -1;
        }
    }
    return 0;
}

/* An Identity answers only the request it was made for, and only through the authorizer that made it: another
   instance may trust other origins or keys, and another request may need other scopes (ROUTE_SCOPES), so
   handing the Identity on would skip checks. */
static int identity_fits(const Authorizer *self, const identity_fields *identity, PyObject *arn) {
    if (identity->producer != self->serial) {
        PyErr_SetString(PyExc_ValueError, "identity was made by another OAuthProxy; allow() takes only an Identity "
                                          "that this proxy's authenticate() returned");
        return -1;
    }
    /* Both are str (the event reader takes only str ARNs): the comparison runs no Python code. */
    if (arn == NULL || (arn != identity->arn && PyUnicode_Compare(arn, identity->arn) != 0)) {
        PyErr_SetString(PyExc_ValueError, "identity was made for another request (the event's method or route ARN "
                                          "differs); authenticate this event first");
        return -1;
    }
    return 0;
}

PyObject *answer_allow(Authorizer *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    static const char *const names[] = {"event", "identity", "context"};
    PyObject *arg[3];
    identity_fields identity;
    if (!authorizer_configured(self) || parse_arguments("allow", args, nargs, kwnames, names, 3, 2, arg) < 0 ||
        identity_fields_of(arg[1], &identity) < 0)
        return NULL;
    event_format format;
    PyObject *arn;
    if (event_format_and_arn(arg[0], &format, &arn) < 0) return NULL;
    int fits = identity_fits(self, &identity, arn);
    Py_XDECREF(arn); /* the Identity carries R, made from this ARN */
    if (fits < 0) return NULL;
    Py_ssize_t token_len = 0;
    const char *token = PyUnicode_AsUTF8AndSize(identity.token, &token_len);
    if (token == NULL) return NULL;
    PyObject *result = allow_answer(self, format, identity.principal, identity.resource, token, (size_t)token_len,
                                    identity.is_jwt, NULL);
    if (result != NULL && arg[2] != NULL && arg[2] != Py_None && context_add_entries(result, arg[2]) < 0)
        Py_CLEAR(result);
    count_allow(self, result);
    return result;
}

/* A reason code of the caller's own, for the denial log: short, and unlike a token or a secret. */
static int valid_reason(const char *s, Py_ssize_t n) {
    if (n < 1 || n > METRICS_MAX_REASON_LEN) return 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
              c == '.' || c == ':'))
            return 0;
    }
    return 1;
}

PyObject *answer_deny(Authorizer *self, PyObject *const *args, Py_ssize_t nargs, PyObject *kwnames) {
    static const char *const names[] = {"event", "reason"};
    PyObject *arg[2];
    if (!authorizer_configured(self) || parse_arguments("deny", args, nargs, kwnames, names, 2, 1, arg) < 0)
        return NULL;
    /* No reason: the answer to a Forbidden that authenticate() has already logged. */
    const char *reason_utf8 = NULL;
    Py_ssize_t reason_len = 0;
    if (arg[1] != NULL && arg[1] != Py_None) {
        reason_utf8 = PyUnicode_Check(arg[1]) ? PyUnicode_AsUTF8AndSize(arg[1], &reason_len) : NULL;
        if (reason_utf8 == NULL || !valid_reason(reason_utf8, reason_len)) {
            PyErr_Clear();
            PyErr_SetString(PyExc_ValueError,
                            "reason must be a reason code: 1 to 64 letters, digits, '_', '-', '.' or ':'");
            return NULL;
        }
    }
    event_format format;
    PyObject *arn, *resource = NULL;
    if (event_format_and_arn(arg[0], &format, &arn) < 0) return NULL;
    if (arn != NULL) {
        resource = policy_resource(self, arn);
        Py_DECREF(arn);
        if (resource == NULL && PyErr_Occurred()) return NULL;
    }
    if (resource == NULL) {
        resource = g.s_any_resource;
        Py_INCREF(resource);
    }
    if (reason_utf8 != NULL) {
        /* A plain str copy for the log: the caller's object may be a str subclass with methods of its own. */
        PyObject *code = PyUnicode_FromStringAndSize(reason_utf8, reason_len);
        if (code == NULL) {
            Py_DECREF(resource);
            return NULL;
        }
        report_denial(self, code, reason_utf8, 403, arg[0], NULL);
        Py_DECREF(code);
    }
    PyObject *result = deny_response(authorizer_simple_for(self, format), resource);
    Py_DECREF(resource);
    return result;
}
