#ifndef OAUTH_PROXY_INTROSPECT_H
#define OAUTH_PROXY_INTROSPECT_H

/* RFC 7662 token introspection asking for a JWT (the phantom token pattern): the call, over a pool of
 * kept-alive connections (connection_pool.h), its answer read by introspect_answer.h.
 *
 * Convention of this file: introspector_new returns NULL on failure with *error set; introspector_call
 * returns the answer as an introspect_status, its outputs set only as that status says. */

#include <stddef.h>

#include "curl_loader.h"
#include "introspect_answer.h"

typedef struct introspector introspector;

/* Largest response body accepted; a larger one is a failure. */
#define INTROSPECT_MAX_BODY (64 * 1024)

/* Most connections one introspector keeps (INTROSPECTION_POOL_SIZE). */
#define INTROSPECT_MAX_POOL 64

/* Nothing is sent yet. url must be http:// or https://; ca_file NULL means the system trust store.
 * pool_size (1 to INTROSPECT_MAX_POOL) bounds the connections, and so the transfers running at once; one is
 * made now, the others when calls overlap. Returns NULL with *error set to a malloc'ed message that contains
 * no secret (error may be left NULL if even that allocation fails). */
introspector *introspector_new(const curl_api *api, const char *url, const char *client_id, const char *client_secret,
                               long timeout_ms, const char *ca_file, size_t pool_size, char **error);

/* No call may be running. */
void introspector_free(introspector *in);

/* One introspection call; blocks for at most about timeout_ms, time spent waiting for a free connection
 * included. Safe to call from several threads: each transfer has a pooled connection to itself. On
 * INTROSPECT_JWT, *jwt is malloc'ed, NUL-terminated and owned by the caller. On INTROSPECT_FAILED, detail
 * (when not NULL) receives a short reason that never contains the token, the client credentials or the
 * response body: an HTTP status or a curl error category. */
introspect_status introspector_call(introspector *in, const char *token, size_t token_len, char **jwt, size_t *jwt_len,
                                    char *detail, size_t detail_size);

#endif
