/* Requests and certificates, signed by any EVP_PKEY. */
#include "engine/eng.h"

#include "common/kg_pub.h"

#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/rand.h>

enum kg_code eng_profile_parse(const char *s, enum eng_profile *out,
                               struct kg_err *err)
{
	if (s == NULL || strcmp(s, "server") == 0)
		*out = ENG_PROFILE_SERVER;
	else if (strcmp(s, "client") == 0)
		*out = ENG_PROFILE_CLIENT;
	else if (strcmp(s, "ca") == 0)
		*out = ENG_PROFILE_CA;
	else
		return kg_err_set(err, KG_E_USAGE,
		                  "unknown profile '%s': use server, client "
		                  "or ca",
		                  s);
	return KG_OK;
}

const char *eng_profile_name(enum eng_profile p)
{
	switch (p) {
	case ENG_PROFILE_CLIENT:
		return "client";
	case ENG_PROFILE_CA:
		return "ca";
	default:
		return "server";
	}
}

int eng_profile_default_days(enum eng_profile p)
{
	return p == ENG_PROFILE_CA ? 3650 : 365;
}

enum kg_code eng_digest(const char *name, const EVP_MD **out,
                        struct kg_err *err)
{
	if (name == NULL || strcasecmp(name, "sha256") == 0 ||
	    strcasecmp(name, "sha-256") == 0)
		*out = EVP_sha256();
	else if (strcasecmp(name, "sha384") == 0 ||
	         strcasecmp(name, "sha-384") == 0)
		*out = EVP_sha384();
	else if (strcasecmp(name, "sha512") == 0 ||
	         strcasecmp(name, "sha-512") == 0)
		*out = EVP_sha512();
	else
		return kg_err_set(err, KG_E_USAGE,
		                  "unsupported digest '%s': use sha256, "
		                  "sha384 or sha512",
		                  name);
	return KG_OK;
}

/*
 * Sets dst, a request's or certificate's own public key, to key's, from the
 * components the key gives as parameters: software and token keys alike,
 * without OpenSSL's encoders and decoders. *check is a new public-only key
 * to verify the result with. Keys that are neither RSA nor EC are refused.
 */
static enum kg_code set_pubkey(X509_PUBKEY *dst, EVP_PKEY *key,
                               EVP_PKEY **check, struct kg_err *err)
{
	X509_PUBKEY *xp = kg_pub_from_pkey(key);
	int ok;

	*check = NULL;
	if (xp == NULL)
		return kg_err_set(err, KG_E_USAGE,
		                  "unsupported key type '%s': keygate signs "
		                  "with RSA and EC (P-256, P-384, P-521) keys",
		                  EVP_PKEY_get0_type_name(key)
		                          ? EVP_PKEY_get0_type_name(key)
		                          : "unknown");
	ok = kg_pub_copy(dst, xp) && (*check = kg_pub_to_pkey(xp)) != NULL;
	X509_PUBKEY_free(xp);
	if (!ok)
		return eng_ossl_err(err, KG_E_RUNTIME,
		                    "cannot set the public key");
	return KG_OK;
}

/* The SAN to put in: the given one, else the CN's when it is a domain. */
static enum kg_code effective_san(const struct eng_request *r,
                                  GENERAL_NAMES **owned,
                                  const GENERAL_NAMES **use,
                                  struct kg_err *err)
{
	*owned = NULL;
	*use = r->san;
	if (r->san != NULL)
		return KG_OK;
	if (eng_san_from_cn(r->subject, owned, err) != KG_OK)
		return err->code;
	*use = *owned;
	return KG_OK;
}

enum kg_code eng_csr_build(const struct eng_request *r, EVP_PKEY *key,
                           X509_REQ **out, struct kg_err *err)
{
	X509_REQ *req = NULL;
	EVP_PKEY *pub = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *owned = NULL;
	const GENERAL_NAMES *san;
	enum kg_code rc;

	*out = NULL;
	rc = effective_san(r, &owned, &san, err);
	if (rc != KG_OK)
		return rc;
	req = X509_REQ_new();
	if (req == NULL || !X509_REQ_set_version(req, 0) ||
	    !X509_REQ_set_subject_name(req, r->subject)) {
		rc = eng_ossl_err(err, KG_E_RUNTIME, "cannot build request");
		goto out;
	}
	rc = set_pubkey(X509_REQ_get_X509_PUBKEY(req), key, &pub, err);
	if (rc != KG_OK)
		goto out;
	if (san != NULL && sk_GENERAL_NAME_num(san) > 0) {
		if (X509V3_add1_i2d(&exts, NID_subject_alt_name, (void *)san,
		                    0, X509V3_ADD_DEFAULT) != 1 ||
		    !X509_REQ_add_extensions(req, exts)) {
			rc = eng_ossl_err(err, KG_E_RUNTIME,
			                  "cannot add subjectAltName");
			goto out;
		}
	}
	if (X509_REQ_sign(req, key, r->md) <= 0) {
		rc = eng_ossl_err(err, KG_E_TOKEN,
		                  "signing the request failed");
		goto out;
	}
	/* checked with the public key it carries, before anyone sees it */
	if (X509_REQ_verify(req, pub) != 1) {
		rc = eng_ossl_err(err, KG_E_TOKEN,
		                  "the request's signature does not verify "
		                  "with its own public key");
		goto out;
	}
	*out = req;
	req = NULL;
out:
	EVP_PKEY_free(pub);
	X509_REQ_free(req);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(owned);
	return rc;
}

