#include "jwks_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca_bundle.h"

struct jwks_http {
    const curl_api *api;
    char *url;
    char *ca_file; /* NULL: the system store */
    long timeout_ms;
    struct curl_slist *headers;
};

typedef struct {
    unsigned char *body;
    size_t len;
    int overflow;
} answer;

static int valid_url(const char *url) {
    size_t n = strlen(url);
    if (n == 0 || n > 8192) return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f) return 0;
    return (n > 7 && strncasecmp(url, "http://", 7) == 0) || (n > 8 && strncasecmp(url, "https://", 8) == 0);
}

void jwks_http_free(void *ctx) {
    jwks_http *h = ctx;
    if (h == NULL) return;
    if (h->headers != NULL) h->api->slist_free_all(h->headers);
    free(h->url);
    free(h->ca_file);
    free(h);
}

jwks_http *jwks_http_new(const curl_api *api, const char *url, long timeout_ms, const char *ca_file,
                         char **error) {
    *error = NULL;
    if (!valid_url(url)) {
        *error = strdup("JWKS_URL must be an http:// or https:// URL");
        return NULL;
    }
    jwks_http *h = calloc(1, sizeof *h);
    if (h != NULL) {
        h->api = api;
        h->timeout_ms = timeout_ms;
        h->url = strdup(url);
        h->ca_file = ca_file != NULL ? strdup(ca_file) : NULL;
        h->headers = api->slist_append(NULL, "Accept: application/jwk-set+json, application/json");
    }
    if (h == NULL || h->url == NULL || (ca_file != NULL && h->ca_file == NULL) || h->headers == NULL) {
        jwks_http_free(h);
        *error = strdup("out of memory");
        return NULL;
    }
    return h;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata) {
    answer *a = userdata;
    size_t n = size * nmemb;
    if (n > JWKS_MAX_BODY - a->len) {
        a->overflow = 1;
        return 0;
    }
    memcpy(a->body + a->len, data, n);
    a->len += n;
    return n;
}

static int configure(const jwks_http *h, CURL *c, answer *a) {
    const curl_api *api = h->api;
#define SET(opt, val)                                                                                        \
    do {                                                                                                     \
        if (api->easy_setopt(c, (opt), (val)) != CURLE_OK) return -1;                                       \
    } while (0)
    SET(CURLOPT_URL, h->url);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_TIMEOUT_MS, h->timeout_ms);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_FORBID_REUSE, 1L);
    const char *ca_file = h->ca_file != NULL ? h->ca_file : system_ca_bundle();
    if (ca_file != NULL) SET(CURLOPT_CAINFO, ca_file);
    if (h->ca_file != NULL) {
        /* The given bundle is the whole trust store, not an addition to it. */
        CURLcode rc = api->easy_setopt(c, CURLOPT_CAPATH, (char *)NULL);
        if (rc != CURLE_OK && rc != CURLE_NOT_BUILT_IN && rc != CURLE_UNKNOWN_OPTION) return -1;
    }
    SET(CURLOPT_HTTPHEADER, h->headers);
    SET(CURLOPT_HTTPGET, 1L);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, (void *)a);
    SET(CURLOPT_MAXFILESIZE, (long)JWKS_MAX_BODY);
    SET(CURLOPT_USERAGENT, "oauth-proxy");
    CURLcode rc = CURLE_UNKNOWN_OPTION;
#if LIBCURL_VERSION_NUM >= 0x075500
    rc = api->easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    if (rc == CURLE_OK) rc = api->easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
    if (rc == CURLE_UNKNOWN_OPTION) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        rc = api->easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
        if (rc == CURLE_OK) rc = api->easy_setopt(c, CURLOPT_REDIR_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#pragma GCC diagnostic pop
    }
#undef SET
    return rc == CURLE_OK ? 0 : -1;
}

/* A category, never curl's error text: that may quote the URL or the peer. */
static const char *category(CURLcode rc) {
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT: return "timeout";
    case CURLE_COULDNT_RESOLVE_HOST: return "name resolution failed";
    case CURLE_COULDNT_CONNECT: return "connection failed";
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CACERT_BADFILE: return "TLS failure";
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_WRITE_ERROR: return "response too large";
    default: return "transfer failed";
    }
}

int jwks_http_fetch(void *ctx, unsigned char **body, size_t *len, char *detail, size_t detail_size) {
    jwks_http *h = ctx;
    *body = NULL;
    *len = 0;
    answer a = {malloc(JWKS_MAX_BODY), 0, 0};
    CURL *c = a.body != NULL ? h->api->easy_init() : NULL;
    if (c == NULL || configure(h, c, &a) != 0) {
        snprintf(detail, detail_size, "cannot set up the JWKS request");
        if (c != NULL) h->api->easy_cleanup(c);
        free(a.body);
        return -1;
    }
    CURLcode rc = h->api->easy_perform(c);
    long status = 0;
    if (rc == CURLE_OK) rc = h->api->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    h->api->easy_cleanup(c);
    if (rc != CURLE_OK || status != 200) {
        if (rc != CURLE_OK)
            snprintf(detail, detail_size, "%s (curl error %d)", a.overflow ? "response too large" : category(rc),
                     (int)rc);
        else
            snprintf(detail, detail_size, "HTTP status %ld", status);
        free(a.body);
        return -1;
    }
    *body = a.body;
    *len = a.len;
    return 0;
}
