#include "connection_pool.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

static void set_error(char **error, const char *message) {
    if (error != NULL) *error = strdup(message);
}

void deadline_after(struct timespec *t, long ms) {
    clock_gettime(CLOCK_MONOTONIC, t);
    t->tv_sec += ms / 1000;
    t->tv_nsec += (ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

long ms_until(const struct timespec *t) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ms = (long long)(t->tv_sec - now.tv_sec) * 1000 + (t->tv_nsec - now.tv_nsec) / 1000000;
    return ms > 0 ? (long)ms : 0;
}

static void connection_free(const curl_api *api, pooled_connection *conn) {
    if (conn == NULL) return;
    if (conn->curl != NULL) api->easy_cleanup(conn->curl); /* closes its connection */
    if (conn->body.data != NULL) {
        OPENSSL_cleanse(conn->body.data, conn->body.cap + 1);
        free(conn->body.data);
    }
    free(conn);
}

static pooled_connection *connection_new(const connection_pool *pool, char **error) {
    pooled_connection *conn = calloc(1, sizeof *conn);
    if (conn != NULL) {
        conn->body.cap = pool->max_body;
        conn->body.data = malloc(pool->max_body + 1);
    }
    if (conn == NULL || conn->body.data == NULL) {
        set_error(error, "out of memory");
        connection_free(pool->api, conn);
        return NULL;
    }
    conn->curl = pool->api->easy_init();
    if (conn->curl == NULL) {
        set_error(error, "cannot create a libcurl handle");
        connection_free(pool->api, conn);
        return NULL;
    }
    if (curl_handle_configure(pool->api, conn->curl, &pool->settings, &conn->body, error) != 0) {
        connection_free(pool->api, conn);
        return NULL;
    }
    return conn;
}

/* 1 when the connection libcurl keeps for conn has anything waiting to be read, or cannot be asked: it must
 * not carry another request. No kept connection (closed by libcurl or the peer) is clean: the next transfer
 * opens a new one. */
static int has_unread_bytes(const curl_api *api, pooled_connection *conn) {
    curl_socket_t sock = CURL_SOCKET_BAD;
    if (api->easy_getinfo(conn->curl, CURLINFO_ACTIVESOCKET, &sock) != CURLE_OK) return 1;
    if (sock == CURL_SOCKET_BAD) return 0;
    struct pollfd p = {.fd = sock, .events = POLLIN};
    int ready;
    do {
        ready = poll(&p, 1, 0);
    } while (ready < 0 && errno == EINTR);
    return ready != 0; /* readable, hung up, in error, or poll failed */
}

static int init_sync(connection_pool *pool) {
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0) return -1;
    int rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0) rc = pthread_cond_init(&pool->idle_cond, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0) return -1;
    if (pthread_mutex_init(&pool->lock, NULL) != 0) {
        pthread_cond_destroy(&pool->idle_cond);
        return -1;
    }
    pool->sync_ready = 1;
    return 0;
}

int connection_pool_open(connection_pool *pool, const curl_api *api, const curl_handle_settings *settings,
                         size_t max_body, size_t size, char **error) {
    memset(pool, 0, sizeof *pool);
    pool->api = api;
    pool->settings = *settings;
    pool->max_body = max_body;
    pool->size = size;
    if (init_sync(pool) != 0) {
        set_error(error, "cannot create the connection pool's lock");
        return -1;
    }
    pool->idle = calloc(size, sizeof *pool->idle);
    if (pool->idle == NULL) {
        set_error(error, "out of memory");
        return -1;
    }
    pooled_connection *first = connection_new(pool, error);
    if (first == NULL) return -1;
    pool->idle[pool->idle_count++] = first;
    pool->created = 1;
    return 0;
}

void connection_pool_close(connection_pool *pool) {
    if (pool->idle != NULL)
        for (size_t i = 0; i < pool->idle_count; i++) connection_free(pool->api, pool->idle[i]);
    free(pool->idle);
    pool->idle = NULL;
    pool->idle_count = pool->created = 0;
    if (pool->sync_ready) {
        pthread_cond_destroy(&pool->idle_cond);
        pthread_mutex_destroy(&pool->lock);
        pool->sync_ready = 0;
    }
}

/* Gives up the slot of a connection that was closed or never made, so that a waiter may make one. */
static void forget_slot(connection_pool *pool) {
    pthread_mutex_lock(&pool->lock);
    pool->created--;
    pthread_cond_signal(&pool->idle_cond);
    pthread_mutex_unlock(&pool->lock);
}

pooled_connection *connection_pool_acquire(connection_pool *pool, const struct timespec *deadline, int *new_failed) {
    *new_failed = 0;
    if (pthread_mutex_lock(&pool->lock) != 0) return NULL;
    int rc = 0;
    while (pool->idle_count == 0 && pool->created >= pool->size && rc == 0)
        rc = pthread_cond_timedwait(&pool->idle_cond, &pool->lock, deadline);
    pooled_connection *conn = NULL;
    if (pool->idle_count > 0)
        conn = pool->idle[--pool->idle_count];
    else if (pool->created < pool->size)
        pool->created++; /* the slot is ours while the connection is made outside the lock */
    else {
        pthread_mutex_unlock(&pool->lock);
        return NULL;
    }
    pthread_mutex_unlock(&pool->lock);

    /* Bytes may have arrived while it was idle, after the answer that put it back. */
    if (conn != NULL && has_unread_bytes(pool->api, conn)) {
        connection_free(pool->api, conn);
        conn = NULL;
    }
    if (conn == NULL) {
        conn = connection_new(pool, NULL);
        if (conn == NULL) {
            forget_slot(pool);
            *new_failed = 1;
            return NULL;
        }
    }
    conn->body.len = 0;
    conn->body.overflow = 0;
    return conn;
}

void connection_pool_release(connection_pool *pool, pooled_connection *conn) {
    OPENSSL_cleanse(conn->body.data, conn->body.len);
    conn->body.len = 0;
    if (has_unread_bytes(pool->api, conn)) {
        connection_free(pool->api, conn);
        forget_slot(pool);
        return;
    }
    pthread_mutex_lock(&pool->lock);
    pool->idle[pool->idle_count++] = conn;
    pthread_cond_signal(&pool->idle_cond);
    pthread_mutex_unlock(&pool->lock);
}
