#ifndef OAUTH_PROXY_AUTHORIZER_H
#define OAUTH_PROXY_AUTHORIZER_H

#include "python_api.h"

/* Creates the Authorizer type (a heap type, subclassable: oauth_proxy.OAuthProxy extends it). */
PyObject *authorizer_type_new(PyObject *module);

#endif
