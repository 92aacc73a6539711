#ifndef OAUTH_PROXY_CONNECTION_POOL_H
#define OAUTH_PROXY_CONNECTION_POOL_H

/* Kept-alive connections to one authorization server endpoint, each a configured libcurl easy handle used by
 * one transfer at a time. Up to `size` of them: the first is made by connection_pool_open, the others only
 * when every existing one is busy, so a process that never overlaps two calls (Lambda: one request per
 * environment) holds one connection. Idle ones are a stack: the most recently used, whose TCP/TLS
 * connection is the likeliest to be alive, goes first. Waiters give up at their own deadline (a condition
 * variable on CLOCK_MONOTONIC), so a hung endpoint cannot make queued calls last longer than their timeout.
 *
 * A connection that holds bytes nobody asked for once an answer is complete (an endpoint that sent a second
 * response after the first, or anything else unread) is closed, never used again: the next request on it
 * would read those bytes as its own answer, which could be another caller's token.
 *
 * Convention of this file: connection_pool_open returns 0 or -1 with *error set (a malloc'ed message naming
 * no secret, when error is not NULL); connection_pool_acquire returns a connection or NULL; the rest cannot
 * fail. */

#include <pthread.h>
#include <stddef.h>
#include <time.h>

#include "curl_handle.h"
#include "curl_loader.h"

typedef struct {
    CURL *curl;
    response_body body; /* cap: the pool's max_body */
} pooled_connection;

typedef struct {
    const curl_api *api;
    curl_handle_settings settings; /* its strings and headers belong to the pool's owner */
    size_t max_body;
    pthread_mutex_t lock;
    pthread_cond_t idle_cond;
    int sync_ready; /* lock and idle_cond were initialised */
    size_t size;
    size_t created;           /* connections made or being made; guarded by lock */
    size_t idle_count;        /* guarded by lock */
    pooled_connection **idle; /* size slots; guarded by lock */
} connection_pool;

/* Sets pool up and makes its first connection, so an unusable setting fails at configuration and not on a
 * request. On failure pool needs connection_pool_close all the same. */
int connection_pool_open(connection_pool *pool, const curl_api *api, const curl_handle_settings *settings,
                         size_t max_body, size_t size, char **error);

/* Closes every connection. No transfer may be running: every connection made must have been released. */
void connection_pool_close(connection_pool *pool);

/* A connection for this thread's transfer, its body emptied: an idle one, a new one while the pool is not
 * full, or the first one released before the deadline. NULL when the deadline passed first, or a new
 * connection could not be made (*new_failed set). */
pooled_connection *connection_pool_acquire(connection_pool *pool, const struct timespec *deadline, int *new_failed);

/* Gives conn back after a transfer. Its body is wiped (an answer may hold a credential). Where bytes wait
 * unread on its connection, it is closed and its slot freed for a new one. */
void connection_pool_release(connection_pool *pool, pooled_connection *conn);

/* The CLOCK_MONOTONIC time ms milliseconds from now, and the milliseconds left until t (0 once passed). */
void deadline_after(struct timespec *t, long ms);
long ms_until(const struct timespec *t);

#endif
