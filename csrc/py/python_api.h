#ifndef OAUTH_PROXY_PYTHON_API_H
#define OAUTH_PROXY_PYTHON_API_H

/* One place that pulls in Python.h, so every file sees the same limited-API setting from setup.py. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#endif
