#ifndef OAUTH_PROXY_JWKS_HTTP_H
#define OAUTH_PROXY_JWKS_HTTP_H

/* The JWKS fetch over libcurl, under the introspection call's transport rules: http/https only, TLS always
   verified (INTROSPECTION_CA_FILE as the whole trust store when set), the same timeout, no redirects.
   Each fetch has a connection of its own, closed afterwards: fetches are rare (first need, then at most
   every JWKS_REFETCH_INTERVAL_S), and a connection never reused cannot hand a later fetch bytes that an
   earlier answer left behind. Pure C.
   Convention: jwks_http_new returns NULL with *error malloc'ed; jwks_http_fetch is a jwks_fetch_fn. */

#include <stddef.h>

#include "curl_loader.h"

/* Largest JWKS accepted. */
#define JWKS_MAX_BODY (256 * 1024)

typedef struct jwks_http jwks_http;

jwks_http *jwks_http_new(const curl_api *api, const char *url, long timeout_ms, const char *ca_file, char **error);
void jwks_http_free(void *http);
int jwks_http_fetch(void *http, unsigned char **body, size_t *len, char *detail, size_t detail_size);

#endif
