#include "introspect.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "connection_pool.h"
#include "curl_handle.h"
#include "form_encoding.h"

struct introspector {
    const curl_api *api;
    struct curl_slist *headers; /* holds the Basic credentials: wiped on free */
    char *url;
    char *ca_file; /* NULL: the system store */
    long timeout_ms;
    int pool_open; /* pool was set up (connection_pool_open ran) */
    connection_pool pool;
};

static void set_error(char **error, const char *fmt, ...) {
    if (error == NULL) return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    *error = strdup(buf);
}

static void set_detail(char *detail, size_t size, const char *fmt, ...) {
    if (detail == NULL || size == 0) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, size, fmt, ap);
    va_end(ap);
}

static void free_headers(const curl_api *api, struct curl_slist *h) {
    for (struct curl_slist *i = h; i != NULL; i = i->next)
        if (i->data != NULL) OPENSSL_cleanse(i->data, strlen(i->data));
    api->slist_free_all(h);
}

/* 0, or -1 with *error set. */
static int check_settings(const curl_api *api, const char *url, const char *client_id, const char *client_secret,
                          long timeout_ms, size_t pool_size, char **error) {
    if (url == NULL || !http_url_valid(url)) {
        set_error(error, "INTROSPECTION_URL must be an http:// or https:// URL");
        return -1;
    }
    if (client_id == NULL || client_id[0] == '\0') {
        set_error(error, "CLIENT_ID must be set for phantom token introspection");
        return -1;
    }
    if (client_secret == NULL || client_secret[0] == '\0') {
        set_error(error, "CLIENT_SECRET must be set for phantom token introspection");
        return -1;
    }
    if (timeout_ms <= 0) {
        /* curl reads 0 as "no timeout", which must never happen here. */
        set_error(error, "INTROSPECTION_TIMEOUT_MS must be a positive number of milliseconds");
        return -1;
    }
    if (pool_size < 1 || pool_size > INTROSPECT_MAX_POOL) {
        set_error(error, "INTROSPECTION_POOL_SIZE must be between 1 and %d", INTROSPECT_MAX_POOL);
        return -1;
    }
    if (strncasecmp(url, "https://", 8) == 0) {
        curl_version_info_data *v = api->version_info(CURLVERSION_NOW);
        if (v == NULL || !(v->features & CURL_VERSION_SSL)) {
            set_error(error, "INTROSPECTION_URL is https but the loaded libcurl has no TLS support");
            return -1;
        }
    }
    return 0;
}

/* The request headers, the Basic credentials last; 0, or -1 (out of memory). */
static int build_headers(introspector *in, const char *client_id, const char *client_secret) {
    static const char *const fixed[] = {
        "Accept: application/jwt", "Content-Type: application/x-www-form-urlencoded",
        "Expect:", /* no 100-continue round trip for long tokens */
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        struct curl_slist *h = in->api->slist_append(in->headers, fixed[i]);
        if (h == NULL) return -1;
        in->headers = h;
    }
    char *auth = basic_auth_header(client_id, client_secret);
    if (auth == NULL) return -1;
    struct curl_slist *h = in->api->slist_append(in->headers, auth);
    OPENSSL_cleanse(auth, strlen(auth));
    free(auth);
    if (h == NULL) return -1;
    in->headers = h;
    return 0;
}

introspector *introspector_new(const curl_api *api, const char *url, const char *client_id, const char *client_secret,
                               long timeout_ms, const char *ca_file, size_t pool_size, char **error) {
    if (error != NULL) *error = NULL;
    if (check_settings(api, url, client_id, client_secret, timeout_ms, pool_size, error) != 0) return NULL;
    introspector *in = calloc(1, sizeof *in);
    if (in == NULL) {
        set_error(error, "out of memory");
        return NULL;
    }
    in->api = api;
    in->timeout_ms = timeout_ms;
    in->url = strdup(url);
    in->ca_file = ca_file != NULL ? strdup(ca_file) : NULL;
    if (in->url == NULL || (ca_file != NULL && in->ca_file == NULL) ||
        build_headers(in, client_id, client_secret) != 0) {
        set_error(error, "out of memory");
        introspector_free(in);
        return NULL;
    }
    curl_handle_settings settings = {in->url, timeout_ms, in->ca_file, in->headers, 1};
    in->pool_open = 1;
    if (connection_pool_open(&in->pool, api, &settings, INTROSPECT_MAX_BODY, pool_size, error) != 0) {
        introspector_free(in);
        return NULL;
    }
    return in;
}

