#include "identity.h"

#include <stdlib.h>
#include <string.h>

#include "jwt_claims.h"
#include "module_state.h"

typedef struct {
    PyObject_HEAD identity_fields f;
    char *scope; /* the `scope` claim, UTF-8; NULL when absent */
    size_t scope_len;
    PyObject *scopes; /* frozenset, made on first access */
    PyObject *claims; /* read-only mapping, made on first access */
} Identity;

PyObject *identity_new(const identity_fields *fields, char *scope, size_t scope_len) {
    PyTypeObject *type = (PyTypeObject *)g.identity_type;
    allocfunc alloc = (allocfunc)PyType_GetSlot(type, Py_tp_alloc);
    Identity *self = (Identity *)alloc(type, 0);
    if (self == NULL) {
        free(scope);
        return NULL;
    }
    self->f = *fields;
    Py_INCREF(self->f.token);
    Py_INCREF(self->f.principal);
    Py_INCREF(self->f.source);
    Py_INCREF(self->f.resource);
    Py_INCREF(self->f.arn);
    self->scope = scope;
    self->scope_len = scope_len;
    return (PyObject *)self;
}

int identity_fields_of(PyObject *obj, identity_fields *out) {
    /* Not subclassable, so the exact type is the only one. */
    if (Py_TYPE(obj) != (PyTypeObject *)g.identity_type) {
        PyErr_SetString(PyExc_TypeError, "identity must be an oauth_proxy.Identity (from authenticate)");
        return -1;
    }
    *out = ((Identity *)obj)->f;
    return 0;
}

static PyObject *Identity_scopes(Identity *self, void *closure) {
    (void)closure;
    if (self->scopes != NULL) {
        Py_INCREF(self->scopes);
        return self->scopes;
    }
    PyObject *words = PyList_New(0);
    if (words == NULL) return NULL;
    const char *p = self->scope, *end = self->scope ? self->scope + self->scope_len : NULL;
    while (p != NULL && p < end) {
        const char *stop = memchr(p, ' ', (size_t)(end - p));
        if (stop == NULL) stop = end;
        if (stop > p) {
            PyObject *word = PyUnicode_DecodeUTF8(p, (Py_ssize_t)(stop - p), "strict");
            int rc = word != NULL ? PyList_Append(words, word) : -1;
            Py_XDECREF(word);
            if (rc < 0) {
                Py_DECREF(words);
                return NULL;
            }
        }
        p = stop + 1;
    }
    PyObject *scopes = PyFrozenSet_New(words);
    Py_DECREF(words);
    if (scopes == NULL) return NULL;
    if (self->scopes == NULL) {
        Py_INCREF(scopes);
        self->scopes = scopes;
    }
    return scopes;
}

/* The JWT payload as Python values, by json.loads in oauth_proxy._claims: the C scanner has already decided
   that the token is a JWT whose payload is a strict JSON object, so both read the same text. */
static PyObject *Identity_claims(Identity *self, void *closure) {
    (void)closure;
    if (self->claims != NULL) {
        Py_INCREF(self->claims);
        return self->claims;
    }
    PyObject *payload = NULL;
    if (self->f.is_jwt) {
        Py_ssize_t len = 0;
        const char *token = PyUnicode_AsUTF8AndSize(self->f.token, &len);
        unsigned char *json = NULL;
        size_t json_len = 0;
        if (token == NULL) return NULL;
        if (jwt_payload(token, (size_t)len, &json, &json_len) != 0) return PyErr_NoMemory(); /* parsed before */
        payload = PyBytes_FromStringAndSize((const char *)json, (Py_ssize_t)json_len);
        free(json);
        if (payload == NULL) return NULL;
    } else {
        Py_INCREF(Py_None);
        payload = Py_None;
    }
    PyObject *module = PyImport_ImportModule("oauth_proxy._claims");
    PyObject *claims = module != NULL ? PyObject_CallMethod(module, "read_payload", "O", payload) : NULL;
    Py_XDECREF(module);
    Py_DECREF(payload);
    if (claims == NULL) return NULL;
    if (self->claims == NULL) {
        Py_INCREF(claims);
        self->claims = claims;
    }
    return claims;
}

