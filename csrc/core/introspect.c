#include "introspect.h"

#include "ca_bundle.h"
#include "jwt_claims.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/crypto.h>


/* One pooled connection: a curl handle and the buffer its answers are read into. */
typedef struct {
    CURL *curl;
    char *body;                 /* INTROSPECT_MAX_BODY + 1 bytes, reused */
    size_t body_len;
    int body_overflow;
} connection;

struct introspector {
    const curl_api *api;
    struct curl_slist *headers; /* holds the Basic credentials: wiped on free */
    char *url;                  /* kept to configure connections made later */
    char *ca_file;              /* NULL: the system store */
    long timeout_ms;
    /* Up to pool_size connections, each used by one transfer at a time. The first is made by
     * introspector_new; the others only when every existing one is busy, so a process that never
     * overlaps two misses (Lambda: one request per environment) holds one connection. Idle ones are a
     * stack: the most recently used, whose TCP/TLS connection is the likeliest to be alive, goes first.
     * Waiters give up at their own deadline (a condition variable on CLOCK_MONOTONIC), so a hung endpoint
     * cannot make queued calls last longer than their timeout. All of it is guarded by `lock`. */
    pthread_mutex_t lock;
    pthread_cond_t idle_cond;
    int sync_ready;             /* lock and idle_cond were initialised */
    size_t pool_size;
    size_t created;             /* connections made or being made */
    size_t idle_count;
    connection **idle;          /* pool_size slots */
};

static void set_error(char **error, const char *fmt, ...)
{
    if (error == NULL)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    *error = strdup(buf);
}

static void set_detail(char *detail, size_t size, const char *fmt, ...)
{
    if (detail == NULL || size == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, size, fmt, ap);
    va_end(ap);
}

/* ---- encoders ---------------------------------------------------------- */

/* application/x-www-form-urlencoded as RFC 6749 appendix B asks for it:
 * unreserved characters stay, space becomes '+', every other byte %XX. */
char *introspect_form_urlencode(const char *s, size_t len, size_t *out_len)
{
    static const char hex[] = "0123456789ABCDEF";
    if (len > (SIZE_MAX - 1) / 3)
        return NULL;
    char *out = malloc(len * 3 + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
            || c == '-' || c == '.' || c == '_' || c == '*') {
            out[o++] = (char)c;
        } else if (c == ' ') {
            out[o++] = '+';
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 0x0f];
        }
    }
    out[o] = '\0';
    if (out_len != NULL)
        *out_len = o;
    return out;
}

/* Standard alphabet with padding, as HTTP Basic (RFC 7617) uses it. */
char *introspect_base64(const unsigned char *s, size_t len, size_t *out_len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (len > (SIZE_MAX - 1) / 4 * 3 - 3)
        return NULL;
    size_t n = (len + 2) / 3 * 4;
    char *out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    size_t o = 0, i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = alphabet[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        out[o++] = alphabet[v >> 18 & 63];
        out[o++] = alphabet[v >> 12 & 63];
        out[o++] = alphabet[v >> 6 & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
    if (out_len != NULL)
        *out_len = o;
    return out;
}

/* "Authorization: Basic base64(urlenc(id) ":" urlenc(secret))", RFC 6749 2.3.1.
 * Every intermediate copy of the secret is wiped. */
static char *basic_auth_header(const char *id, const char *secret)
{
    static const char prefix[] = "Authorization: Basic ";
    size_t id_len, secret_len;
    char *eid = introspect_form_urlencode(id, strlen(id), &id_len);
    char *esecret = introspect_form_urlencode(secret, strlen(secret), &secret_len);
    char *pair = NULL, *b64 = NULL, *header = NULL;
    size_t b64_len = 0;
    if (eid == NULL || esecret == NULL)
        goto done;
    pair = malloc(id_len + 1 + secret_len);
    if (pair == NULL)
        goto done;
    memcpy(pair, eid, id_len);
    pair[id_len] = ':';
    memcpy(pair + id_len + 1, esecret, secret_len);
    b64 = introspect_base64((unsigned char *)pair, id_len + 1 + secret_len, &b64_len);
    if (b64 == NULL)
        goto done;
    header = malloc(sizeof prefix - 1 + b64_len + 1);
    if (header == NULL)
        goto done;
    memcpy(header, prefix, sizeof prefix - 1);
    memcpy(header + sizeof prefix - 1, b64, b64_len + 1);
done:
    if (eid != NULL) {
        OPENSSL_cleanse(eid, id_len);
        free(eid);
    }
    if (esecret != NULL) {
        OPENSSL_cleanse(esecret, secret_len);
        free(esecret);
    }
    if (pair != NULL) {
        OPENSSL_cleanse(pair, id_len + 1 + secret_len);
        free(pair);
    }
    if (b64 != NULL) {
        OPENSSL_cleanse(b64, b64_len);
        free(b64);
    }
    return header;
}

/* ---- response classification ------------------------------------------ */

static int is_b64url_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
           || c == '-' || c == '_';
}

/* Three non-empty base64url segments: the shape of a signed compact JWS.
 * The payload itself is checked later by the caller's claim parser. */
static int looks_like_jwt(const char *s, size_t n)
{
    size_t seg_len = 0;
    int dots = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (seg_len == 0 || ++dots > 2)
                return 0;
            seg_len = 0;
        } else if (is_b64url_char(c)) {
            seg_len++;
        } else {
            return 0;
        }
    }
    return dots == 2 && seg_len > 0;
}

