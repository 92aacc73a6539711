/* The Authorizer type: its slots and method table, and the switches OAuthProxy.__init__ turns on after
   __init__ (phantom tokens, metrics). The methods that answer requests live in answers.c. */
#include "authorizer.h"

#include <stdlib.h>

#include "answers.h"
#include "metrics_take.h"
#include "phantom_glue.h"

static int Authorizer_traverse(Authorizer *self, visitproc visit, void *arg) {
    Py_VISIT(self->on_deny);
    Py_VISIT(Py_TYPE(self));
    return 0;
}

static int Authorizer_clear(Authorizer *self) {
    Py_CLEAR(self->on_deny);
    return 0;
}

static void Authorizer_dealloc(Authorizer *self) {
    PyTypeObject *type = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Authorizer_clear(self);
    authorizer_release_config(self);
    freefunc tp_free = (freefunc)PyType_GetSlot(type, Py_tp_free);
    tp_free(self);
    Py_DECREF(type);
}

/* Called by OAuthProxy.__init__ when USE_PHANTOM_TOKEN is true, after __init__ and before any request, so
   authorize() never sees the field change. libcurl is loaded here, not at import. */
static PyObject *Authorizer_enable_phantom(Authorizer *self, PyObject *args, PyObject *kwargs) {
    static char *keywords[] = {"url",       "client_id",  "client_secret", "timeout_ms", "ca_file",
                               "cache_ttl", "cache_size", "pool_size",     NULL};
    const char *url, *client_id, *client_secret, *ca_file = NULL;
    long timeout_ms, cache_ttl = 300;
    Py_ssize_t cache_size = 1024, pool_size = 4;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "sssl|zlnn:_enable_phantom", keywords, &url, &client_id,
                                     &client_secret, &timeout_ms, &ca_file, &cache_ttl, &cache_size, &pool_size))
        return NULL;
    if (!authorizer_configured(self)) return NULL;
    if (self->phantom != NULL) {
        PyErr_SetString(PyExc_TypeError, "phantom tokens are enabled once; make a new Authorizer instead");
        return NULL;
    }
    /* oauth_proxy.Config validates these settings, with messages that name them. This guard only keeps the C
       side sound when _enable_phantom is called some other way: the sizes become size_t, and the deadline
       arithmetic of the introspection call must stay far from overflow. */
    if (cache_size < 0 || pool_size < 1 || timeout_ms < 1 || timeout_ms > 600000 || cache_ttl < 0 ||
        cache_ttl > 86400) {
        PyErr_SetString(PyExc_ValueError, "_enable_phantom: timeout_ms, cache_ttl, cache_size or pool_size is "
                                          "outside the range oauth_proxy.Config accepts");
        return NULL;
    }
    phantom_config cfg = {url,     client_id, client_secret,      timeout_ms,
                          ca_file, cache_ttl, (size_t)cache_size, (size_t)pool_size};
    char *error = NULL;
    phantom *p = phantom_new(&cfg, &phantom_gil, &error);
    if (p == NULL) {
        /* phantom_new's messages name the setting and never quote a credential. */
        PyErr_SetString(PyExc_ValueError, error != NULL ? error : "phantom tokens could not be set up");
        free(error);
        return NULL;
    }
    self->phantom = p;
    if (self->metrics != NULL) phantom_set_metrics(p, self->metrics);
    Py_RETURN_NONE;
}

/* Called by OAuthProxy.__init__ when METRICS is true, before any request. */
static PyObject *Authorizer_enable_metrics(Authorizer *self, PyObject *unused) {
    (void)unused;
    if (!authorizer_configured(self)) return NULL;
    if (self->metrics == NULL && (self->metrics = calloc(1, sizeof *self->metrics)) == NULL) return PyErr_NoMemory();
    if (self->phantom != NULL) phantom_set_metrics(self->phantom, self->metrics);
    Py_RETURN_NONE;
}

static PyObject *Authorizer_take_metrics(Authorizer *self, PyObject *unused) {
    (void)unused;
    if (self->metrics == NULL) Py_RETURN_NONE;
    return metrics_take(self->metrics);
}

static PyMethodDef Authorizer_methods[] = {
    {"authorize", (PyCFunction)answer_authorize, METH_O,
     "authorize(event) -> dict\n\nThe Lambda authorizer response for an API Gateway event; raises "
     "Unauthorized for a 401."},
    {"authenticate", (PyCFunction)answer_authenticate, METH_O,
     "authenticate(event) -> Identity\n\nSteps 1 to 6 of the decision without a response: the Identity of an "
     "allowed request; raises Forbidden (403), Unauthorized (401) or IntrospectionError (500), each denial "
     "logged as by authorize."},
    {"allow", (PyCFunction)(void (*)(void))answer_allow, METH_FASTCALL | METH_KEYWORDS,
     "allow(event, identity, context=None) -> dict\n\nThe allow response for an Identity, in the event's "
     "format. ValueError for an Identity that another proxy made, or made for another request (another method "
     "or route ARN). `context` adds entries with str keys (not a subclass) and str, int, float or bool values "
     "(TypeError otherwise; ValueError for \"token\")."},
    {"deny", (PyCFunction)(void (*)(void))answer_deny, METH_FASTCALL | METH_KEYWORDS,
     "deny(event, reason=None) -> dict\n\nThe 403 response in the event's format. With a reason code, logs a "
     "denial line as authorize does; without one, logs nothing (for a Forbidden authenticate has logged)."},
    {"_enable_phantom", (PyCFunction)(void (*)(void))Authorizer_enable_phantom, METH_VARARGS | METH_KEYWORDS,
     "_enable_phantom(url, client_id, client_secret, timeout_ms, ca_file=None, cache_ttl=300, cache_size=1024, "
     "pool_size=4)"
     "\n\nTurns on the phantom token exchange (step 5 of the decision); ValueError when libcurl cannot be loaded "
     "or a setting is unusable."},
    {"_enable_metrics", (PyCFunction)Authorizer_enable_metrics, METH_NOARGS,
     "_enable_metrics()\n\nStarts counting decisions, introspection calls and cache use (METRICS=true)."},
    {"_take_metrics", (PyCFunction)Authorizer_take_metrics, METH_NOARGS,
     "_take_metrics() -> dict | None\n\nThe counts since the last call, then zeroed; None unless metrics are on."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Authorizer_slots[] = {
    {Py_tp_doc, "The cookie authorizer, configured once (see oauth_proxy.OAuthProxy)."},
    {Py_tp_new, PyType_GenericNew},
    {Py_tp_init, authorizer_configure},
    {Py_tp_dealloc, Authorizer_dealloc},
    {Py_tp_traverse, Authorizer_traverse},
    {Py_tp_clear, Authorizer_clear},
    {Py_tp_methods, Authorizer_methods},
    {0, NULL},
};

static PyType_Spec Authorizer_spec = {
    .name = "oauth_proxy._core.Authorizer",
    .basicsize = sizeof(Authorizer),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = Authorizer_slots,
};

PyObject *authorizer_type_new(PyObject *module) { return PyType_FromModuleAndSpec(module, &Authorizer_spec, NULL); }
