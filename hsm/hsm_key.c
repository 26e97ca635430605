/* Keys on a token: describe, list, find, and hand out as EVP_PKEY. */
#include "hsm/hsm_int.h"

#include "common/kg_pub.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

/* ---- public key ------------------------------------------------------ */

/*
 * The public key: SubjectPublicKeyInfo DER (for the provider's encoder)
 * and the raw components (for its parameters). For RSA a = modulus,
 * b = exponent; for EC a = the point. No OpenSSL encoder is involved.
 */
static enum kg_code set_public(struct hsm_key *k, const unsigned char *a,
                               size_t alen, const unsigned char *b,
                               size_t blen, int nid, struct kg_err *err)
{
	X509_PUBKEY *xp = NULL;
	BIGNUM *n = NULL, *e = NULL;
	unsigned char *der = NULL;
	int len = -1;

	if (k->info.type == HSM_KEY_RSA) {
		n = BN_bin2bn(a, (int)alen, NULL);
		e = BN_bin2bn(b, (int)blen, NULL);
		if (n != NULL && e != NULL && !BN_is_zero(n))
			xp = kg_pub_rsa(n, e);
	} else {
		xp = kg_pub_ec(nid, a, alen);
	}
	if (xp != NULL)
		len = i2d_X509_PUBKEY(xp, &der);
	X509_PUBKEY_free(xp);
	BN_free(n);
	BN_free(e);
	if (len <= 0)
		return kg_err_set(err, KG_E_TOKEN,
		                  "the token's public key for '%s' is not a "
		                  "valid %s key",
		                  k->info.label ? k->info.label : "",
		                  k->info.type == HSM_KEY_RSA ? "RSA" : "EC");
	k->spki = der;
	k->spki_len = (size_t)len;
	k->pa = OPENSSL_memdup(a, alen);
	k->pa_len = alen;
	k->pb = blen ? OPENSSL_memdup(b, blen) : NULL;
	k->pb_len = blen;
	k->curve_nid = nid;
	if (k->pa == NULL || (blen && k->pb == NULL))
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	return KG_OK;
}

/*
 * The public key object paired with a private key (same CKA_ID): *pub, or
 * CK_INVALID_HANDLE when there is none. A failed search is an error.
 */
static enum kg_code public_of(struct hsm_token *t, const unsigned char *id,
                              size_t id_len, CK_OBJECT_HANDLE *pub,
                              struct kg_err *err)
{
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)},
	                       {CKA_ID, (void *)id, id_len}};
	CK_OBJECT_HANDLE *h = NULL;
	size_t n = 0;
	enum kg_code rc;

	*pub = CK_INVALID_HANDLE;
	if (id_len == 0)
		return KG_OK;
	rc = hsm_obj_find(t, tmpl, 2, &h, &n, err);
	if (rc == KG_OK && n >= 1)
		*pub = h[0];
	free(h);
	return rc;
}

/* A read of one public attribute: withheld or absent is not a failure. */
static enum kg_code pub_var(struct hsm_token *t, CK_OBJECT_HANDLE h,
                            CK_ATTRIBUTE_TYPE type, unsigned char **buf,
                            size_t *len, struct kg_err *err)
{
	CK_RV rv = hsm_obj_var(t, h, type, buf, len);

	if (rv == CKR_OK || rv == CKR_ATTRIBUTE_SENSITIVE ||
	    rv == CKR_ATTRIBUTE_TYPE_INVALID)
		return KG_OK;
	return hsm_rv_err(err, rv, "C_GetAttributeValue", t->label);
}

enum {
	A_KEY_TYPE,
	A_LABEL,
	A_ID,
	A_SENSITIVE,
	A_EXTRACTABLE,
	A_ALWAYS_SENSITIVE,
	A_NEVER_EXTRACTABLE,
	A_LOCAL,
	A_SIGN,
	A_MODULUS,
	A_EXPONENT,
	A_EC_PARAMS,
	A_COUNT
};

/*
 * Fills info for private key h; with k != NULL (whose info is info) also
 * the public key, which signing needs.
 */
