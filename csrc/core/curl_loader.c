#include "curl_loader.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CURL_SONAME "libcurl.so.4"

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static curl_api api;
static int loaded;
static char load_error[512];

/* Object and function pointers are not interconvertible in ISO C; POSIX
 * guarantees it for dlsym, and the memcpy keeps -Wpedantic quiet. */
static int resolve(void *lib, const char *name, void *slot, size_t size) {
    void *sym = dlsym(lib, name);
    if (sym == NULL) {
        snprintf(load_error, sizeof load_error, "%s lacks the function %s (libcurl too old?)", CURL_SONAME, name);
        return -1;
    }
    memcpy(slot, &sym, size);
    return 0;
}

#define RESOLVE(lib, field, name) resolve((lib), (name), &api.field, sizeof api.field)

static void load(void) {
    /* RTLD_LOCAL: curl's symbols must not satisfy anyone else's lookups.
     * The handle is deliberately never closed: libcurl keeps global state
     * (TLS backend, resolver threads) that must outlive every easy handle. */
    void *lib = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        const char *why = dlerror();
        snprintf(load_error, sizeof load_error, "cannot load %s (install libcurl4, e.g. apt-get install libcurl4): %s",
                 CURL_SONAME, why != NULL ? why : "unknown error");
        return;
    }

    CURLcode (*global_init)(long) = NULL;
    void *sym = dlsym(lib, "curl_global_init");
    if (sym == NULL) {
        snprintf(load_error, sizeof load_error, "%s lacks the function curl_global_init", CURL_SONAME);
        return;
    }
    memcpy(&global_init, &sym, sizeof global_init);

    if (RESOLVE(lib, easy_init, "curl_easy_init") != 0 || RESOLVE(lib, easy_setopt, "curl_easy_setopt") != 0 ||
        RESOLVE(lib, easy_perform, "curl_easy_perform") != 0 || RESOLVE(lib, easy_getinfo, "curl_easy_getinfo") != 0 ||
        RESOLVE(lib, easy_cleanup, "curl_easy_cleanup") != 0 || RESOLVE(lib, slist_append, "curl_slist_append") != 0 ||
        RESOLVE(lib, slist_free_all, "curl_slist_free_all") != 0 ||
        RESOLVE(lib, version_info, "curl_version_info") != 0)
        return;

    /* curl_global_init is not thread-safe before 7.84; pthread_once makes
     * this the only call in the process that we make. */
    CURLcode rc = global_init(CURL_GLOBAL_DEFAULT);
    if (rc != CURLE_OK) {
        snprintf(load_error, sizeof load_error, "curl_global_init failed (curl error %d)", (int)rc);
        return;
    }
    loaded = 1;
}

const curl_api *curl_api_get(char **error) {
    if (pthread_once(&load_once, load) != 0) {
        if (error != NULL) *error = strdup("cannot initialise libcurl loading");
        return NULL;
    }
    if (!loaded) {
        if (error != NULL) *error = strdup(load_error[0] ? load_error : "cannot load libcurl");
        return NULL;
    }
    return &api;
}
