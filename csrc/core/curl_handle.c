#include "curl_handle.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca_bundle.h"

int http_url_valid(const char *url) {
    size_t n = strlen(url);
    if (n == 0 || n > 8192) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= 0x20 || c >= 0x7f) return 0;
    }
    return (n > 7 && strncasecmp(url, "http://", 7) == 0) || (n > 8 && strncasecmp(url, "https://", 8) == 0);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *userdata) {
    response_body *body = userdata;
    size_t n = size * nmemb; /* size is always 1 for write callbacks */
    if (n > body->cap - body->len) {
        body->overflow = 1;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    memcpy(body->data + body->len, data, n);
    body->len += n;
    return n;
}

static int setopt_failed(char **error) {
    if (error != NULL) *error = strdup("cannot configure libcurl for calls to the authorization server");
    return -1;
}

/* Only http and https, for redirects too (which are not followed anyway). CURLOPT_PROTOCOLS_STR exists from
 * 7.85; the bitmask form before. */
static CURLcode allow_http_only(const curl_api *api, CURL *c) {
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
    return rc;
}

int curl_handle_configure(const curl_api *api, CURL *c, const curl_handle_settings *settings, response_body *body,
                          char **error) {
#define SET(opt, val)                                                                   \
    do {                                                                                \
        if (api->easy_setopt(c, (opt), (val)) != CURLE_OK) return setopt_failed(error); \
    } while (0)

    SET(CURLOPT_URL, settings->url);
    SET(CURLOPT_NOSIGNAL, 1L); /* signals and threads do not mix */
    SET(CURLOPT_TIMEOUT_MS, settings->timeout_ms);
    SET(CURLOPT_FOLLOWLOCATION, 0L);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    const char *ca_file = settings->ca_file != NULL ? settings->ca_file : system_ca_bundle();
    if (ca_file != NULL) SET(CURLOPT_CAINFO, ca_file);
    if (settings->ca_file != NULL) {
        /* The given bundle is the whole trust store, not an addition to it. TLS backends without a CA
           directory have nothing to switch off. */
        CURLcode rc = api->easy_setopt(c, CURLOPT_CAPATH, (char *)NULL);
        if (rc != CURLE_OK && rc != CURLE_NOT_BUILT_IN && rc != CURLE_UNKNOWN_OPTION) return setopt_failed(error);
    }
    if (settings->headers != NULL) SET(CURLOPT_HTTPHEADER, settings->headers);
    if (settings->post) {
        SET(CURLOPT_POST, 1L);
        SET(CURLOPT_POSTFIELDS, "");
        SET(CURLOPT_POSTFIELDSIZE, 0L);
    }
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, (void *)body);
    SET(CURLOPT_MAXFILESIZE, (long)body->cap);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    SET(CURLOPT_USERAGENT, "oauth-proxy");
    if (allow_http_only(api, c) != CURLE_OK) return setopt_failed(error);
#undef SET
    return 0;
}

const char *curl_error_category(CURLcode rc) {
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