/* pub: the public key object if known (no search), else CK_INVALID_HANDLE */
enum kg_code hsm_key_describe_obj(struct hsm_token *t, CK_OBJECT_HANDLE h,
                                  struct hsm_key_info *info, struct hsm_key *k,
                                  CK_OBJECT_HANDLE known_pub,
                                  struct kg_err *err)
{
	CK_ATTRIBUTE at[A_COUNT] = {
	        {CKA_KEY_TYPE, NULL, 0},
	        {CKA_LABEL, NULL, 0},
	        {CKA_ID, NULL, 0},
	        {CKA_SENSITIVE, NULL, 0},
	        {CKA_EXTRACTABLE, NULL, 0},
	        {CKA_ALWAYS_SENSITIVE, NULL, 0},
	        {CKA_NEVER_EXTRACTABLE, NULL, 0},
	        {CKA_LOCAL, NULL, 0},
	        {CKA_SIGN, NULL, 0},
	        {CKA_MODULUS, NULL, 0},
	        {CKA_PUBLIC_EXPONENT, NULL, 0},
	        {CKA_EC_PARAMS, NULL, 0},
	};
	unsigned char *pa = NULL, *pb = NULL;
	size_t palen = 0, pblen = 0;
	CK_OBJECT_HANDLE pub;
	enum kg_code rc = KG_OK;
	const char *label;
	int nid = NID_undef, i;
	CK_RV rv;

	memset(info, 0, sizeof(*info));
	rv = hsm_obj_attrs(t, h, at, A_COUNT);
	if (rv != CKR_OK) {
		rc = hsm_rv_err(err, rv, "C_GetAttributeValue", t->label);
		goto out;
	}
	if (at[A_KEY_TYPE].pValue != NULL &&
	    at[A_KEY_TYPE].ulValueLen == sizeof(CK_KEY_TYPE)) {
		CK_KEY_TYPE kt = *(CK_KEY_TYPE *)at[A_KEY_TYPE].pValue;

		info->type = kt == CKK_RSA  ? HSM_KEY_RSA
		             : kt == CKK_EC ? HSM_KEY_EC
		                            : 0;
	}
	info->label = at[A_LABEL].pValue; /* NUL-terminated by hsm_obj_attrs */
	at[A_LABEL].pValue = NULL;
	label = info->label ? info->label : "";
	if (at[A_ID].pValue != NULL &&
	    at[A_ID].ulValueLen <= sizeof(info->id)) {
		memcpy(info->id, at[A_ID].pValue, at[A_ID].ulValueLen);
		info->id_len = at[A_ID].ulValueLen;
	}
	info->sensitive = hsm_attr_bool(&at[A_SENSITIVE]);
	info->extractable = hsm_attr_bool(&at[A_EXTRACTABLE]);
	info->always_sensitive = hsm_attr_bool(&at[A_ALWAYS_SENSITIVE]);
	info->never_extractable = hsm_attr_bool(&at[A_NEVER_EXTRACTABLE]);
	info->local = hsm_attr_bool(&at[A_LOCAL]);
	info->can_sign = hsm_attr_bool(&at[A_SIGN]);

