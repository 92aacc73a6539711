#ifndef OAUTH_PROXY_PHANTOM_GLUE_H
#define OAUTH_PROXY_PHANTOM_GLUE_H

/* What the pure-C phantom exchange (csrc/core/phantom.h) needs from CPython: the GIL released while a
 * transfer waits on the network, so other threads' requests (cache hits, other transfers) go on meanwhile.
 * Pass &phantom_gil to phantom_new. Cannot fail. */

#include "phantom.h"

extern const phantom_lock_hooks phantom_gil;

#endif