void introspector_free(introspector *in) {
    if (in == NULL) return;
    if (in->pool_open) connection_pool_close(&in->pool);
    if (in->headers != NULL) free_headers(in->api, in->headers);
    free(in->url);
    free(in->ca_file);
    free(in);
}

/* "token=<form-encoded token>", or NULL when out of memory. */
static char *token_form(const char *token, size_t token_len, size_t *form_len) {
    static const char prefix[] = "token=";
    size_t enc_len;
    char *enc = form_urlencode(token, token_len, &enc_len);
    if (enc == NULL) return NULL;
    char *form = malloc(sizeof prefix - 1 + enc_len + 1);
    if (form != NULL) {
        memcpy(form, prefix, sizeof prefix - 1);
        memcpy(form + sizeof prefix - 1, enc, enc_len + 1);
        *form_len = sizeof prefix - 1 + enc_len;
    }
    OPENSSL_cleanse(enc, enc_len);
    free(enc);
    return form;
}

/* One POST of form on conn within left_ms; CURLE_OK with the HTTP status in *status. */
static CURLcode post(const curl_api *api, pooled_connection *conn, const char *form, size_t form_len, long left_ms,
                     long *status) {
    CURLcode rc = api->easy_setopt(conn->curl, CURLOPT_TIMEOUT_MS, left_ms);
    if (rc == CURLE_OK) rc = api->easy_setopt(conn->curl, CURLOPT_POSTFIELDS, form);
    if (rc == CURLE_OK) rc = api->easy_setopt(conn->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)form_len);
    if (rc == CURLE_OK) rc = api->easy_perform(conn->curl);
    if (rc == CURLE_OK) rc = api->easy_getinfo(conn->curl, CURLINFO_RESPONSE_CODE, status);
    /* The handle must not keep pointing at the form once it is freed. */
    api->easy_setopt(conn->curl, CURLOPT_POSTFIELDS, "");
    api->easy_setopt(conn->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    return rc;
}

introspect_status introspector_call(introspector *in, const char *token, size_t token_len, char **jwt, size_t *jwt_len,
                                    char *detail, size_t detail_size) {
    *jwt = NULL;
    *jwt_len = 0;
    if (detail != NULL && detail_size > 0) detail[0] = '\0';
    size_t form_len = 0;
    char *form = token_form(token, token_len, &form_len);
    if (form == NULL) {
        set_detail(detail, detail_size, "out of memory");
        return INTROSPECT_FAILED;
    }

    introspect_status result = INTROSPECT_FAILED;
    /* INTROSPECTION_TIMEOUT_MS bounds the whole call, time spent queueing for a connection included. */
    struct timespec deadline;
    deadline_after(&deadline, in->timeout_ms);
    int new_failed;
    pooled_connection *conn = connection_pool_acquire(&in->pool, &deadline, &new_failed);
    long left_ms = conn != NULL ? ms_until(&deadline) : 0;
    if (conn == NULL || left_ms <= 0) {
        if (conn != NULL) connection_pool_release(&in->pool, conn);
        set_detail(detail, detail_size,
                   new_failed ? "cannot open another introspection connection"
                              : "timeout waiting for another introspection call");
        goto out;
    }
    long status = 0;
    CURLcode rc = post(in->api, conn, form, form_len, left_ms, &status);
    if (rc != CURLE_OK) {
        if (conn->body.overflow || rc == CURLE_FILESIZE_EXCEEDED)
            set_detail(detail, detail_size, "response larger than %d bytes", INTROSPECT_MAX_BODY);
        else
            set_detail(detail, detail_size, "%s (curl error %d)", curl_error_category(rc), (int)rc);
    } else {
        result = introspect_classify(status, conn->body.data, conn->body.len, jwt, jwt_len, detail, detail_size);
    }
    connection_pool_release(&in->pool, conn);
out:
    OPENSSL_cleanse(form, form_len);
    free(form);
    return result;
}