/* A positive 128-bit random serial (RFC 5280: at most 20 octets). */
static enum kg_code random_serial(X509 *x, struct kg_err *err)
{
	unsigned char b[16];
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;
	enum kg_code rc = KG_OK;

	do {
		if (RAND_bytes(b, sizeof(b)) != 1)
			return eng_ossl_err(err, KG_E_RUNTIME,
			                    "no random serial");
	} while (b[0] == 0); /* keep all 128 bits significant */
	bn = BN_bin2bn(b, sizeof(b), NULL);
	if (bn == NULL || (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    !X509_set_serialNumber(x, ai))
		rc = eng_ossl_err(err, KG_E_RUNTIME, "cannot set serial");
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return rc;
}

static enum kg_code add_ext(X509 *x, X509V3_CTX *ctx, int nid,
                            const char *value, struct kg_err *err)
{
	X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	int ok = e != NULL && X509_add_ext(x, e, -1);

	X509_EXTENSION_free(e);
	if (!ok)
		return eng_ossl_err(err, KG_E_RUNTIME, OBJ_nid2sn(nid));
	return KG_OK;
}

enum kg_code eng_cert_selfsign(const struct eng_request *r,
                               enum eng_profile profile, int days, time_t now,
                               EVP_PKEY *key, X509 **out, struct kg_err *err)
{
	X509 *x = NULL;
	EVP_PKEY *pub = NULL;
	X509V3_CTX ctx;
	GENERAL_NAMES *owned = NULL;
	const GENERAL_NAMES *san;
	const char *ku;
	int is_rsa = EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA ||
	             EVP_PKEY_is_a(key, "KG-RSA") || EVP_PKEY_is_a(key, "RSA");
	enum kg_code rc;

	*out = NULL;
	if (days < 1 || days > 36500)
		return kg_err_set(err, KG_E_USAGE,
		                  "--days must be from 1 to 36500");
	rc = effective_san(r, &owned, &san, err);
	if (rc != KG_OK)
		return rc;
	x = X509_new();
	if (x == NULL || !X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_subject_name(x, r->subject) ||
	    !X509_set_issuer_name(x, r->subject) ||
	    X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &now) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), days, 0, &now) == NULL) {
		rc = eng_ossl_err(err, KG_E_RUNTIME,
		                  "cannot build certificate");
		goto out;
	}
	rc = random_serial(x, err);
	if (rc != KG_OK)
		goto out;
	rc = set_pubkey(X509_get_X509_PUBKEY(x), key, &pub, err);
	if (rc != KG_OK)
		goto out;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (profile == ENG_PROFILE_CA) {
		rc = add_ext(x, &ctx, NID_basic_constraints,
		             "critical,CA:TRUE", err);
		ku = "critical,keyCertSign,cRLSign,digitalSignature";
	} else {
		rc = add_ext(x, &ctx, NID_basic_constraints,
		             "critical,CA:FALSE", err);
		ku = is_rsa ? "critical,digitalSignature,keyEncipherment"
		            : "critical,digitalSignature";
	}
	if (rc == KG_OK)
		rc = add_ext(x, &ctx, NID_key_usage, ku, err);
	if (rc == KG_OK && profile != ENG_PROFILE_CA)
		rc = add_ext(x, &ctx, NID_ext_key_usage,
		             profile == ENG_PROFILE_CLIENT ? "clientAuth"
		                                           : "serverAuth",
		             err);
	if (rc == KG_OK)
		rc = add_ext(x, &ctx, NID_subject_key_identifier, "hash", err);
	if (rc == KG_OK)
		rc = add_ext(x, &ctx, NID_authority_key_identifier,
		             "keyid:always", err);
	if (rc != KG_OK)
		goto out;
	if (san != NULL && sk_GENERAL_NAME_num(san) > 0 &&
	    !X509_add1_ext_i2d(x, NID_subject_alt_name, (void *)san, 0,
	                       X509V3_ADD_DEFAULT)) {
		rc = eng_ossl_err(err, KG_E_RUNTIME,
		                  "cannot add subjectAltName");
		goto out;
	}
	if (X509_sign(x, key, r->md) <= 0) {
		rc = eng_ossl_err(err, KG_E_TOKEN,
		                  "signing the certificate failed");
		goto out;
	}
	if (X509_verify(x, pub) != 1) {
		rc = eng_ossl_err(err, KG_E_TOKEN,
		                  "the certificate's signature does not "
		                  "verify with its own public key");
		goto out;
	}
	*out = x;
	x = NULL;
out:
	EVP_PKEY_free(pub);
	X509_free(x);
	GENERAL_NAMES_free(owned);
	return rc;
}