	if (info->type == HSM_KEY_RSA) {
		if (at[A_MODULUS].pValue == NULL ||
		    at[A_EXPONENT].pValue == NULL) {
			/* some tokens keep them on the public object only */
			pub = known_pub;
			if (pub == CK_INVALID_HANDLE)
				rc = public_of(t, info->id, info->id_len, &pub,
				               err);
			if (rc == KG_OK && pub != CK_INVALID_HANDLE) {
				free(at[A_MODULUS].pValue);
				free(at[A_EXPONENT].pValue);
				at[A_MODULUS].pValue = at[A_EXPONENT].pValue =
				        NULL;
				rc = pub_var(t, pub, CKA_MODULUS,
				             (unsigned char **)&at[A_MODULUS]
				                     .pValue,
				             &palen, err);
				at[A_MODULUS].ulValueLen = palen;
				if (rc == KG_OK)
					rc = pub_var(t, pub,
					             CKA_PUBLIC_EXPONENT,
					             (unsigned char *
					                      *)&at[A_EXPONENT]
					                     .pValue,
					             &pblen, err);
				at[A_EXPONENT].ulValueLen = pblen;
			}
			if (rc != KG_OK)
				goto out;
		}
		if (at[A_MODULUS].pValue != NULL) {
			BIGNUM *n =
			        BN_bin2bn(at[A_MODULUS].pValue,
			                  (int)at[A_MODULUS].ulValueLen, NULL);

			info->bits = n ? BN_num_bits(n) : 0;
			BN_free(n);
		}
		if (k != NULL) {
			if (at[A_MODULUS].pValue == NULL ||
			    at[A_EXPONENT].pValue == NULL)
				rc = kg_err_set(err, KG_E_TOKEN,
				                "key '%s' on token '%s': the "
				                "token does not give its "
				                "public modulus and exponent",
				                label, t->label);
			else
				rc = set_public(k, at[A_MODULUS].pValue,
				                at[A_MODULUS].ulValueLen,
				                at[A_EXPONENT].pValue,
				                at[A_EXPONENT].ulValueLen, 0,
				                err);
		}
	} else if (info->type == HSM_KEY_EC) {
		pub = known_pub;
		if (pub == CK_INVALID_HANDLE &&
		    (at[A_EC_PARAMS].pValue == NULL || k != NULL))
			rc = public_of(t, info->id, info->id_len, &pub, err);
		if (rc == KG_OK && at[A_EC_PARAMS].pValue != NULL)
			nid = hsm_ec_curve(at[A_EC_PARAMS].pValue,
			                   at[A_EC_PARAMS].ulValueLen);
		else if (rc == KG_OK && pub != CK_INVALID_HANDLE) {
			rc = pub_var(t, pub, CKA_EC_PARAMS, &pa, &palen, err);
			if (pa != NULL)
				nid = hsm_ec_curve(pa, palen);
		}
		if (rc != KG_OK)
			goto out;
		info->bits = hsm_ec_bits(nid);
		info->curve = nid != NID_undef ? EC_curve_nid2nist(nid) : NULL;
		if (k != NULL) {
			const unsigned char *pt;
			size_t ptlen,
			        want = 2 * (((size_t)info->bits + 7) / 8) + 1;

			if (info->bits == 0)
				rc = kg_err_set(err, KG_E_TOKEN,
				                "key '%s' on token '%s' is on "
				                "a curve keygate does not "
				                "support",
				                label, t->label);
			else if (pub == CK_INVALID_HANDLE)
				rc = kg_err_set(
				        err, KG_E_TOKEN,
				        "key '%s' on token '%s' has no "
				        "public key object with its "
				        "id; cannot build its public "
				        "key",
				        label, t->label);
			else if ((rc = pub_var(t, pub, CKA_EC_POINT, &pb,
			                       &pblen, err)) != KG_OK)
				; /* rc and err set */
			else if (pb == NULL ||
			         !hsm_ec_point(pb, pblen, want, &pt, &ptlen))
				rc = kg_err_set(
				        err, KG_E_TOKEN,
				        "key '%s' on token '%s': its public "
				        "key object's CKA_EC_POINT is %s",
				        label, t->label,
				        pb == NULL
				                ? "not readable"
				                : "not a point on its curve");
			else
				rc = set_public(k, pt, ptlen, NULL, 0, nid,
				                err);
		}
	} else if (k != NULL) {
		rc = kg_err_set(err, KG_E_TOKEN,
		                "key '%s' on token '%s' is neither RSA nor EC",
		                label, t->label);
	}
	if (rc == KG_OK)
		rc = hsm_uri_build(&t->info, t->module_path, info->label,
		                   info->id, info->id_len, CKO_PRIVATE_KEY,
		                   &info->uri, err);
out:
	for (i = 0; i < A_COUNT; i++)
		free(at[i].pValue);
	free(pa);
	free(pb);
	return rc;
}

void hsm_key_info_clear(struct hsm_key_info *k)
{
	if (k == NULL)
		return;
	free(k->uri);
	free(k->label);
	memset(k, 0, sizeof(*k));
}

void hsm_key_info_free_array(struct hsm_key_info *k, size_t n)
{
	size_t i;

	if (k == NULL)
		return;
	for (i = 0; i < n; i++)
		hsm_key_info_clear(&k[i]);
	free(k);
}

/* ---- find ------------------------------------------------------------ */

static int by_label_id(const void *a, const void *b)
{
	const struct hsm_key_info *x = a, *y = b;
	int c = strcmp(x->label ? x->label : "", y->label ? y->label : "");
	size_t n = x->id_len < y->id_len ? x->id_len : y->id_len;

	if (c != 0)
		return c;
	c = memcmp(x->id, y->id, n);
	if (c != 0)
		return c;
	return x->id_len < y->id_len ? -1 : x->id_len > y->id_len;
}

static enum kg_code hsm_key_list_locked(struct hsm_token *t, const char *uri,
                                        struct hsm_key_info **out, size_t *n,
                                        struct kg_err *err)
{
	CK_OBJECT_HANDLE *h = NULL;
	struct hsm_key_info *v = NULL;
	size_t cnt = 0, i;
	enum kg_code rc;

	*out = NULL;
	*n = 0;
	rc = hsm_obj_find_uri(t, CKO_PRIVATE_KEY, uri, &h, &cnt, err);
	if (rc != KG_OK)
		return rc;
	if (cnt > 0) {
		v = calloc(cnt, sizeof(*v));
		if (v == NULL) {
			free(h);
			return kg_err_set(err, KG_E_RUNTIME, "out of memory");
		}
	}
	for (i = 0; i < cnt; i++) {
		rc = hsm_key_describe_obj(t, h[i], &v[i], NULL,
		                          CK_INVALID_HANDLE, err);
		if (rc != KG_OK) {
			hsm_key_info_free_array(v, cnt);
			free(h);
			return rc;
		}
	}
	free(h);
	/* by label, then id: the same list whatever order the token has
	 * (SoftHSM2's changes when the module is started anew) */
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), by_label_id);
	*out = v;
	*n = cnt;
	return KG_OK;
}

