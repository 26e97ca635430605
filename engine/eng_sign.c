/* Requests and certificates, signed by any EVP_PKEY. */
#include "engine/eng.h"

#include "common/kg_pub.h"

#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/pem.h>
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
	else if (strcmp(s, "intermediate") == 0)
		*out = ENG_PROFILE_INTERMEDIATE;
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
	case ENG_PROFILE_INTERMEDIATE:
		return "intermediate";
	default:
		return "server";
	}
}

int eng_profile_default_days(enum eng_profile p)
{
	return p == ENG_PROFILE_CA             ? 3650
	       : p == ENG_PROFILE_INTERMEDIATE ? 1825
	                                       : 365;
}

/* The digest to sign with key k: md, or none for a key whose algorithm
 * hashes itself (EdDSA: its default digest is mandatory and "UNDEF"). */
static const EVP_MD *md_for(EVP_PKEY *k, const EVP_MD *md)
{
	char name[32];

	if (EVP_PKEY_get_default_digest_name(k, name, sizeof(name)) == 2 &&
	    strcmp(name, "UNDEF") == 0)
		return NULL;
	return md;
}

enum kg_code eng_sig_alg_parse(const char *s, int *pss, struct kg_err *err)
{
	*pss = 0;
	if (s == NULL || strcasecmp(s, "pkcs1") == 0 ||
	    strcasecmp(s, "rsa-pkcs1") == 0)
		return KG_OK;
	if (strcasecmp(s, "rsa-pss") == 0 || strcasecmp(s, "pss") == 0) {
		*pss = 1;
		return KG_OK;
	}
	return kg_err_set(err, KG_E_USAGE,
	                  "unsupported --sig-alg '%s': use pkcs1 (RSA "
	                  "PKCS#1 v1.5, the default) or rsa-pss",
	                  s);
}

/*
 * A signing context for key with md (none for EdDSA, md_for): RSASSA-PSS
 * when pss (salt as long as the digest, MGF1 with the same digest, as RFC
 * 4055 and the CA/B Forum profile ask), for an RSA key only; software and
 * token keys alike.
 */
static enum kg_code sign_ctx(EVP_PKEY *key, const EVP_MD *md, int pss,
                             EVP_MD_CTX **out, struct kg_err *err)
{
	const char *mdname;
	OSSL_PARAM params[4];
	EVP_MD_CTX *m;
	char desc[64];

	*out = NULL;
	md = md_for(key, md);
	mdname = md ? EVP_MD_get0_name(md) : NULL;
	if (pss &&
	    !(EVP_PKEY_is_a(key, "RSA") || EVP_PKEY_is_a(key, "KG-RSA"))) {
		eng_key_describe(key, desc, sizeof(desc));
		return kg_err_set(err, KG_E_USAGE,
		                  "--sig-alg rsa-pss needs an RSA key, not %s",
		                  desc);
	}
	params[0] = OSSL_PARAM_construct_utf8_string(
	        OSSL_SIGNATURE_PARAM_PAD_MODE, OSSL_PKEY_RSA_PAD_MODE_PSS, 0);
	params[1] = OSSL_PARAM_construct_utf8_string(
	        OSSL_SIGNATURE_PARAM_PSS_SALTLEN,
	        OSSL_PKEY_RSA_PSS_SALT_LEN_DIGEST, 0);
	params[2] = OSSL_PARAM_construct_utf8_string(
	        OSSL_SIGNATURE_PARAM_MGF1_DIGEST, (char *)mdname, 0);
	params[3] = OSSL_PARAM_construct_end();
	m = EVP_MD_CTX_new();
	if (m == NULL ||
	    EVP_DigestSignInit_ex(m, NULL, mdname, NULL, NULL, key,
	                          pss ? params : NULL) <= 0) {
		EVP_MD_CTX_free(m);
		return eng_ossl_err(err, KG_E_TOKEN,
		                    "cannot start a signature with the key");
	}
	*out = m;
	return KG_OK;
}

