#include "jwt_verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jwt_claims.h"
#include "token_cache.h"

struct jwt_verifier {
    jwt_policy policy; /* issuer and audiences: copies owned here */
    char *issuer;
    char **audiences;
    jwks_cache *keys;
    token_cache *verified; /* NULL: caching off */
};

static void say(char *detail, size_t size, const char *phrase) {
    if (size > 0) snprintf(detail, size, "%s", phrase);
}

void jwt_verifier_free(jwt_verifier *v) {
    if (v == NULL) return;
    jwks_cache_free(v->keys);
    token_cache_free(v->verified);
    free(v->issuer);
    for (size_t i = 0; v->audiences != NULL && i < v->policy.audience_count; i++) free(v->audiences[i]);
    free(v->audiences);
    free(v);
}

jwt_verifier *jwt_verifier_new(const jwt_policy *policy, jwks_cache *keys, char **error) {
    *error = NULL;
    jwt_verifier *v = calloc(1, sizeof *v);
    if (v == NULL) {
        jwks_cache_free(keys);
        *error = strdup("out of memory");
        return NULL;
    }
    v->keys = keys;
    v->policy = *policy;
    v->policy.audience_count = 0;
    int ok = 1;
    if (policy->issuer != NULL) ok = (v->issuer = strdup(policy->issuer)) != NULL;
    if (ok && policy->audience_count > 0) {
        v->audiences = calloc(policy->audience_count, sizeof *v->audiences);
        ok = v->audiences != NULL;
        for (size_t i = 0; ok && i < policy->audience_count; i++) {
            ok = (v->audiences[i] = strdup(policy->audiences[i])) != NULL;
            v->policy.audience_count = i + 1;
        }
    }
    if (ok && policy->cache_size > 0 && policy->cache_ttl_s > 0)
        ok = (v->verified = token_cache_new(policy->cache_size, policy->cache_ttl_s)) != NULL;
    if (!ok) {
        jwt_verifier_free(v);
        *error = strdup("out of memory");
        return NULL;
    }
    v->policy.issuer = v->issuer;
    v->policy.audiences = (const char *const *)v->audiences;
    return v;
}

enum { C_ISS, C_AUD, C_NBF, C_COUNT };
static const char *const claim_names[C_COUNT] = {"iss", "aud", "nbf"};
static const size_t claim_lens[C_COUNT] = {3, 3, 3};

static int string_is_one_of(const json_member *m, const char *const *wanted, size_t count) {
    if (m->type != JSON_STRING) return 0;
    size_t len;
    char *s = json_member_string(m, &len);
    int match = 0;
    for (size_t i = 0; s != NULL && i < count && !match; i++)
        match = strlen(wanted[i]) == len && memcmp(wanted[i], s, len) == 0;
    free(s);
    return match;
}

/* `aud`: one string, or an array of strings (RFC 7519 section 4.1.3; an array holding anything else is
   malformed, as other verifiers hold too); one configured audience suffices. */
static int audience_ok(const json_member *aud, const jwt_policy *p) {
    if (aud->type == JSON_STRING) return string_is_one_of(aud, p->audiences, p->audience_count);
    size_t offset = 0;
    json_member element;
    int rc, match = 0;
    while ((rc = json_array_next(aud, &offset, &element)) == 1) {
        if (element.type != JSON_STRING) return 0;
        match = match || string_is_one_of(&element, p->audiences, p->audience_count);
    }
    return rc == 0 && match;
}