static PyObject *Identity_repr(Identity *self) {
    /* Never the token: an Identity may end up in a log line or a traceback. */
    return PyUnicode_FromFormat("Identity(principal=%R, source=%R, resource=%R)", self->f.principal, self->f.source,
                                self->f.resource);
}

static PyObject *Identity_reduce(Identity *self, PyObject *unused) {
    (void)self;
    (void)unused;
    PyErr_SetString(PyExc_TypeError, "an Identity holds a token and is not pickled or copied");
    return NULL;
}

static void Identity_dealloc(Identity *self) {
    PyTypeObject *type = Py_TYPE(self);
    Py_XDECREF(self->f.token);
    Py_XDECREF(self->f.principal);
    Py_XDECREF(self->f.source);
    Py_XDECREF(self->f.resource);
    Py_XDECREF(self->f.arn);
    Py_XDECREF(self->scopes);
    Py_XDECREF(self->claims);
    free(self->scope);
    freefunc tp_free = (freefunc)PyType_GetSlot(type, Py_tp_free);
    tp_free(self);
    Py_DECREF(type);
}

static PyObject *new_ref(PyObject *obj) {
    Py_INCREF(obj);
    return obj;
}

static PyObject *get_token(Identity *self, void *c) {
    (void)c;
    return new_ref(self->f.token);
}
static PyObject *get_principal(Identity *self, void *c) {
    (void)c;
    return new_ref(self->f.principal);
}
static PyObject *get_source(Identity *self, void *c) {
    (void)c;
    return new_ref(self->f.source);
}
static PyObject *get_resource(Identity *self, void *c) {
    (void)c;
    return new_ref(self->f.resource);
}

static PyGetSetDef Identity_getset[] = {
    {"token", (getter)get_token, NULL,
     "The token that goes upstream (the JWT after a phantom exchange), no \"Bearer \".", NULL},
    {"principal", (getter)get_principal, NULL, "The JWT's sub, else a sha256: pseudonym of the token.", NULL},
    {"source", (getter)get_source, NULL, "\"cookie\" or \"bearer\" (ALLOW_TOKEN's Authorization header).", NULL},
    {"resource", (getter)get_resource, NULL,
     "The policy Resource of an allow: the API-wide wildcard, or the request's own ARN with ROUTE_SCOPES.", NULL},
    {"scopes", (getter)Identity_scopes, NULL, "frozenset of the words of the JWT's scope claim.", NULL},
    {"claims", (getter)Identity_claims, NULL,
     "The JWT payload as a read-only mapping (objects read-only mappings, arrays tuples); empty for an opaque token.",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMethodDef Identity_methods[] = {
    {"__reduce__", (PyCFunction)Identity_reduce, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Identity_slots[] = {
    {Py_tp_doc, "Who made a request, as oauth_proxy.OAuthProxy.authenticate found out. Immutable; made only by "
                "authenticate."},
    {Py_tp_dealloc, Identity_dealloc},
    {Py_tp_repr, Identity_repr},
    {Py_tp_getset, Identity_getset},
    {Py_tp_methods, Identity_methods},
    {0, NULL},
};

static PyType_Spec Identity_spec = {
    .name = "oauth_proxy.Identity",
    .basicsize = sizeof(Identity),
    /* No BASETYPE: a subclass could add a __dict__ or setters. IMMUTABLETYPE: nobody replaces the getters. */
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_DISALLOW_INSTANTIATION | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = Identity_slots,
};

PyObject *identity_type_new(PyObject *module) { return PyType_FromModuleAndSpec(module, &Identity_spec, NULL); }
