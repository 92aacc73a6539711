#ifndef OAUTH_PROXY_CURL_LOADER_H
#define OAUTH_PROXY_CURL_LOADER_H

/* libcurl is loaded with dlopen on first use instead of being linked: linking it
 * costs every import ~4 ms and ~5.8 MB RSS, and most deployments never enable
 * phantom tokens. The curl headers are used for types and constants only.
 * Convention of this file: curl_api_get returns the function table, or NULL with *error set. */

#include <curl/curl.h>

typedef struct {
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *, CURLoption, ...);
    CURLcode (*easy_perform)(CURL *);
    CURLcode (*easy_getinfo)(CURL *, CURLINFO, ...);
    void (*easy_cleanup)(CURL *);
    struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
    void (*slist_free_all)(struct curl_slist *);
    curl_version_info_data *(*version_info)(CURLversion);
} curl_api;

/* Loads libcurl.so.4 and runs curl_global_init once per process; thread-safe.
 * Returns the function table, or NULL with *error set to a malloc'ed message
 * (when error is not NULL). A failed load is remembered: later calls fail the
 * same way without retrying. The library is never unloaded. */
const curl_api *curl_api_get(char **error);

#endif