static int is_http_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ---- the transfer ------------------------------------------------------ */

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata)
{
    connection *conn = userdata;
    size_t n = size * nmemb; /* size is always 1 for write callbacks */
    if (n > INTROSPECT_MAX_BODY - conn->body_len) {
        conn->body_overflow = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    memcpy(conn->body + conn->body_len, data, n);
    conn->body_len += n;
    return n;
}

/* A category, never curl's error buffer: that may quote the URL or the peer. */
static const char *curl_category(CURLcode rc)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        return "timeout";
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return "name resolution failed";
    case CURLE_COULDNT_CONNECT:
        return "connection failed";
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_ENGINE_INITFAILED:
        return "TLS failure";
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
        return "connection closed by the server";
    case CURLE_FILESIZE_EXCEEDED:
        return "response too large";
    case CURLE_UNSUPPORTED_PROTOCOL:
        return "protocol not allowed";
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return "malformed response";
    default:
        return "transfer failed";
    }
}

static int setopt_failed(char **error)
{
    set_error(error, "cannot configure libcurl for the introspection call");
    return -1;
}

static int configure(const introspector *in, connection *conn, char **error)
{
    const curl_api *api = in->api;
    CURL *c = conn->curl;
    const char *ca_file = in->ca_file;
#define SET(opt, val)                                          \
    do {                                                       \
        if (api->easy_setopt(c, (opt), (val)) != CURLE_OK)     \
            return setopt_failed(error);               \
    } while (0)

    SET(CURLOPT_URL, in->url);
    SET(CURLOPT_NOSIGNAL, 1L); /* signals and threads do not mix */
    SET(CURLOPT_TIMEOUT_MS, in->timeout_ms);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    int explicit_ca = ca_file != NULL;
    if (!explicit_ca) ca_file = system_ca_bundle();
    if (ca_file != NULL) SET(CURLOPT_CAINFO, ca_file);
    if (explicit_ca) {
        /* The given bundle is the whole trust store, not an addition to it. TLS backends without a CA
           directory have nothing to switch off. */
        CURLcode rc = api->easy_setopt(c, CURLOPT_CAPATH, (char *)NULL);
        if (rc != CURLE_OK && rc != CURLE_NOT_BUILT_IN && rc != CURLE_UNKNOWN_OPTION)
            return setopt_failed(error);
    }
    SET(CURLOPT_HTTPHEADER, in->headers);
    SET(CURLOPT_POST, 1L);
    SET(CURLOPT_POSTFIELDS, "");
    SET(CURLOPT_POSTFIELDSIZE, 0L);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, (void *)conn);
    SET(CURLOPT_MAXFILESIZE, (long)INTROSPECT_MAX_BODY);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_USERAGENT, "oauth-proxy");

    /* Only http and https, for redirects too (which are not followed anyway).
     * CURLOPT_PROTOCOLS_STR exists from 7.85; the bitmask form before. */
    CURLcode rc = CURLE_UNKNOWN_OPTION;
#if LIBCURL_VERSION_NUM >= 0x075500
    rc = api->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (rc == CURLE_OK)
        rc = api->easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
    if (rc == CURLE_UNKNOWN_OPTION) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        rc = api->easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
        if (rc == CURLE_OK)
            rc = api->easy_setopt(c, CURLOPT_REDIR_PROTOCOLS,
                                  (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#pragma GCC diagnostic pop
    }
    if (rc != CURLE_OK)
        return setopt_failed(error);
#undef SET
    return 0;
}

