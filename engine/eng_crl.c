/* Certificate revocation lists, signed by any EVP_PKEY. */
#include "engine/eng.h"

#include <string.h>
#include <strings.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "common/kg_json.h"
#include "common/kg_pub.h"

static const struct {
	const char *name;
	int code;
} reasons[] = {
        {"unspecified", CRL_REASON_UNSPECIFIED},
        {"keyCompromise", CRL_REASON_KEY_COMPROMISE},
        {"cACompromise", CRL_REASON_CA_COMPROMISE},
        {"affiliationChanged", CRL_REASON_AFFILIATION_CHANGED},
        {"superseded", CRL_REASON_SUPERSEDED},
        {"cessationOfOperation", CRL_REASON_CESSATION_OF_OPERATION},
        {"privilegeWithdrawn", CRL_REASON_PRIVILEGE_WITHDRAWN},
};

#define NREASONS (sizeof(reasons) / sizeof(reasons[0]))

enum kg_code eng_crl_reason_parse(const char *s, int *out, struct kg_err *err)
{
	size_t i;

	*out = CRL_REASON_UNSPECIFIED;
	if (s == NULL)
		return KG_OK;
	for (i = 0; i < NREASONS; i++)
		if (strcasecmp(s, reasons[i].name) == 0) {
			*out = reasons[i].code;
			return KG_OK;
		}
	if (strcasecmp(s, "certificateHold") == 0)
		return kg_err_set(err, KG_E_USAGE,
		                  "--reason certificateHold is not taken: a "
		                  "hold is lifted by removeFromCRL, which "
		                  "keygate does not do; revoke for good with "
		                  "another reason");
	return kg_err_set(err, KG_E_USAGE,
	                  "unknown --reason '%s': use unspecified, "
	                  "keyCompromise, cACompromise, affiliationChanged, "
	                  "superseded, cessationOfOperation or "
	                  "privilegeWithdrawn",
	                  s);
}

const char *eng_crl_reason_name(int reason)
{
	size_t i;

	for (i = 0; i < NREASONS; i++)
		if (reasons[i].code == reason)
			return reasons[i].name;
	return NULL;
}

int eng_spki_sha256(const X509_PUBKEY *p, char out[65])
{
	unsigned char *der = NULL, d[32];
	unsigned int dl = 0;
	int n = p ? i2d_X509_PUBKEY(p, &der) : -1;
	int ok = n > 0 &&
	         EVP_Digest(der, (size_t)n, d, &dl, EVP_sha256(), NULL) == 1;

	OPENSSL_free(der);
	out[0] = '\0';
	if (ok)
		kg_hex(d, sizeof(d), out);
	return ok;
}

int eng_key_spki_sha256(const EVP_PKEY *k, char out[65])
{
	X509_PUBKEY *p = kg_pub_from_pkey(k);
	int ok = eng_spki_sha256(p, out);

	X509_PUBKEY_free(p);
	return ok;
}

enum kg_code eng_crl_ca_check(X509 *ca_cert, EVP_PKEY *ca_key,
                              struct kg_err *err)
{
	X509_PUBKEY *ca_pub = kg_pub_from_pkey(ca_key);
	unsigned char *a = NULL, *b = NULL;
	enum kg_code rc = KG_OK;
	int alen, blen;

	alen = ca_pub ? i2d_X509_PUBKEY(ca_pub, &a) : -1;
	blen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(ca_cert), &b);
	if (alen <= 0 || alen != blen || memcmp(a, b, (size_t)alen) != 0)
		rc = kg_err_set(err, KG_REFUSED,
		                "the CA key is not the CA certificate's key; "
		                "nothing signed or recorded: give the key and "
		                "certificate of one CA");
	else if (X509_check_ca(ca_cert) == 0)
		rc = kg_err_set(err, KG_REFUSED,
		                "the CA certificate is not a CA (no "
		                "basicConstraints CA:TRUE)");
	else if ((X509_get_extension_flags(ca_cert) & EXFLAG_KUSAGE) &&
	         !(X509_get_key_usage(ca_cert) & KU_CRL_SIGN))
		rc = kg_err_set(err, KG_REFUSED,
		                "the CA certificate's key usage does not "
		                "allow cRLSign: a CRL it signed would not be "
		                "accepted");
	ERR_clear_error();
	OPENSSL_free(a);
	OPENSSL_free(b);
	X509_PUBKEY_free(ca_pub);
	return rc;
}

/* The CA's key identifier: its SKI, else SHA-1 of its public key bits
 * (RFC 5280 4.2.1.2 method 1). New; ASN1_OCTET_STRING_free. */
static ASN1_OCTET_STRING *ca_keyid(X509 *ca)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(ca);
	ASN1_OCTET_STRING *id;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdl = 0;

	if (ski != NULL)
		return ASN1_OCTET_STRING_dup(ski);
	if (!X509_pubkey_digest(ca, EVP_sha1(), md, &mdl))
		return NULL;
	id = ASN1_OCTET_STRING_new();
	if (id != NULL && !ASN1_OCTET_STRING_set(id, md, (int)mdl)) {
		ASN1_OCTET_STRING_free(id);
		id = NULL;
	}
	return id;
}