enum kg_code eng_sign_ctx(EVP_PKEY *key, const EVP_MD *md, int pss,
                          EVP_MD_CTX **out, struct kg_err *err)
{
	return sign_ctx(key, md, pss, out, err);
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
 * to verify the result with. Keys that are not RSA, EC or EdDSA are
 * refused.
 */
static enum kg_code set_pubkey(X509_PUBKEY *dst, EVP_PKEY *key,
                               EVP_PKEY **check, struct kg_err *err)
{
	X509_PUBKEY *xp = kg_pub_from_pkey(key);
	int ok;

	*check = NULL;
	if (xp == NULL)
		return kg_err_set(
		        err, KG_E_USAGE,
		        "unsupported key type '%s': keygate signs "
		        "with RSA, EC (P-256, P-384, P-521), Ed25519 "
		        "and Ed448 keys",
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
	EVP_MD_CTX *mctx = NULL;
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
	rc = sign_ctx(key, r->md, r->pss, &mctx, err);
	if (rc != KG_OK)
		goto out;
	if (X509_REQ_sign_ctx(req, mctx) <= 0) {
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
	EVP_MD_CTX_free(mctx);
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

/* What a certificate is made of; built and signed by build_cert. */
struct cert_spec {
	const struct eng_request *r; /* subject, SAN, digest */
	enum eng_profile profile;
	time_t not_before, not_after;
	EVP_PKEY *subject_key; /* whose public key it certifies */
	/* that key as a request carried it: copied as is, or NULL */
	const X509_PUBKEY *subject_spki;
	X509 *issuer;     /* NULL: self-signed */
	EVP_PKEY *signer; /* the issuer's (or its own) private key */
	const STACK_OF(X509_EXTENSION) * copy; /* more extensions, or NULL */
};

static const int profile_nids[] = {NID_basic_constraints,
                                   NID_key_usage,
                                   NID_ext_key_usage,
                                   NID_subject_key_identifier,
                                   NID_authority_key_identifier,
                                   NID_subject_alt_name};

static enum kg_code build_cert(const struct cert_spec *c, X509 **out,
                               struct kg_err *err)
{
	const struct eng_request *r = c->r;
	X509 *x = NULL;
	EVP_PKEY *pub = NULL, *check;
	EVP_MD_CTX *mctx = NULL;
	X509V3_CTX ctx;
	GENERAL_NAMES *owned = NULL;
	const GENERAL_NAMES *san;
	const char *ku;
	int ca = c->profile == ENG_PROFILE_CA ||
	         c->profile == ENG_PROFILE_INTERMEDIATE;
	enum kg_code rc;
	int i;
	size_t k;

	*out = NULL;
	rc = effective_san(r, &owned, &san, err);
	if (rc != KG_OK)
		return rc;
	x = X509_new();
	if (x == NULL || !X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_subject_name(x, r->subject) ||
	    !X509_set_issuer_name(x, c->issuer
	                                     ? X509_get_subject_name(c->issuer)
	                                     : r->subject) ||
	    X509_time_adj_ex(X509_getm_notBefore(x), 0, 0,
	                     (time_t *)&c->not_before) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), 0, 0,
	                     (time_t *)&c->not_after) == NULL) {
		rc = eng_ossl_err(err, KG_E_RUNTIME,
		                  "cannot build certificate");
		goto out;
	}
	rc = random_serial(x, err);
	if (rc != KG_OK)
		goto out;
	if (c->subject_spki != NULL) {
		if (!kg_pub_copy(X509_get_X509_PUBKEY(x), c->subject_spki)) {
			rc = eng_ossl_err(err, KG_E_RUNTIME,
			                  "cannot set the public key");
			goto out;
		}
	} else {
		rc = set_pubkey(X509_get_X509_PUBKEY(x), c->subject_key, &pub,
		                err);
		if (rc != KG_OK)
			goto out;
	}
	X509V3_set_ctx(&ctx, c->issuer ? c->issuer : x, x, NULL, NULL, 0);
	if (c->profile == ENG_PROFILE_INTERMEDIATE)
		rc = add_ext(x, &ctx, NID_basic_constraints,
		             "critical,CA:TRUE,pathlen:0", err);
	else
		rc = add_ext(x, &ctx, NID_basic_constraints,
		             ca ? "critical,CA:TRUE" : "critical,CA:FALSE",
		             err);
	ku = ca ? "critical,keyCertSign,cRLSign,digitalSignature"
	     : eng_key_is_rsa(c->subject_key)
	             ? "critical,digitalSignature,keyEncipherment"
	             : "critical,digitalSignature";
	if (rc == KG_OK)
		rc = add_ext(x, &ctx, NID_key_usage, ku, err);
	if (rc == KG_OK && !ca)
		rc = add_ext(x, &ctx, NID_ext_key_usage,
		             c->profile == ENG_PROFILE_CLIENT ? "clientAuth"
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
	/* --copy-extensions: what the profile does not decide */
	for (i = 0; c->copy != NULL && i < sk_X509_EXTENSION_num(c->copy);
	     i++) {
		X509_EXTENSION *e = sk_X509_EXTENSION_value(c->copy, i);
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(e)), skip = 0;

		for (k = 0; k < sizeof(profile_nids) / sizeof(profile_nids[0]);
		     k++)
			skip |= nid == profile_nids[k];
		if (!skip && !X509_add_ext(x, e, -1)) {
			rc = eng_ossl_err(err, KG_E_RUNTIME,
			                  "cannot copy an extension");
			goto out;
		}
	}
	rc = sign_ctx(c->signer, r->md, r->pss, &mctx, err);
	if (rc != KG_OK)
		goto out;
	if (X509_sign_ctx(x, mctx) <= 0) {
		rc = eng_ossl_err(err, KG_E_TOKEN,
		                  "signing the certificate failed");
		goto out;
	}
	check = c->issuer ? X509_get0_pubkey(c->issuer) : pub;
	if (check == NULL || X509_verify(x, check) != 1) {
		rc = eng_ossl_err(err, KG_E_TOKEN,
		                  "the certificate's signature does not "
		                  "verify with the issuer's public key");
		goto out;
	}
	*out = x;
	x = NULL;
out:
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_free(pub);
	X509_free(x);
	GENERAL_NAMES_free(owned);
	return rc;
}

enum kg_code eng_cert_selfsign(const struct eng_request *r,
                               enum eng_profile profile, int days, time_t now,
                               EVP_PKEY *key, X509 **out, struct kg_err *err)
{
	struct cert_spec c = {r,   profile, now,  now + (time_t)days * 86400,
	                      key, NULL,    NULL, key,
	                      NULL};

	*out = NULL;
	if (days < 1 || days > 36500)
		return kg_err_set(
		        err, KG_E_USAGE,
		        "a validity of %d days: it must be 1 to 36500", days);
	if (profile == ENG_PROFILE_INTERMEDIATE)
		return kg_err_set(err, KG_E_USAGE,
		                  "an intermediate is issued by a CA (keygate "
		                  "cert sign), not self-signed; a root is "
		                  "profile ca");
	return build_cert(&c, out, err);
}

/* Does the request ask for a CA certificate? */
static int csr_wants_ca(const STACK_OF(X509_EXTENSION) * exts)
{
	BASIC_CONSTRAINTS *bc = NULL;
	int i, ca;

	i = exts ? X509v3_get_ext_by_NID(exts, NID_basic_constraints, -1) : -1;
	if (i >= 0)
		bc = X509V3_EXT_d2i(X509v3_get_ext(exts, i));
	ca = bc != NULL && bc->ca;
	BASIC_CONSTRAINTS_free(bc);
	return ca;
}

enum kg_code eng_issuer_check(const struct eng_issue *in, struct kg_err *err)
{
	X509_PUBKEY *ca_pub = NULL;
	unsigned char *a = NULL, *b = NULL;
	enum kg_code rc = KG_OK;
	int alen, blen;

	/* the CA: its key, its CA bit, its validity now */
	ca_pub = kg_pub_from_pkey(in->ca_key);
	alen = ca_pub ? i2d_X509_PUBKEY(ca_pub, &a) : -1;
	blen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(in->ca_cert), &b);
	if (alen <= 0 || alen != blen || memcmp(a, b, (size_t)alen) != 0)
		rc = kg_err_set(err, KG_REFUSED,
		                "the CA key is not the CA certificate's key");
	else if (X509_check_ca(in->ca_cert) == 0)
		rc = kg_err_set(err, KG_REFUSED,
		                "the CA certificate is not a CA (no "
		                "basicConstraints CA:TRUE with keyCertSign)");
	else if (X509_cmp_time(X509_get0_notAfter(in->ca_cert),
	                       (time_t *)&in->now) < 0 ||
	         X509_cmp_time(X509_get0_notBefore(in->ca_cert),
	                       (time_t *)&in->now) > 0)
		rc = kg_err_set(err, KG_REFUSED,
		                "the CA certificate is not valid now (expired "
		                "or not yet valid); nothing issued");
	else if (in->profile == ENG_PROFILE_CA)
		rc = kg_err_set(err, KG_E_USAGE,
		                "cert sign issues server, client or "
		                "intermediate certificates; a root is "
		                "self-signed (cert selfsign, profile ca)");
	ERR_clear_error();
	OPENSSL_free(a);
	OPENSSL_free(b);
	X509_PUBKEY_free(ca_pub);
	return rc;
}

enum kg_code eng_cert_issue(const struct eng_issue *in, X509 **out,
                            struct kg_err *err)
{
	struct eng_request r = {0};
	struct cert_spec c = {0};
	const STACK_OF(X509_EXTENSION) *exts = eng_csr_extensions(in->csr);
	GENERAL_NAMES *csr_san = NULL;
	time_t not_after;
	char *who = NULL;
	enum kg_code rc = KG_OK;
	int i;

	*out = NULL;
	if (in->capped != NULL)
		*in->capped = 0;
	if (in->days < 1 || in->days > 36500)
		return kg_err_set(
		        err, KG_E_USAGE,
		        "a validity of %d days: it must be 1 to 36500",
		        in->days);
	who = eng_name_str(eng_csr_subject(in->csr));
	/* the request's own signature first */
	if (!eng_csr_verify(in->csr)) {
		rc = kg_err_set(err, KG_REFUSED,
		                "the request for '%s' has a signature that "
		                "does not verify: it was altered, or not made "
		                "with its key; nothing issued",
		                who ? who : "");
		goto out;
	}
	if (!in->ca_checked) {
		rc = eng_issuer_check(in, err);
		if (rc != KG_OK)
			goto out;
	}
	if (in->profile != ENG_PROFILE_INTERMEDIATE && csr_wants_ca(exts)) {
		rc = kg_err_set(err, KG_REFUSED,
		                "the request for '%s' asks for CA:TRUE, which "
		                "a %s certificate cannot be (a CA is profile "
		                "intermediate)",
		                who ? who : "", eng_profile_name(in->profile));
		goto out;
	}
	/* the names: overrides, else the request's */
	i = exts ? X509v3_get_ext_by_NID(exts, NID_subject_alt_name, -1) : -1;
	if (i >= 0)
		csr_san = X509V3_EXT_d2i(X509v3_get_ext(exts, i));
	r.subject = in->subject ? in->subject : eng_csr_subject(in->csr);
	r.san = in->san ? in->san : csr_san;
	r.md = in->md;
	r.pss = in->pss;
	/* no longer than the issuer */
	not_after = in->now + (time_t)in->days * 86400;
	if (X509_cmp_time(X509_get0_notAfter(in->ca_cert), &not_after) < 0) {
		struct tm tm;

		if (ASN1_TIME_to_tm(X509_get0_notAfter(in->ca_cert), &tm))
			not_after = timegm(&tm);
		if (in->capped != NULL)
			*in->capped = 1;
	}
	c.r = &r;
	c.profile = in->profile;
	c.not_before = in->now;
	c.not_after = not_after;
	c.subject_key = eng_csr_pubkey(in->csr);
	c.subject_spki = eng_csr_spki(in->csr);
	c.issuer = in->ca_cert;
	c.signer = in->ca_key;
	c.copy = in->copy_extensions ? exts : NULL;
	rc = build_cert(&c, out, err);
out:
	ERR_clear_error();
	OPENSSL_free(who);
	GENERAL_NAMES_free(csr_san);
	return rc;
}
