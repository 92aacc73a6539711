#ifndef OAUTH_PROXY_CA_BUNDLE_H
#define OAUTH_PROXY_CA_BUNDLE_H

/* The system's PEM trust store, for when INTROSPECTION_CA_FILE is unset. The libcurl that travels in the
   Lambda artifact was built on Debian and looks for Debian's bundle, which Amazon Linux does not have;
   probing the well-known locations (the list Go's crypto/x509 uses) finds the one that is there.
   Convention of this file: a static path, or NULL when none exists (libcurl's own default then applies). */
const char *system_ca_bundle(void);

#endif