static int valid_url(const char *url)
{
    size_t n = strlen(url);
    if (n == 0 || n > 8192)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f)
            return 0;
    }
    return (n > 7 && strncasecmp(url, "http://", 7) == 0)
           || (n > 8 && strncasecmp(url, "https://", 8) == 0);
}

static int init_sync(introspector *in)
{
    pthread_condattr_t attr;
    if (pthread_condattr_init(&attr) != 0)
        return -1;
    int rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    if (rc == 0)
        rc = pthread_cond_init(&in->idle_cond, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0)
        return -1;
    if (pthread_mutex_init(&in->lock, NULL) != 0) {
        pthread_cond_destroy(&in->idle_cond);
        return -1;
    }
    in->sync_ready = 1;
    return 0;
}

static void deadline_after(struct timespec *t, long ms)
{
    clock_gettime(CLOCK_MONOTONIC, t);
    t->tv_sec += ms / 1000;
    t->tv_nsec += (ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

/* Milliseconds left until t, or 0 when it has passed. */
static long ms_until(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long ms = (long long)(t->tv_sec - now.tv_sec) * 1000 + (t->tv_nsec - now.tv_nsec) / 1000000;
    return ms > 0 ? (long)ms : 0;
}

static void connection_free(const curl_api *api, connection *conn)
{
    if (conn == NULL)
        return;
    if (conn->curl != NULL)
        api->easy_cleanup(conn->curl);
    if (conn->body != NULL) {
        OPENSSL_cleanse(conn->body, INTROSPECT_MAX_BODY + 1);
        free(conn->body);
    }
    free(conn);
}

/* A configured connection, or NULL with *error set (when error is not NULL). */
static connection *connection_new(const introspector *in, char **error)
{
    connection *conn = calloc(1, sizeof *conn);
    if (conn != NULL)
        conn->body = malloc(INTROSPECT_MAX_BODY + 1);
    if (conn == NULL || conn->body == NULL) {
        set_error(error, "out of memory");
        connection_free(in->api, conn);
        return NULL;
    }
    conn->curl = in->api->easy_init();
    if (conn->curl == NULL) {
        set_error(error, "cannot create a libcurl handle");
        connection_free(in->api, conn);
        return NULL;
    }
    if (configure(in, conn, error) != 0) {
        connection_free(in->api, conn);
        return NULL;
    }
    return conn;
}

/* A connection for this thread's transfer: an idle one, a new one while the pool is not full, or the first
 * one released before the deadline. NULL when the deadline passed first, or a new connection could not be
 * made (*new_failed set). */
static connection *acquire(introspector *in, const struct timespec *deadline, int *new_failed)
{
    *new_failed = 0;
    if (pthread_mutex_lock(&in->lock) != 0)
        return NULL;
    int rc = 0;
    while (in->idle_count == 0 && in->created >= in->pool_size && rc == 0)
        rc = pthread_cond_timedwait(&in->idle_cond, &in->lock, deadline);
    connection *conn = NULL;
    int make = 0;
    if (in->idle_count > 0) {
        conn = in->idle[--in->idle_count];
    } else if (in->created < in->pool_size) {
        in->created++; /* the slot is ours while the connection is made outside the lock */
        make = 1;
    }
    pthread_mutex_unlock(&in->lock);
    if (!make)
        return conn;
    conn = connection_new(in, NULL);
    if (conn == NULL) {
        pthread_mutex_lock(&in->lock);
        in->created--;
        pthread_cond_signal(&in->idle_cond); /* a waiter may make it instead */
        pthread_mutex_unlock(&in->lock);
        *new_failed = 1;
    }
    return conn;
}

static void release(introspector *in, connection *conn)
{
    pthread_mutex_lock(&in->lock);
    in->idle[in->idle_count++] = conn;
    pthread_cond_signal(&in->idle_cond);
    pthread_mutex_unlock(&in->lock);
}

static void free_headers(const curl_api *api, struct curl_slist *h)
{
    for (struct curl_slist *i = h; i != NULL; i = i->next)
        if (i->data != NULL)
            OPENSSL_cleanse(i->data, strlen(i->data));
    api->slist_free_all(h);
}

introspector *introspector_new(const curl_api *api, const char *url,
                               const char *client_id, const char *client_secret,
                               long timeout_ms, const char *ca_file, size_t pool_size,
                               char **error)
{
    if (error != NULL)
        *error = NULL;
    if (url == NULL || !valid_url(url)) {
        set_error(error, "INTROSPECTION_URL must be an http:// or https:// URL");
        return NULL;
    }
    if (client_id == NULL || client_id[0] == '\0') {
        set_error(error, "CLIENT_ID must be set for phantom token introspection");
        return NULL;
    }
    if (client_secret == NULL || client_secret[0] == '\0') {
        set_error(error, "CLIENT_SECRET must be set for phantom token introspection");
        return NULL;
    }
    if (timeout_ms <= 0) {
        /* curl reads 0 as "no timeout", which must never happen here. */
        set_error(error, "INTROSPECTION_TIMEOUT_MS must be a positive number of milliseconds");
        return NULL;
    }
    if (pool_size < 1 || pool_size > INTROSPECT_MAX_POOL) {
        set_error(error, "INTROSPECTION_POOL_SIZE must be between 1 and %d", INTROSPECT_MAX_POOL);
        return NULL;
    }
    if (strncasecmp(url, "https://", 8) == 0) {
        curl_version_info_data *v = api->version_info(CURLVERSION_NOW);
        if (v == NULL || !(v->features & CURL_VERSION_SSL)) {
            set_error(error, "INTROSPECTION_URL is https but the loaded libcurl has no TLS support");
            return NULL;
        }
    }

    introspector *in = calloc(1, sizeof *in);
    if (in == NULL) {
        set_error(error, "out of memory");
        return NULL;
    }
    in->api = api;
    in->timeout_ms = timeout_ms;
    in->pool_size = pool_size;
    if (init_sync(in) != 0) {
        free(in);
        set_error(error, "cannot create the introspection lock");
        return NULL;
    }
    in->idle = calloc(pool_size, sizeof *in->idle);
    in->url = strdup(url);
    in->ca_file = ca_file != NULL ? strdup(ca_file) : NULL;
    char *auth = basic_auth_header(client_id, client_secret);
    if (in->idle == NULL || in->url == NULL || (ca_file != NULL && in->ca_file == NULL) || auth == NULL) {
        set_error(error, "out of memory");
        goto fail;
    }
    static const char *const fixed[] = {
        "Accept: application/jwt",
        "Content-Type: application/x-www-form-urlencoded",
        "Expect:", /* no 100-continue round trip for long tokens */
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        struct curl_slist *h = api->slist_append(in->headers, fixed[i]);
        if (h == NULL) {
            set_error(error, "out of memory");
            goto fail;
        }
        in->headers = h;
    }
    struct curl_slist *h = api->slist_append(in->headers, auth);
    if (h == NULL) {
        set_error(error, "out of memory");
        goto fail;
    }
    in->headers = h;
    OPENSSL_cleanse(auth, strlen(auth));
    free(auth);
    auth = NULL;

    /* The first connection now, so an unusable setting fails at configuration, not on a request. */
    connection *first = connection_new(in, error);
    if (first == NULL)
        goto fail;
    in->idle[in->idle_count++] = first;
    in->created = 1;
    return in;

fail:
    if (auth != NULL) {
        OPENSSL_cleanse(auth, strlen(auth));
        free(auth);
    }
    introspector_free(in);
    return NULL;
}

void introspector_free(introspector *in)
{
    if (in == NULL)
        return;
    /* No call is running (the owner frees it last), so every connection made is idle. */
    for (size_t i = 0; i < in->idle_count; i++)
        connection_free(in->api, in->idle[i]);
    free(in->idle);
    if (in->headers != NULL)
        free_headers(in->api, in->headers);
    free(in->url);
    free(in->ca_file);
    if (in->sync_ready) {
        pthread_cond_destroy(&in->idle_cond);
        pthread_mutex_destroy(&in->lock);
    }
    free(in);
}

static introspect_status classify(const connection *conn, long status, char **jwt, size_t *jwt_len,
                                  char *detail, size_t detail_size)
{
    if (status == 204)
        return INTROSPECT_INACTIVE;
    if (status != 200) {
        set_detail(detail, detail_size, "HTTP status %ld", status);
        return INTROSPECT_FAILED;
    }
    const char *s = conn->body;
    size_t n = conn->body_len;
    while (n > 0 && is_http_ws(s[0])) {
        s++;
        n--;
    }
    while (n > 0 && is_http_ws(s[n - 1]))
        n--;
    if (n == 0)
        return INTROSPECT_INACTIVE;
    if (looks_like_jwt(s, n)) {
        char *out = malloc(n + 1);
        if (out == NULL) {
            set_detail(detail, detail_size, "out of memory");
            return INTROSPECT_FAILED;
        }
        memcpy(out, s, n);
        out[n] = '\0';
        *jwt = out;
        *jwt_len = n;
        return INTROSPECT_JWT;
    }
    /* The same strict JSON reader as for JWT payloads; a duplicated "active" is no answer. */
    jwt_claims answer;
    int active = json_claims_parse(s, n, &answer) == 0 ? answer.active : JSON_ACTIVE_UNKNOWN;
    jwt_claims_clear(&answer);
    if (active == JSON_ACTIVE_FALSE)
        return INTROSPECT_INACTIVE;
    set_detail(detail, detail_size, active == JSON_ACTIVE_TRUE
                                        ? "HTTP 200 with JSON active:true instead of a JWT"
                                        : "HTTP 200 with neither a JWT nor an introspection response");
    return INTROSPECT_FAILED;
}

introspect_status introspector_call(introspector *in, const char *token, size_t token_len,
                                    char **jwt, size_t *jwt_len,
                                    char *detail, size_t detail_size)
{
    static const char prefix[] = "token=";
    *jwt = NULL;
    *jwt_len = 0;
    if (detail != NULL && detail_size > 0)
        detail[0] = '\0';

    size_t enc_len;
    char *enc = introspect_form_urlencode(token, token_len, &enc_len);
    char *form = enc == NULL ? NULL : malloc(sizeof prefix - 1 + enc_len + 1);
    if (form == NULL) {
        if (enc != NULL) {
            OPENSSL_cleanse(enc, enc_len);
            free(enc);
        }
        set_detail(detail, detail_size, "out of memory");
        return INTROSPECT_FAILED;
    }
    size_t form_len = sizeof prefix - 1 + enc_len;
    memcpy(form, prefix, sizeof prefix - 1);
    memcpy(form + sizeof prefix - 1, enc, enc_len + 1);
    OPENSSL_cleanse(enc, enc_len);
    free(enc);

    introspect_status result = INTROSPECT_FAILED;
    const curl_api *api = in->api;
    /* INTROSPECTION_TIMEOUT_MS bounds the whole call, time spent queueing for the handle included. */
    struct timespec deadline;
    deadline_after(&deadline, in->timeout_ms);
    int new_failed;
    connection *conn = acquire(in, &deadline, &new_failed);
    if (conn == NULL) {
        set_detail(detail, detail_size, new_failed ? "cannot open another introspection connection"
                                                   : "timeout waiting for another introspection call");
        goto out;
    }
    long left_ms = ms_until(&deadline);
    if (left_ms <= 0) {
        release(in, conn);
        set_detail(detail, detail_size, "timeout waiting for another introspection call");
        goto out;
    }
    conn->body_len = 0;
    conn->body_overflow = 0;
    CURLcode rc = api->easy_setopt(conn->curl, CURLOPT_TIMEOUT_MS, left_ms);
    if (rc == CURLE_OK)
        rc = api->easy_setopt(conn->curl, CURLOPT_POSTFIELDS, form);
    if (rc == CURLE_OK)
        rc = api->easy_setopt(conn->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)form_len);
    if (rc == CURLE_OK)
        rc = api->easy_perform(conn->curl);
    long status = 0;
    if (rc == CURLE_OK)
        rc = api->easy_getinfo(conn->curl, CURLINFO_RESPONSE_CODE, &status);
    /* The handle must not keep pointing at the form once it is freed. */
    api->easy_setopt(conn->curl, CURLOPT_POSTFIELDS, "");
    api->easy_setopt(conn->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);

    if (rc != CURLE_OK) {
        if (conn->body_overflow || rc == CURLE_FILESIZE_EXCEEDED)
            set_detail(detail, detail_size, "response larger than %d bytes", INTROSPECT_MAX_BODY);
        else
            set_detail(detail, detail_size, "%s (curl error %d)", curl_category(rc), (int)rc);
    } else {
        result = classify(conn, status, jwt, jwt_len, detail, detail_size);
    }
    /* The body may hold a JWT, a credential in its own right. */
    OPENSSL_cleanse(conn->body, conn->body_len);
    conn->body_len = 0;
    release(in, conn);
out:
    OPENSSL_cleanse(form, form_len);
    free(form);
    return result;
}
