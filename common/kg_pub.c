#include "common/kg_pub.h"

#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>

X509_PUBKEY *kg_pub_rsa(const BIGNUM *n, const BIGNUM *e)
{
	ASN1_SEQUENCE_ANY *seq = sk_ASN1_TYPE_new_null();
	X509_PUBKEY *xp = NULL;
	unsigned char *der = NULL;
	const BIGNUM *v[2] = {n, e};
	int len = -1, i;

	/* RSAPublicKey ::= SEQUENCE { modulus INTEGER, exponent INTEGER } */
	for (i = 0; seq != NULL && i < 2; i++) {
		ASN1_TYPE *t = ASN1_TYPE_new();
		ASN1_INTEGER *ai = BN_to_ASN1_INTEGER(v[i], NULL);

		if (t == NULL || ai == NULL || !sk_ASN1_TYPE_push(seq, t)) {
			ASN1_TYPE_free(t);
			ASN1_INTEGER_free(ai);
			goto out;
		}
		ASN1_TYPE_set(t, V_ASN1_INTEGER, ai);
	}
	if (seq == NULL || (len = i2d_ASN1_SEQUENCE_ANY(seq, &der)) <= 0)
		goto out;
	xp = X509_PUBKEY_new();
	if (xp == NULL ||
	    !X509_PUBKEY_set0_param(xp, OBJ_nid2obj(NID_rsaEncryption),
	                            V_ASN1_NULL, NULL, der, len)) {
		X509_PUBKEY_free(xp);
		xp = NULL;
		goto out;
	}
	der = NULL; /* owned by xp */
out:
	OPENSSL_free(der);
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	return xp;
}

X509_PUBKEY *kg_pub_ec(int curve_nid, const unsigned char *point, size_t len)
{
	X509_PUBKEY *xp = X509_PUBKEY_new();
	ASN1_OBJECT *curve = OBJ_nid2obj(curve_nid);
	unsigned char *copy = OPENSSL_memdup(point, len);

	if (xp == NULL || curve == NULL || copy == NULL || len == 0 ||
	    !X509_PUBKEY_set0_param(xp, OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
	                            V_ASN1_OBJECT, curve, copy, (int)len)) {
		X509_PUBKEY_free(xp);
		OPENSSL_free(copy);
		return NULL;
	}
	return xp;
}

X509_PUBKEY *kg_pub_ed(int nid, const unsigned char *key, size_t len)
{
	X509_PUBKEY *xp = X509_PUBKEY_new();
	unsigned char *copy = OPENSSL_memdup(key, len);

	/* RFC 8410: the algorithm's OID, no parameters, the raw key */
	if (xp == NULL || copy == NULL || len == 0 ||
	    (nid != NID_ED25519 && nid != NID_ED448) ||
	    !X509_PUBKEY_set0_param(xp, OBJ_nid2obj(nid), V_ASN1_UNDEF, NULL,
	                            copy, (int)len)) {
		X509_PUBKEY_free(xp);
		OPENSSL_free(copy);
		return NULL;
	}
	return xp;
}

/* NID_ED25519/NID_ED448 for an EdDSA key (software or a token's), else
 * NID_undef. */
static int ed_nid(const EVP_PKEY *k)
{
	if (EVP_PKEY_is_a(k, "ED25519") || EVP_PKEY_is_a(k, "KG-ED25519"))
		return NID_ED25519;
	if (EVP_PKEY_is_a(k, "ED448") || EVP_PKEY_is_a(k, "KG-ED448"))
		return NID_ED448;
	return NID_undef;
}

X509_PUBKEY *kg_pub_from_pkey(const EVP_PKEY *k)
{
	BIGNUM *n = NULL, *e = NULL;
	X509_PUBKEY *xp = NULL;
	char group[64];
	unsigned char pt[256];
	size_t glen = 0, ptlen = 0;

	if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &n) &&
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &e)) {
		xp = kg_pub_rsa(n, e);
	} else if (EVP_PKEY_get_utf8_string_param(
	                   k, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
	                   &glen) &&
	           EVP_PKEY_get_octet_string_param(
	                   k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt,
	                   sizeof(pt), &ptlen)) {
		xp = kg_pub_ec(OBJ_sn2nid(group), pt, ptlen);
	} else if (ed_nid(k) != NID_undef &&
	           EVP_PKEY_get_octet_string_param(
	                   k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt,
	                   sizeof(pt), &ptlen)) {
		xp = kg_pub_ed(ed_nid(k), pt, ptlen);
	}
	BN_free(n);
	BN_free(e);
	ERR_clear_error(); /* a missing parameter is an answer, not an error */
	return xp;
}

