#include "jwks_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "curl_handle.h"

struct jwks_http {
    const curl_api *api;
    char *url;
    char *ca_file; /* NULL: the system store */
    long timeout_ms;
    struct curl_slist *headers;
};

void jwks_http_free(void *ctx) {
    jwks_http *h = ctx;
    if (h == NULL) return;
    if (h->headers != NULL) h->api->slist_free_all(h->headers);
    free(h->url);
    free(h->ca_file);
    free(h);
}

jwks_http *jwks_http_new(const curl_api *api, const char *url, long timeout_ms, const char *ca_file, char **error) {
    *error = NULL;
    if (!http_url_valid(url)) {
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

int jwks_http_fetch(void *ctx, unsigned char **body, size_t *len, char *detail, size_t detail_size) {
    jwks_http *h = ctx;
    *body = NULL;
    *len = 0;
    curl_handle_settings settings = {h->url, h->timeout_ms, h->ca_file, h->headers, 0};
    response_body answer = {malloc(JWKS_MAX_BODY + 1), 0, JWKS_MAX_BODY, 0};
    CURL *c = answer.data != NULL ? h->api->easy_init() : NULL;
    if (c == NULL || curl_handle_configure(h->api, c, &settings, &answer, NULL) != 0 ||
        h->api->easy_setopt(c, CURLOPT_FORBID_REUSE, 1L) != CURLE_OK) {
        snprintf(detail, detail_size, "cannot set up the JWKS request");
        if (c != NULL) h->api->easy_cleanup(c);
        free(answer.data);
        return -1;
    }
    CURLcode rc = h->api->easy_perform(c);
    long status = 0;
    if (rc == CURLE_OK) rc = h->api->easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    h->api->easy_cleanup(c);
    if (rc != CURLE_OK || status != 200) {
        if (answer.overflow || rc == CURLE_FILESIZE_EXCEEDED)
            snprintf(detail, detail_size, "JWKS larger than %d bytes", JWKS_MAX_BODY);
        else if (rc != CURLE_OK)
            snprintf(detail, detail_size, "%s (curl error %d)", curl_error_category(rc), (int)rc);
        else
            snprintf(detail, detail_size, "HTTP status %ld", status);
        free(answer.data);
        return -1;
    }
    *body = (unsigned char *)answer.data;
    *len = answer.len;
    return 0;
}