/* The claims of a token whose signature verified; on success *exp is its expiry. */
static jwt_verdict check_claims(const jwt_policy *p, const char *token, size_t len, time_t now, double *exp,
                                char *detail, size_t detail_size) {
    jwt_claims claims;
    json_member found[C_COUNT];
    json_wanted want = {claim_names, claim_lens, C_COUNT, found};
    unsigned char *payload = NULL;
    if (jwt_claims_parse_wanted(token, len, &claims, &want, &payload) != 0) {
        say(detail, detail_size, "payload is not a JSON object");
        return JWT_INVALID;
    }
    const char *why = NULL;
    double nbf = 0;
    if (!claims.has_exp) {
        why = "no exp";
    } else if ((double)now >= claims.exp + JWT_LEEWAY_S) {
        why = "expired";
    } else if (found[C_NBF].type != JSON_ABSENT && json_member_number(&found[C_NBF], &nbf) != 0) {
        why = "nbf is not a number";
    } else if (found[C_NBF].type != JSON_ABSENT && nbf > (double)now + JWT_LEEWAY_S) {
        why = "not valid yet";
    } else if (p->issuer != NULL && !string_is_one_of(&found[C_ISS], &p->issuer, 1)) {
        why = "issuer";
    } else if (p->audience_count > 0 && !audience_ok(&found[C_AUD], p)) {
        why = "audience";
    }
    *exp = claims.exp;
    jwt_claims_clear(&claims);
    free(payload);
    if (why == NULL) return JWT_VERIFIED;
    say(detail, detail_size, why);
    return JWT_INVALID;
}

static jwt_verdict check_parsed(const jwt_policy *p, const jws *j, const char *token, size_t len, const jwk *key,
                                time_t now, double *exp, char *detail, size_t detail_size) {
    const char *why;
    if (jws_verify_signature(j, key, &why) != 0) {
        say(detail, detail_size, why);
        return JWT_INVALID;
    }
    return check_claims(p, token, len, now, exp, detail, detail_size);
}

static int parse_allowed(const jwt_policy *p, const char *token, size_t len, jws *j, char *detail, size_t detail_size) {
    const char *why;
    if (jws_parse(token, len, j, &why) != 0) {
        say(detail, detail_size, why);
        return -1;
    }
    if ((p->algorithms & JWS_ALG_BIT(j->alg)) == 0) {
        say(detail, detail_size, "alg not accepted");
        jws_clear(j);
        return -1;
    }
    return 0;
}

jwt_verdict jwt_check_with_key(const jwt_policy *policy, const char *token, size_t len, const jwk *key, time_t now,
                               char *detail, size_t detail_size) {
    jws j;
    if (parse_allowed(policy, token, len, &j, detail, detail_size) != 0) return JWT_INVALID;
    double exp;
    jwt_verdict r = check_parsed(policy, &j, token, len, key, now, &exp, detail, detail_size);
    jws_clear(&j);
    return r;
}

jwt_verdict jwt_verifier_check(jwt_verifier *v, const char *token, size_t len, time_t now, char *detail,
                               size_t detail_size) {
    say(detail, detail_size, "");
    char *none = NULL;
    size_t none_len;
    if (v->verified != NULL && len <= JWS_MAX_TOKEN &&
        token_cache_get(v->verified, token, len, &none, &none_len, NULL) == 1) {
        free(none);
        return JWT_VERIFIED;
    }
    jws j;
    if (parse_allowed(&v->policy, token, len, &j, detail, detail_size) != 0) return JWT_INVALID;
    jwk key;
    jwks_lookup found = jwks_cache_key(v->keys, j.kid != NULL, j.kid, j.kid_len, jws_alg_key_type(j.alg), now, &key,
                                       detail, detail_size);
    jwt_verdict r;
    double exp = 0;
    if (found == JWKS_UNAVAILABLE) {
        r = JWT_KEYS_UNAVAILABLE;
    } else if (found == JWKS_KEY_NONE) {
        say(detail, detail_size, "no key in the JWKS for this token");
        r = JWT_INVALID;
    } else {
        r = check_parsed(&v->policy, &j, token, len, &key, now, &exp, detail, detail_size);
        jwk_clear(&key);
    }
    jws_clear(&j);
    if (r == JWT_VERIFIED && v->verified != NULL) {
        /* Only the verdict is kept (an empty value); the entry ends at exp, whatever the leeway. */
        jwt_claims expiry = {0};
        expiry.has_exp = 1;
        expiry.exp = exp;
        token_cache_put(v->verified, token, len, "", 0, &expiry);
    }
    return r;
}
