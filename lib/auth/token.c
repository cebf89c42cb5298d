/* JWT issue and verification on libjwt 1.10; see token.h. */
#include "auth/token.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <jwt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/config.h"
#include "core/crypto.h"
#include "core/jsonx.h"
#include "core/sha256.h"
#include "core/urlenc.h"

#define CLOCK_SKEW    30
#define TOKEN_MAX_LEN 8192

struct key {
	char *secret, *issuer, *audience;
	struct hmac_sha256_key mac; /* the secret's pad states, prepared once */
};

static struct key keys[TOKEN_ISSUER__MAX];

static void key_set(struct key *k, const char *secret, const char *issuer, const char *audience)
{
	free(k->secret);
	free(k->issuer);
	free(k->audience);
	hmac_sha256_key_free(&k->mac);
	k->secret = secret ? strdup(secret) : NULL;
	k->issuer = issuer ? strdup(issuer) : NULL;
	k->audience = audience ? strdup(audience) : NULL;
	if (secret && hmac_sha256_key_init(&k->mac, secret, strlen(secret))) {
		free(k->secret); /* a key that cannot sign verifies nothing */
		k->secret = NULL;
	}
}

int token_configure(const char *secret, const char *issuer, const char *audience, const char *host_secret,
		    const char *host_issuer, const char *host_audience)
{
	if (!secret || strlen(secret) < 32 || !issuer || !audience) {
		fputs("token: JWT_SECRET must be at least 32 bytes; JWT_ISSUER and JWT_AUDIENCE are required\n",
		      stderr);
		return -1;
	}
	key_set(&keys[TOKEN_OURS], secret, issuer, audience);
	if (host_secret && *host_secret) {
		/* The audience is required: without it any token the host signs with this secret
		 * (its refresh tokens, tokens meant for other services) would pass as access here. */
		if (strlen(host_secret) < 32 || !host_issuer || !*host_issuer || !strcmp(host_issuer, issuer) ||
		    !host_audience || !*host_audience) {
			fputs("token: HOST_JWT_SECRET needs 32+ bytes, a HOST_JWT_ISSUER distinct from JWT_ISSUER "
			      "and a HOST_JWT_AUDIENCE\n",
			      stderr);
			return -1;
		}
		key_set(&keys[TOKEN_HOST], host_secret, host_issuer, host_audience);
	} else {
		key_set(&keys[TOKEN_HOST], NULL, NULL, NULL);
	}
	return 0;
}

int token_init(void)
{
	return token_configure(config_str("JWT_SECRET", NULL), config_str("JWT_ISSUER", "switchboard"),
			       config_str("JWT_AUDIENCE", "switchboard-api"), config_str("HOST_JWT_SECRET", NULL),
			       config_str("HOST_JWT_ISSUER", NULL), config_str("HOST_JWT_AUDIENCE", NULL));
}

static int sign(struct arena *a, const char *secret, jwt_t *jwt, char **out)
{
	if (jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)secret, (int)strlen(secret)))
		return -1;
	char *s = jwt_encode_str(jwt);
	if (!s)
		return -1;
	*out = arena_strdup(a, s);
	free(s);
	return 0;
}

int token_issue(struct arena *a, const char *user_id, long ttl, time_t now, char **out)
{
	return token_issue_scoped(a, user_id, NULL, ttl, now, out);
}

int token_issue_scoped(struct arena *a, const char *user_id, const char *scope, long ttl, time_t now, char **out)
{
	const struct key *k = &keys[TOKEN_OURS];
	jwt_t *jwt = NULL;
	char *jti = crypto_token(a, 12);
	if (!k->secret || !jti || jwt_new(&jwt))
		return -1;
	int rc = jwt_add_grant(jwt, "sub", user_id) || jwt_add_grant(jwt, "iss", k->issuer) ||
		 jwt_add_grant(jwt, "aud", k->audience) || jwt_add_grant(jwt, "typ", "access") ||
		 jwt_add_grant(jwt, "jti", jti) || jwt_add_grant_int(jwt, "iat", (long)now) ||
		 jwt_add_grant_int(jwt, "exp", (long)now + ttl) || (scope && jwt_add_grant(jwt, "scope", scope)) ||
		 sign(a, k->secret, jwt, out);
	jwt_free(jwt);
	return rc ? -1 : 0;
}

int token_sign_raw(struct arena *a, const char *secret, const char *claims_json, char **out)
{
	jwt_t *jwt = NULL;
	if (jwt_new(&jwt))
		return -1;
	int rc = jwt_add_grants_json(jwt, claims_json) || sign(a, secret, jwt, out);
	jwt_free(jwt);
	return rc ? -1 : 0;
}

/* Decodes the unverified header or payload segment into a json object in the arena. */
static struct json_object *segment_json(struct arena *a, const char *seg, size_t len)
{
	unsigned char *raw;
	size_t rawlen;
	if (base64url_decode(a, arena_strndup(a, seg, len), &raw, &rawlen))
		return NULL;
	struct json_object *o = json_tokener_parse((const char *)raw);
	if (!o)
		return NULL;
	arena_defer(a, jsonx_put, o);
	return json_object_is_type(o, json_type_object) ? o : NULL;
}