int kg_pub_copy(X509_PUBKEY *dst, const X509_PUBKEY *src)
{
	ASN1_OBJECT *obj;
	const unsigned char *key;
	int klen, ptype;
	X509_ALGOR *alg;
	const void *pval;
	void *pcopy = NULL;
	unsigned char *kcopy;

	if (!X509_PUBKEY_get0_param(&obj, &key, &klen, &alg, src))
		return 0;
	X509_ALGOR_get0((const ASN1_OBJECT **)&obj, &ptype, &pval, alg);
	if (ptype == V_ASN1_OBJECT) {
		pcopy = OBJ_dup(pval);
		if (pcopy == NULL)
			return 0;
	} else if (ptype != V_ASN1_NULL && ptype != V_ASN1_UNDEF) {
		return 0; /* only what kg_pub_rsa and kg_pub_ec make */
	}
	kcopy = OPENSSL_memdup(key, (size_t)klen);
	if (kcopy == NULL || !X509_PUBKEY_set0_param(dst, OBJ_dup(obj), ptype,
	                                             pcopy, kcopy, klen)) {
		ASN1_OBJECT_free(pcopy);
		OPENSSL_free(kcopy);
		return 0;
	}
	return 1;
}

EVP_PKEY *kg_pub_to_pkey(const X509_PUBKEY *src)
{
	ASN1_OBJECT *obj;
	const unsigned char *key, *p;
	int klen, ptype, nid;
	X509_ALGOR *alg;
	const void *pval;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pk = NULL;
	ASN1_SEQUENCE_ANY *seq = NULL;
	BIGNUM *n = NULL, *e = NULL;
	const char *type = NULL;

	if (bld == NULL ||
	    !X509_PUBKEY_get0_param(&obj, &key, &klen, &alg, src))
		goto out;
	X509_ALGOR_get0((const ASN1_OBJECT **)&obj, &ptype, &pval, alg);
	nid = OBJ_obj2nid(obj);
	if (nid == NID_rsaEncryption) {
		ASN1_TYPE *tn, *te;

		p = key;
		seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, klen);
		if (seq == NULL || sk_ASN1_TYPE_num(seq) != 2)
			goto out;
		tn = sk_ASN1_TYPE_value(seq, 0);
		te = sk_ASN1_TYPE_value(seq, 1);
		if (tn->type != V_ASN1_INTEGER || te->type != V_ASN1_INTEGER)
			goto out;
		n = ASN1_INTEGER_to_BN(tn->value.integer, NULL);
		e = ASN1_INTEGER_to_BN(te->value.integer, NULL);
		if (n == NULL || e == NULL ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e))
			goto out;
		type = "RSA";
	} else if (nid == NID_X9_62_id_ecPublicKey && ptype == V_ASN1_OBJECT) {
		if (!OSSL_PARAM_BLD_push_utf8_string(
		            bld, OSSL_PKEY_PARAM_GROUP_NAME,
		            OBJ_nid2sn(OBJ_obj2nid(pval)), 0) ||
		    !OSSL_PARAM_BLD_push_octet_string(
		            bld, OSSL_PKEY_PARAM_PUB_KEY, key, (size_t)klen))
			goto out;
		type = "EC";
	} else if ((nid == NID_ED25519 || nid == NID_ED448) &&
	           ptype == V_ASN1_UNDEF) {
		pk = EVP_PKEY_new_raw_public_key_ex(
		        NULL, nid == NID_ED25519 ? "ED25519" : "ED448",
		        "provider=default", key, (size_t)klen);
		goto out;
	} else {
		goto out;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(NULL, type, "provider=default");
	if (params == NULL || ctx == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pk = NULL;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	BN_free(n);
	BN_free(e);
	ERR_clear_error();
	return pk;
}