enum kg_code hsm_key_list(struct hsm_token *t, const char *uri,
                          struct hsm_key_info **out, size_t *n,
                          struct kg_err *err)
{
	enum kg_code rc;

	hsm_lock_shared(t->sh);
	rc = hsm_key_list_locked(t, uri, out, n, err);
	hsm_unlock(t->sh);
	return rc;
}

static enum kg_code hsm_key_find_locked(struct hsm_token *t, const char *uri,
                                        struct hsm_key **out,
                                        struct kg_err *err)
{
	CK_OBJECT_HANDLE *h = NULL;
	struct hsm_key *k = NULL;
	size_t cnt = 0, i, used = 0;
	char list[1400];
	enum kg_code rc;

	*out = NULL;
	rc = hsm_obj_find_uri(t, CKO_PRIVATE_KEY, uri, &h, &cnt, err);
	if (rc != KG_OK)
		return rc;
	if (cnt == 0) {
		char hint[512] = "";

		if (t->conf != NULL && t->conf->hint_keys != NULL)
			snprintf(hint, sizeof(hint), "%s '%s'",
			         t->conf->hint_keys, t->uri);
		rc = kg_err_set(err, KG_E_TOKEN,
		                "no private key matches '%s' on token '%s'%s",
		                uri, t->label, hsm_hint(hint));
		goto out;
	}
	if (cnt > 1) {
		list[0] = '\0';
		for (i = 0; i < cnt; i++) {
			struct hsm_key_info ki;

			if (hsm_key_describe_obj(t, h[i], &ki, NULL,
			                         CK_INVALID_HANDLE,
			                         NULL) == KG_OK &&
			    used + strlen(ki.uri) + 4 < sizeof(list))
				used += (size_t)snprintf(
				        list + used, sizeof(list) - used,
				        "%s%s", used ? "  " : "", ki.uri);
			hsm_key_info_clear(&ki);
		}
		rc = kg_err_set(err, KG_E_TOKEN,
		                "'%s' matches %zu private keys on token '%s'; "
		                "add id= to pick one: %s",
		                uri, cnt, t->label, list);
		goto out;
	}
	k = calloc(1, sizeof(*k));
	if (k == NULL) {
		rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
		goto out;
	}
	k->t = t;
	t->keys++;
	k->priv = h[0];
	rc = hsm_key_describe_obj(t, h[0], &k->info, k, CK_INVALID_HANDLE,
	                          err);
	if (rc != KG_OK)
		goto out;
	*out = k;
	k = NULL;
out:
	hsm_key_free(k);
	free(h);
	return rc;
}

enum kg_code hsm_key_find(struct hsm_token *t, const char *uri,
                          struct hsm_key **out, struct kg_err *err)
{
	enum kg_code rc;

	hsm_lock_shared(t->sh);
	rc = hsm_key_find_locked(t, uri, out, err);
	hsm_unlock(t->sh);
	return rc;
}

void hsm_key_free(struct hsm_key *k)
{
	if (k == NULL)
		return;
	if (k->t != NULL)
		k->t->keys--;
	hsm_key_info_clear(&k->info);
	OPENSSL_free(k->spki);
	OPENSSL_free(k->pa);
	OPENSSL_free(k->pb);
	free(k);
}

const struct hsm_key_info *hsm_key_describe(const struct hsm_key *k)
{
	return &k->info;
}

enum kg_code hsm_key_pkey(struct hsm_key *k, EVP_PKEY **out,
                          struct kg_err *err)
{
	struct hsm_signer sg = {
	        .f = k->t->f,
	        .s = k->t->s,
	        .obj = k->priv,
	        .type = k->info.type,
	        .bits = k->info.bits,
	        .spki = k->spki,
	        .spki_len = k->spki_len,
	        .pa = k->pa,
	        .pa_len = k->pa_len,
	        .pb = k->pb,
	        .pb_len = k->pb_len,
	        .curve_nid = k->curve_nid,
	        .label = k->info.label,
	        .token = k->t->label,
	        .sh = k->t->sh,
	};

	if (k->info.can_sign == 0)
		return kg_err_set(err, KG_E_TOKEN,
		                  "key '%s' on token '%s' is not allowed to "
		                  "sign (CKA_SIGN is false)",
		                  k->info.label ? k->info.label : "",
		                  k->t->label);
	return hsm_prov_pkey(&sg, out, err);
}
