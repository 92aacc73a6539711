#ifndef OAUTH_PROXY_CURL_HANDLE_H
#define OAUTH_PROXY_CURL_HANDLE_H

/* A libcurl easy handle set up for short calls to an authorization server: TLS always verified, no
 * redirects, http and https only, no signals, a bounded response read into memory.
 *
 * Convention of this file: functions that can fail return 0 on success and -1 on failure; messages go to
 * *error as a malloc'ed string that names no secret (error may be NULL, and is left NULL when even that
 * allocation fails). */

#include <stddef.h>

#include "curl_loader.h"

/* Where a transfer's response body goes: a buffer of cap + 1 bytes, reused from one transfer to the next. */
typedef struct {
    char *data;
    size_t len;
    size_t cap;
    int overflow; /* the answer was larger than cap: the transfer was aborted */
} response_body;

typedef struct {
    const char *url;            /* http:// or https:// (http_url_valid) */
    long timeout_ms;            /* > 0; each call may lower it to what its deadline leaves */
    const char *ca_file;        /* the whole trust store; NULL: the system's */
    struct curl_slist *headers; /* sent with every request; NULL: none */
    int post;                   /* 1: POST, the fields set per transfer; 0: GET */
} curl_handle_settings;

/* 1 when url is an http:// or https:// URL of printable ASCII without spaces, at most 8 KiB; else 0. */
int http_url_valid(const char *url);

/* Configures c for settings, its response written into body (which must outlive the handle's use).
 * The settings' strings and headers must outlive the handle too. */
int curl_handle_configure(const curl_api *api, CURL *c, const curl_handle_settings *settings, response_body *body,
                          char **error);

/* A short category for a failed transfer, never curl's own message (which may quote the URL or the peer). */
const char *curl_error_category(CURLcode rc);

#endif
