/*
 * Reading a key's secret parts out of the token: the only file that
 * touches private key material, and only for keys the export gate passed.
 */
#include "hsm/hsm_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>

/* ---- export ---------------------------------------------------------- */

enum kg_code hsm_key_export_flags(struct hsm_key *k, int *sensitive,
                                  int *extractable, struct kg_err *err)
{
	return hsm_key_flags_alone(k->t, k->priv, sensitive, extractable, err);
}

enum kg_code hsm_key_export(struct hsm_key *k, EVP_PKEY **out,
                            struct kg_err *err)
{
	static const struct {
		CK_ATTRIBUTE_TYPE type;
		const char *param;
	} rsa[] = {
	        {CKA_MODULUS, OSSL_PKEY_PARAM_RSA_N},
	        {CKA_PUBLIC_EXPONENT, OSSL_PKEY_PARAM_RSA_E},
	        {CKA_PRIVATE_EXPONENT, OSSL_PKEY_PARAM_RSA_D},
	        {CKA_PRIME_1, OSSL_PKEY_PARAM_RSA_FACTOR1},
	        {CKA_PRIME_2, OSSL_PKEY_PARAM_RSA_FACTOR2},
	        {CKA_EXPONENT_1, OSSL_PKEY_PARAM_RSA_EXPONENT1},
	        {CKA_EXPONENT_2, OSSL_PKEY_PARAM_RSA_EXPONENT2},
	        {CKA_COEFFICIENT, OSSL_PKEY_PARAM_RSA_COEFFICIENT1},
	};
	CK_ATTRIBUTE at[8];
	CK_ULONG n, i;
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	BIGNUM *bn[8] = {0};
	enum kg_code rc = KG_OK;
	CK_RV rv;

	*out = NULL;
	if (bld == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	n = k->info.type == HSM_KEY_RSA ? 8 : 1;
	for (i = 0; i < n; i++) {
		at[i].type =
		        k->info.type == HSM_KEY_RSA ? rsa[i].type : CKA_VALUE;
		at[i].ulValueLen = 0;
	}
	rv = hsm_obj_attrs(k->t, k->priv, at, n);
	for (i = 0; rv == CKR_OK && i < n; i++)
		if (at[i].pValue == NULL)
			rv = CKR_ATTRIBUTE_SENSITIVE;
	if (rv == CKR_ATTRIBUTE_SENSITIVE) {
		/* the token's last word on it, whatever its flags said */
		rc = kg_err_set(
		        err, KG_REFUSED,
		        "token '%s' refuses to give out the private key "
		        "'%s' (C_GetAttributeValue: "
		        "CKR_ATTRIBUTE_SENSITIVE), though its "
		        "attributes read as exportable",
		        k->t->label, k->info.label ? k->info.label : "");
		goto out;
	}
	if (rv != CKR_OK) {
		rc = hsm_rv_err(err, rv,
		                "C_GetAttributeValue (the private key)",
		                k->t->label);
		goto out;
	}
	for (i = 0; i < n; i++) {
		bn[i] = BN_secure_new();
		if (bn[i] == NULL ||
		    BN_bin2bn(at[i].pValue, (int)at[i].ulValueLen, bn[i]) ==
		            NULL) {
			rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
			goto out;
		}
	}
	if (k->info.type == HSM_KEY_RSA) {
		for (i = 0; i < n; i++)
			if (!OSSL_PARAM_BLD_push_BN(bld, rsa[i].param, bn[i]))
				rc = KG_E_RUNTIME;
	} else if (!OSSL_PARAM_BLD_push_utf8_string(
	                   bld, OSSL_PKEY_PARAM_GROUP_NAME,
	                   OBJ_nid2sn(k->curve_nid), 0) ||
	           !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY,
	                                   bn[0]) ||
	           !OSSL_PARAM_BLD_push_octet_string(
	                   bld, OSSL_PKEY_PARAM_PUB_KEY, k->pa, k->pa_len)) {
		rc = KG_E_RUNTIME;
	}
	if (rc == KG_OK)
		params = OSSL_PARAM_BLD_to_param(bld);
	ctx = EVP_PKEY_CTX_new_from_name(
	        NULL, k->info.type == HSM_KEY_RSA ? "RSA" : "EC",
	        "provider=default");
	if (rc != KG_OK || params == NULL || ctx == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_KEYPAIR, params) <= 0) {
		EVP_PKEY_free(*out);
		*out = NULL;
		rc = kg_err_set(err, KG_E_TOKEN,
		                "the token's private key components for '%s' "
		                "do not make a valid key",
		                k->info.label ? k->info.label : "");
	}
out:
	for (i = 0; i < n; i++) {
		if (at[i].pValue != NULL)
			OPENSSL_cleanse(at[i].pValue, at[i].ulValueLen);
		free(at[i].pValue);
		BN_clear_free(bn[i]);
	}
	OSSL_PARAM_free(params); /* secure BNs: the block is cleared */
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return rc;
}