static enum kg_code add_entry(X509_CRL *crl, const struct eng_crl_entry *e,
                              struct kg_err *err)
{
	X509_REVOKED *rv = X509_REVOKED_new();
	ASN1_TIME *t = ASN1_TIME_set(NULL, e->revoked);
	ASN1_ENUMERATED *code = NULL;
	ASN1_INTEGER *sn = NULL;
	BIGNUM *bn = NULL;
	int hl = e->serial ? BN_hex2bn(&bn, e->serial) : 0, ok;

	/* the whole string is hex, not a prefix of it, and not negative */
	ok = rv != NULL && t != NULL && hl > 0 &&
	     (size_t)hl == strlen(e->serial) && !BN_is_negative(bn) &&
	     (sn = BN_to_ASN1_INTEGER(bn, NULL)) != NULL &&
	     X509_REVOKED_set_serialNumber(rv, sn) &&
	     X509_REVOKED_set_revocationDate(rv, t);
	if (!ok) {
		X509_REVOKED_free(rv);
		rv = NULL;
		eng_ossl_err(err, KG_E_USAGE, "a revoked serial");
		goto out;
	}
	if (e->reason != CRL_REASON_UNSPECIFIED) {
		/* RFC 5280 5.3.1: unspecified is said by leaving it out */
		code = ASN1_ENUMERATED_new();
		ok = code != NULL && ASN1_ENUMERATED_set(code, e->reason) &&
		     X509_REVOKED_add1_ext_i2d(rv, NID_crl_reason, code, 0,
		                               0) == 1;
	}
	if (ok)
		ok = X509_CRL_add0_revoked(crl, rv);
	if (!ok) {
		X509_REVOKED_free(rv);
		eng_ossl_err(err, KG_E_RUNTIME, "cannot add a revoked entry");
	}
out:
	ASN1_ENUMERATED_free(code);
	ASN1_INTEGER_free(sn);
	ASN1_TIME_free(t);
	BN_free(bn);
	return ok ? KG_OK : err->code;
}

enum kg_code eng_crl_build(const struct eng_crl_req *r, X509_CRL **out,
                           struct kg_err *err)
{
	X509_CRL *crl = NULL;
	ASN1_TIME *tu = NULL, *nu = NULL;
	ASN1_INTEGER *num = NULL;
	AUTHORITY_KEYID *akid = NULL;
	EVP_MD_CTX *mctx = NULL;
	enum kg_code rc;
	size_t i;

	*out = NULL;
	if (r->days < 1 || r->days > 36500)
		return kg_err_set(err, KG_E_USAGE,
		                  "a CRL valid for %d days: it must be 1 to "
		                  "36500",
		                  r->days);
	if (r->number < 1)
		return kg_err_set(err, KG_E_USAGE, "CRL numbers start at 1");
	rc = eng_crl_ca_check(r->ca_cert, r->ca_key, err);
	if (rc != KG_OK)
		return rc;
	crl = X509_CRL_new();
	tu = ASN1_TIME_set(NULL, r->this_update);
	nu = ASN1_TIME_adj(NULL, r->this_update, r->days, 0);
	num = ASN1_INTEGER_new();
	akid = AUTHORITY_KEYID_new();
	if (crl == NULL || tu == NULL || nu == NULL || num == NULL ||
	    akid == NULL || !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl,
	                              X509_get_subject_name(r->ca_cert)) ||
	    !X509_CRL_set1_lastUpdate(crl, tu) ||
	    !X509_CRL_set1_nextUpdate(crl, nu) ||
	    !ASN1_INTEGER_set_uint64(num, (uint64_t)r->number) ||
	    (akid->keyid = ca_keyid(r->ca_cert)) == NULL ||
	    X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0,
	                          0) != 1 ||
	    X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) != 1) {
		rc = eng_ossl_err(err, KG_E_RUNTIME, "cannot build the CRL");
		goto out;
	}
	for (i = 0; i < r->n; i++) {
		rc = add_entry(crl, &r->entries[i], err);
		if (rc != KG_OK)
			goto out;
	}
	if (!X509_CRL_sort(crl)) {
		rc = eng_ossl_err(err, KG_E_RUNTIME, "cannot sort the CRL");
		goto out;
	}
	rc = eng_sign_ctx(r->ca_key, r->md, r->pss, &mctx, err);
	if (rc != KG_OK)
		goto out;
	if (X509_CRL_sign_ctx(crl, mctx) <= 0) {
		rc = eng_ossl_err(err, KG_E_TOKEN, "signing the CRL failed");
		goto out;
	}
	/* checked with the CA certificate's key before anyone sees it */
	if (X509_CRL_verify(crl, X509_get0_pubkey(r->ca_cert)) != 1) {
		rc = eng_ossl_err(err, KG_E_TOKEN,
		                  "the CRL's signature does not verify with "
		                  "the CA certificate's public key");
		goto out;
	}
	*out = crl;
	crl = NULL;
out:
	EVP_MD_CTX_free(mctx);
	AUTHORITY_KEYID_free(akid);
	ASN1_INTEGER_free(num);
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	X509_CRL_free(crl);
	return rc;
}

enum kg_code eng_pem_crl(X509_CRL *crl, char **out, size_t *len,
                         struct kg_err *err)
{
	BIO *b = BIO_new(BIO_s_mem());
	enum kg_code rc = KG_OK;

	*out = NULL;
	if (b == NULL || !PEM_write_bio_X509_CRL(b, crl))
		rc = eng_ossl_err(err, KG_E_RUNTIME, "cannot write the CRL");
	else if ((*out = eng_bio_str(b, len)) == NULL)
		rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
	BIO_free(b);
	return rc;
}