static const char *json_str(struct json_object *o, const char *name)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Numeric date claim: 0 when present and a number, 1 when absent, -1 when malformed. */
static int json_time(struct json_object *o, const char *name, long *out)
{
	struct json_object *v;
	if (!json_object_object_get_ex(o, name, &v))
		return 1;
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return -1;
	*out = (long)json_object_get_int64(v);
	return 0;
}

static int audience_ok(struct json_object *payload, const char *want)
{
	struct json_object *v;
	if (!want)
		return 1;
	if (!json_object_object_get_ex(payload, "aud", &v))
		return 0;
	if (json_object_is_type(v, json_type_string))
		return !strcmp(json_object_get_string(v), want);
	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++) {
			struct json_object *e = json_object_array_get_idx(v, i);
			if (json_object_is_type(e, json_type_string) && !strcmp(json_object_get_string(e), want))
				return 1;
		}
	}
	return 0;
}

/* HS256 over "header.payload" (token up to dot2), compared in constant time with the
 * signature segment in its canonical unpadded base64url form (43 characters), as the
 * signer wrote it: any other spelling of the same bytes is refused. */
static bool signature_ok(struct arena *a, const struct key *k, const char *token, const char *dot2)
{
	unsigned char mac[32];
	if (hmac_sha256_keyed(&k->mac, token, (size_t)(dot2 - token), mac))
		return false;
	const char *want = base64url_encode(a, mac, sizeof(mac));
	const char *got = dot2 + 1;
	return want && strlen(got) == strlen(want) && crypto_equal(want, got, strlen(want));
}

enum token_error token_verify(struct arena *a, const char *token, time_t now, struct token_claims *claims)
{
	memset(claims, 0, sizeof(*claims));
	size_t len = strlen(token);
	const char *d1 = strchr(token, '.');
	const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	if (len > TOKEN_MAX_LEN || !d1 || !d2 || strchr(d2 + 1, '.') || d1 == token || d2 == d1 + 1)
		return TOKEN_MALFORMED;
	if (!d2[1])
		return TOKEN_BAD_SIGNATURE; /* "alg":"none" style tokens end in an empty signature */
	struct json_object *header = segment_json(a, token, (size_t)(d1 - token));
	struct json_object *payload = segment_json(a, d1 + 1, (size_t)(d2 - d1 - 1));
	if (!header || !payload)
		return TOKEN_MALFORMED;
	const char *alg = json_str(header, "alg");
	if (!alg || strcmp(alg, "HS256"))
		return TOKEN_BAD_ALG;

	/* The issuer picks the key; the signature check below makes the choice binding. */
	const char *iss = json_str(payload, "iss");
	const struct key *k = NULL;
	enum token_issuer which = TOKEN_OURS;
	for (int i = 0; i < TOKEN_ISSUER__MAX; i++)
		if (keys[i].secret && iss && !strcmp(iss, keys[i].issuer)) {
			k = &keys[i];
			which = (enum token_issuer)i;
		}
	if (!k)
		return TOKEN_BAD_CLAIMS;

	if (!signature_ok(a, k, token, d2))
		return TOKEN_BAD_SIGNATURE;

	long exp = 0, iat = 0, nbf = 0;
	if (json_time(payload, "exp", &exp) != 0)
		return TOKEN_BAD_CLAIMS;
	int has_iat = json_time(payload, "iat", &iat), has_nbf = json_time(payload, "nbf", &nbf);
	if (has_iat < 0 || has_nbf < 0)
		return TOKEN_BAD_CLAIMS;
	if (now - CLOCK_SKEW >= exp)
		return TOKEN_EXPIRED;
	if ((has_nbf == 0 && now + CLOCK_SKEW < nbf) || (has_iat == 0 && now + CLOCK_SKEW < iat))
		return TOKEN_NOT_YET_VALID;
	if (!audience_ok(payload, k->audience))
		return TOKEN_BAD_CLAIMS;
	const char *sub = json_str(payload, "sub");
	if (!sub || !*sub || strlen(sub) > 255)
		return TOKEN_BAD_CLAIMS;
	/* Our tokens say what they are: a refresh or state token can never pass as access. */
	if (which == TOKEN_OURS) {
		const char *typ = json_str(payload, "typ");
		if (!typ || strcmp(typ, "access"))
			return TOKEN_BAD_CLAIMS;
	}
	claims->issuer = which;
	claims->sub = sub;
	claims->email = json_str(payload, "email");
	claims->name = json_str(payload, "name");
	claims->scope = which == TOKEN_OURS ? json_str(payload, "scope") : NULL;
	claims->exp = exp;
	claims->iat = iat;
	return TOKEN_OK;
}

const char *token_error_message(enum token_error e)
{
	static const char *const msgs[TOKEN_ERROR__MAX] = {
		[TOKEN_OK] = "ok",
		[TOKEN_MALFORMED] = "The access token is malformed",
		[TOKEN_BAD_ALG] = "The access token uses an algorithm that is not accepted",
		[TOKEN_BAD_SIGNATURE] = "The access token signature is invalid",
		[TOKEN_EXPIRED] = "The access token has expired",
		[TOKEN_NOT_YET_VALID] = "The access token is not valid yet",
		[TOKEN_BAD_CLAIMS] = "The access token claims are invalid",
	};
	return e < TOKEN_ERROR__MAX ? msgs[e] : "invalid token";
}
