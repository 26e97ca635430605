/* Keys on a token: generate, list, find, and hand out as EVP_PKEY. */
#include "hsm/hsm_int.h"

#include "common/kg_pub.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/sha.h>
#include <openssl/x509.h>

struct hsm_key {
	struct hsm_token *t; /* borrowed */
	CK_OBJECT_HANDLE priv;
	struct hsm_key_info info;
	unsigned char *spki; /* SubjectPublicKeyInfo DER */
	size_t spki_len;
	unsigned char *pa, *pb; /* RSA n and e, or the EC point */
	size_t pa_len, pb_len;
	int curve_nid;
};

/* ---- attribute helpers ----------------------------------------------- */

static CK_ULONG get_ulong(struct hsm_token *t, CK_OBJECT_HANDLE h,
                          CK_ATTRIBUTE_TYPE type, CK_ULONG dflt)
{
	CK_ULONG v = 0;
	CK_ATTRIBUTE a = {type, &v, sizeof(v)};

	if (t->f->C_GetAttributeValue(t->s, h, &a, 1) != CKR_OK ||
	    a.ulValueLen != sizeof(v))
		return dflt;
	return v;
}

static CK_RV get_attrs(struct hsm_token *t, CK_OBJECT_HANDLE h,
                       CK_ATTRIBUTE *attrs, CK_ULONG n);

/* One variable-length attribute. *buf: free(); NUL-terminated. */
static CK_RV get_var(struct hsm_token *t, CK_OBJECT_HANDLE h,
                     CK_ATTRIBUTE_TYPE type, unsigned char **buf, size_t *len)
{
	CK_ATTRIBUTE a = {type, NULL, 0};
	CK_RV rv = get_attrs(t, h, &a, 1);

	*buf = NULL;
	*len = 0;
	if (rv != CKR_OK) {
		free(a.pValue);
		return rv;
	}
	if (a.pValue == NULL)
		return CKR_ATTRIBUTE_SENSITIVE; /* withheld or unknown */
	*buf = a.pValue;
	*len = a.ulValueLen;
	return CKR_OK;
}

/* All objects matching tmpl. *out: free(). */
static enum kg_code find_objects(struct hsm_token *t, CK_ATTRIBUTE *tmpl,
                                 CK_ULONG n, CK_OBJECT_HANDLE **out,
                                 size_t *count, struct kg_err *err)
{
	CK_OBJECT_HANDLE *v = NULL, *nv, batch[32];
	CK_ULONG got;
	size_t cnt = 0;
	CK_RV rv;

	*out = NULL;
	*count = 0;
	rv = t->f->C_FindObjectsInit(t->s, tmpl, n);
	if (rv != CKR_OK)
		return hsm_rv_err(err, rv, "C_FindObjectsInit", t->label);
	for (;;) {
		rv = t->f->C_FindObjects(t->s, batch, 32, &got);
		if (rv != CKR_OK || got == 0)
			break;
		nv = realloc(v, (cnt + got) * sizeof(*v));
		if (nv == NULL) {
			rv = CKR_HOST_MEMORY;
			break;
		}
		v = nv;
		memcpy(v + cnt, batch, got * sizeof(*v));
		cnt += got;
	}
	t->f->C_FindObjectsFinal(t->s);
	if (rv != CKR_OK) {
		free(v);
		return hsm_rv_err(err, rv, "C_FindObjects", t->label);
	}
	*out = v;
	*count = cnt;
	return KG_OK;
}

/* The EC point in an CKA_EC_POINT value (DER OCTET STRING, or raw). */
static int ec_point(const unsigned char *v, size_t len, size_t want,
                    const unsigned char **pt, size_t *ptlen)
{
	const unsigned char *p = v;
	ASN1_OCTET_STRING *os = d2i_ASN1_OCTET_STRING(NULL, &p, (long)len);
	int ok = 0;

	if (os != NULL && p == v + len &&
	    (size_t)ASN1_STRING_length(os) == want) {
		/* the point sits at the end of the DER value */
		*pt = v + len - want;
		*ptlen = want;
		ok = 1;
	} else if (len == want) {
		*pt = v;
		*ptlen = len;
		ok = 1;
	}
	ASN1_OCTET_STRING_free(os);
	return ok;
}

static int curve_from_params(const unsigned char *der, size_t len)
{
	const unsigned char *p = der;
	ASN1_OBJECT *o = d2i_ASN1_OBJECT(NULL, &p, (long)len);
	int nid = o ? OBJ_obj2nid(o) : NID_undef;

	ASN1_OBJECT_free(o);
	return nid;
}

static int curve_bits(int nid)
{
	switch (nid) {
	case NID_X9_62_prime256v1:
		return 256;
	case NID_secp384r1:
		return 384;
	case NID_secp521r1:
		return 521;
	default:
		return 0;
	}
}

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

/* The public key object paired with a private key (same CKA_ID). */
static CK_OBJECT_HANDLE public_of(struct hsm_token *t, const unsigned char *id,
                                  size_t id_len)
{
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)},
	                       {CKA_ID, (void *)id, id_len}};
	CK_OBJECT_HANDLE *h = NULL, r = CK_INVALID_HANDLE;
	size_t n = 0;

	if (id_len == 0)
		return CK_INVALID_HANDLE;
	if (find_objects(t, tmpl, 2, &h, &n, NULL) == KG_OK && n >= 1)
		r = h[0];
	free(h);
	return r;
}

/*
 * Reads attrs in two calls however many there are (lengths, then values);
 * a token re-reads its object store on every call, so this is what keeps
 * a CSR near the raw floor. Every pValue is allocated (free() each); one
 * the token withholds or does not know is NULL with ulValueLen
 * CK_UNAVAILABLE_INFORMATION.
 */
static CK_RV get_attrs(struct hsm_token *t, CK_OBJECT_HANDLE h,
                       CK_ATTRIBUTE *attrs, CK_ULONG n)
{
	CK_ULONG i;
	CK_RV rv;

	for (i = 0; i < n; i++)
		attrs[i].pValue = NULL;
	rv = t->f->C_GetAttributeValue(t->s, h, attrs, n);
	if (rv != CKR_OK && rv != CKR_ATTRIBUTE_SENSITIVE &&
	    rv != CKR_ATTRIBUTE_TYPE_INVALID)
		return rv;
	for (i = 0; i < n; i++) {
		if (attrs[i].ulValueLen == CK_UNAVAILABLE_INFORMATION)
			continue;
		attrs[i].pValue = calloc(1, attrs[i].ulValueLen + 1);
		if (attrs[i].pValue == NULL)
			return CKR_HOST_MEMORY;
	}
	rv = t->f->C_GetAttributeValue(t->s, h, attrs, n);
	if (rv != CKR_OK && rv != CKR_ATTRIBUTE_SENSITIVE &&
	    rv != CKR_ATTRIBUTE_TYPE_INVALID)
		return rv;
	for (i = 0; i < n; i++) {
		if (attrs[i].ulValueLen == CK_UNAVAILABLE_INFORMATION) {
			free(attrs[i].pValue);
			attrs[i].pValue = NULL;
		}
	}
	return CKR_OK;
}

static int attr_bool(const CK_ATTRIBUTE *a)
{
	if (a->pValue == NULL || a->ulValueLen != sizeof(CK_BBOOL))
		return -1;
	return *(CK_BBOOL *)a->pValue ? 1 : 0;
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
static enum kg_code describe(struct hsm_token *t, CK_OBJECT_HANDLE h,
                             struct hsm_key_info *info, struct hsm_key *k,
                             CK_OBJECT_HANDLE known_pub, struct kg_err *err)
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
	rv = get_attrs(t, h, at, A_COUNT);
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
	info->label = at[A_LABEL].pValue; /* NUL-terminated by get_attrs */
	at[A_LABEL].pValue = NULL;
	label = info->label ? info->label : "";
	if (at[A_ID].pValue != NULL &&
	    at[A_ID].ulValueLen <= sizeof(info->id)) {
		memcpy(info->id, at[A_ID].pValue, at[A_ID].ulValueLen);
		info->id_len = at[A_ID].ulValueLen;
	}
	info->sensitive = attr_bool(&at[A_SENSITIVE]);
	info->extractable = attr_bool(&at[A_EXTRACTABLE]);
	info->always_sensitive = attr_bool(&at[A_ALWAYS_SENSITIVE]);
	info->never_extractable = attr_bool(&at[A_NEVER_EXTRACTABLE]);
	info->local = attr_bool(&at[A_LOCAL]);
	info->can_sign = attr_bool(&at[A_SIGN]);

	if (info->type == HSM_KEY_RSA) {
		if (at[A_MODULUS].pValue == NULL ||
		    at[A_EXPONENT].pValue == NULL) {
			/* some tokens keep them on the public object only */
			pub = known_pub != CK_INVALID_HANDLE
			              ? known_pub
			              : public_of(t, info->id, info->id_len);
			if (pub != CK_INVALID_HANDLE) {
				free(at[A_MODULUS].pValue);
				free(at[A_EXPONENT].pValue);
				at[A_MODULUS].pValue = at[A_EXPONENT].pValue =
				        NULL;
				if (get_var(t, pub, CKA_MODULUS,
				            (unsigned char **)&at[A_MODULUS]
				                    .pValue,
				            &palen) == CKR_OK)
					at[A_MODULUS].ulValueLen = palen;
				if (get_var(t, pub, CKA_PUBLIC_EXPONENT,
				            (unsigned char **)&at[A_EXPONENT]
				                    .pValue,
				            &pblen) == CKR_OK)
					at[A_EXPONENT].ulValueLen = pblen;
			}
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
		pub = CK_INVALID_HANDLE;
		if (at[A_EC_PARAMS].pValue == NULL || k != NULL)
			pub = known_pub != CK_INVALID_HANDLE
			              ? known_pub
			              : public_of(t, info->id, info->id_len);
		if (at[A_EC_PARAMS].pValue != NULL)
			nid = curve_from_params(at[A_EC_PARAMS].pValue,
			                        at[A_EC_PARAMS].ulValueLen);
		else if (pub != CK_INVALID_HANDLE &&
		         get_var(t, pub, CKA_EC_PARAMS, &pa, &palen) == CKR_OK)
			nid = curve_from_params(pa, palen);
		info->bits = curve_bits(nid);
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
			else if (pub == CK_INVALID_HANDLE ||
			         get_var(t, pub, CKA_EC_POINT, &pb, &pblen) !=
			                 CKR_OK ||
			         !ec_point(pb, pblen, want, &pt, &ptlen))
				rc = kg_err_set(
				        err, KG_E_TOKEN,
				        "key '%s' on token '%s' has no "
				        "public key object with its "
				        "id; cannot build its public "
				        "key",
				        label, t->label);
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

/* Objects of class cls matching the object part of uri (label, id). */
static enum kg_code find_by_uri(struct hsm_token *t, CK_OBJECT_CLASS cls,
                                const char *uri, CK_OBJECT_HANDLE **out,
                                size_t *n, struct kg_err *err)
{
	CK_ATTRIBUTE tmpl[3] = {{CKA_CLASS, &cls, sizeof(cls)}};
	CK_ATTRIBUTE *a;
	CK_ULONG nt = 1;
	P11KitUri *u = NULL;
	enum kg_code rc;

	if (uri != NULL) {
		rc = hsm_uri_parse(uri, &u, err);
		if (rc != KG_OK)
			return rc;
		if ((a = p11_kit_uri_get_attribute(u, CKA_LABEL)) != NULL)
			tmpl[nt++] = *a;
		if ((a = p11_kit_uri_get_attribute(u, CKA_ID)) != NULL)
			tmpl[nt++] = *a;
	}
	rc = find_objects(t, tmpl, nt, out, n, err);
	hsm_uri_free(u);
	return rc;
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
	rc = find_by_uri(t, CKO_PRIVATE_KEY, uri, &h, &cnt, err);
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
		rc = describe(t, h[i], &v[i], NULL, CK_INVALID_HANDLE, err);
		if (rc != KG_OK) {
			hsm_key_info_free_array(v, cnt);
			free(h);
			return rc;
		}
	}
	free(h);
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
	rc = find_by_uri(t, CKO_PRIVATE_KEY, uri, &h, &cnt, err);
	if (rc != KG_OK)
		return rc;
	if (cnt == 0) {
		rc = kg_err_set(err, KG_E_TOKEN,
		                "no private key matches '%s' on token '%s'; "
		                "see keygate key list --token '%s'",
		                uri, t->label, t->uri);
		goto out;
	}
	if (cnt > 1) {
		list[0] = '\0';
		for (i = 0; i < cnt; i++) {
			struct hsm_key_info ki;

			if (describe(t, h[i], &ki, NULL, CK_INVALID_HANDLE,
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
	k->priv = h[0];
	rc = describe(t, h[0], &k->info, k, CK_INVALID_HANDLE, err);
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

/* ---- generate -------------------------------------------------------- */

static enum kg_code destroy_all(struct hsm_token *t, CK_OBJECT_HANDLE *h,
                                size_t n, struct kg_err *err)
{
	size_t i;
	CK_RV rv;

	for (i = 0; i < n; i++) {
		rv = t->f->C_DestroyObject(t->s, h[i]);
		if (rv != CKR_OK)
			return hsm_rv_err(err, rv, "C_DestroyObject",
			                  t->label);
	}
	return KG_OK;
}

/* Key objects (public and private) that hold a label. */
static enum kg_code keys_with_label(struct hsm_token *t, const char *label,
                                    CK_OBJECT_HANDLE **out, size_t *n,
                                    struct kg_err *err)
{
	CK_OBJECT_CLASS cls[2] = {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY};
	CK_OBJECT_HANDLE *all = NULL, *h, *nv;
	size_t cnt = 0, m, i;
	enum kg_code rc;

	*out = NULL;
	*n = 0;
	for (i = 0; i < 2; i++) {
		CK_ATTRIBUTE tmpl[] = {
		        {CKA_CLASS, &cls[i], sizeof(cls[i])},
		        {CKA_LABEL, (void *)label, strlen(label)}};

		rc = find_objects(t, tmpl, 2, &h, &m, err);
		if (rc != KG_OK) {
			free(all);
			return rc;
		}
		if (m > 0) {
			nv = realloc(all, (cnt + m) * sizeof(*all));
			if (nv == NULL) {
				free(h);
				free(all);
				return kg_err_set(err, KG_E_RUNTIME,
				                  "out of memory");
			}
			all = nv;
			memcpy(all + cnt, h, m * sizeof(*h));
			cnt += m;
		}
		free(h);
	}
	*out = all;
	*n = cnt;
	return KG_OK;
}

static enum kg_code hsm_key_gen_locked(struct hsm_token *t,
                                       const struct hsm_keygen *g,
                                       struct hsm_key_info *out,
                                       struct hsm_key **kout,
                                       struct kg_err *err)
{
	static const CK_BYTE f4[] = {0x01, 0x00, 0x01};
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_BBOOL sens = g->exportable ? CK_FALSE : CK_TRUE;
	CK_BBOOL extr = g->exportable ? CK_TRUE : CK_FALSE;
	CK_ULONG bits = (CK_ULONG)g->bits;
	CK_MECHANISM mech = {CKM_RSA_PKCS_KEY_PAIR_GEN, NULL, 0};
	CK_OBJECT_HANDLE pub = CK_INVALID_HANDLE, priv = CK_INVALID_HANDLE;
	CK_OBJECT_HANDLE *old = NULL;
	CK_ATTRIBUTE pubt[8], privt[12];
	CK_ULONG np = 0, nq = 0;
	unsigned char *params = NULL, *v = NULL, digest[SHA_DIGEST_LENGTH];
	const unsigned char *pt;
	size_t nold = 0, vlen, ptlen;
	size_t lablen = strlen(g->label);
	enum kg_code rc;
	CK_RV rv;
	int plen;

	memset(out, 0, sizeof(*out));
	if (kout != NULL)
		*kout = NULL;
	rc = g->label_checked && !g->force
	             ? KG_OK
	             : keys_with_label(t, g->label, &old, &nold, err);
	if (rc != KG_OK)
		return rc;
	if (nold > 0 && !g->force) {
		struct hsm_key_info ki;
		CK_OBJECT_CLASS c = get_ulong(t, old[0], CKA_CLASS, 0);

		if (c == CKO_PRIVATE_KEY &&
		    describe(t, old[0], &ki, NULL, CK_INVALID_HANDLE, NULL) ==
		            KG_OK) {
			rc = kg_err_set(err, KG_E_USAGE,
			                "a key labelled '%s' exists on token "
			                "'%s': %s; choose another label or "
			                "use --force to replace it",
			                g->label, t->label, ki.uri);
			hsm_key_info_clear(&ki);
		} else {
			rc = kg_err_set(err, KG_E_USAGE,
			                "a key labelled '%s' exists on token "
			                "'%s'; choose another label or use "
			                "--force to replace it",
			                g->label, t->label);
		}
		free(old);
		return rc;
	}

#define ADD(arr, n, t_, p_, l_)                                               \
	do {                                                                  \
		arr[n].type = (t_);                                           \
		arr[n].pValue = (void *)(p_);                                 \
		arr[n].ulValueLen = (l_);                                     \
		n++;                                                          \
	} while (0)
	ADD(pubt, np, CKA_TOKEN, &yes, sizeof(yes));
	ADD(pubt, np, CKA_PRIVATE, &no, sizeof(no));
	ADD(pubt, np, CKA_VERIFY, &yes, sizeof(yes));
	ADD(pubt, np, CKA_LABEL, g->label, lablen);
	ADD(privt, nq, CKA_TOKEN, &yes, sizeof(yes));
	ADD(privt, nq, CKA_PRIVATE, &yes, sizeof(yes));
	ADD(privt, nq, CKA_SENSITIVE, &sens, sizeof(sens));
	ADD(privt, nq, CKA_EXTRACTABLE, &extr, sizeof(extr));
	ADD(privt, nq, CKA_SIGN, &yes, sizeof(yes));
	ADD(privt, nq, CKA_LABEL, g->label, lablen);
	if (g->id != NULL) {
		ADD(pubt, np, CKA_ID, g->id, g->id_len);
		ADD(privt, nq, CKA_ID, g->id, g->id_len);
	}
	if (g->type == HSM_KEY_RSA) {
		ADD(pubt, np, CKA_MODULUS_BITS, &bits, sizeof(bits));
		ADD(pubt, np, CKA_PUBLIC_EXPONENT, f4, sizeof(f4));
		ADD(pubt, np, CKA_ENCRYPT, &yes, sizeof(yes));
		ADD(privt, nq, CKA_DECRYPT, &yes, sizeof(yes));
	} else {
		ASN1_OBJECT *o = OBJ_nid2obj(g->curve_nid);

		mech.mechanism = CKM_EC_KEY_PAIR_GEN;
		plen = o ? i2d_ASN1_OBJECT(o, &params) : -1;
		if (plen <= 0) {
			free(old);
			return kg_err_set(err, KG_E_USAGE, "unknown curve");
		}
		ADD(pubt, np, CKA_EC_PARAMS, params, (CK_ULONG)plen);
	}
#undef ADD

	rv = t->f->C_GenerateKeyPair(t->s, &mech, pubt, np, privt, nq, &pub,
	                             &priv);
	if (rv != CKR_OK) {
		rc = hsm_rv_err(err, rv, "C_GenerateKeyPair", t->label);
		goto out;
	}
	if (g->id == NULL) {
		/* CKA_ID = SHA-1 of the modulus or the EC point */
		if (g->type == HSM_KEY_RSA) {
			rv = get_var(t, pub, CKA_MODULUS, &v, &vlen);
			pt = v;
			ptlen = vlen;
		} else {
			size_t want =
			        2 * (((size_t)curve_bits(g->curve_nid) + 7) /
			             8) +
			        1;

			rv = get_var(t, pub, CKA_EC_POINT, &v, &vlen);
			if (rv == CKR_OK &&
			    !ec_point(v, vlen, want, &pt, &ptlen))
				rv = CKR_ATTRIBUTE_VALUE_INVALID;
		}
		if (rv == CKR_OK) {
			CK_ATTRIBUTE ida = {CKA_ID, digest, sizeof(digest)};

			SHA1(pt, ptlen, digest);
			rv = t->f->C_SetAttributeValue(t->s, pub, &ida, 1);
			if (rv == CKR_OK)
				rv = t->f->C_SetAttributeValue(t->s, priv,
				                               &ida, 1);
		}
		if (rv != CKR_OK) {
			rc = hsm_rv_err(err, rv, "setting CKA_ID", t->label);
			goto out;
		}
	}
	rc = describe(t, priv, out, NULL, pub, err);
	if (rc == KG_OK && kout != NULL) {
		struct hsm_key *k = calloc(1, sizeof(*k));

		if (k == NULL)
			rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
		else {
			k->t = t;
			k->priv = priv;
			rc = describe(t, priv, &k->info, k, pub, err);
			if (rc == KG_OK)
				*kout = k;
			else
				hsm_key_free(k);
		}
	}
	if (rc != KG_OK) {
		hsm_key_info_clear(out);
		goto out;
	}
	if (nold > 0) {
		/* --force: the new pair is in place; now drop the old */
		rc = destroy_all(t, old, nold, err);
		if (rc != KG_OK) {
			hsm_key_info_clear(out);
			if (kout != NULL) {
				hsm_key_free(*kout);
				*kout = NULL;
			}
			goto out;
		}
	}
	pub = priv = CK_INVALID_HANDLE; /* kept */
out:
	/* never leave half a key pair behind */
	if (priv != CK_INVALID_HANDLE)
		t->f->C_DestroyObject(t->s, priv);
	if (pub != CK_INVALID_HANDLE)
		t->f->C_DestroyObject(t->s, pub);
	OPENSSL_free(params);
	free(v);
	free(old);
	return rc;
}

enum kg_code hsm_key_gen(struct hsm_token *t, const struct hsm_keygen *g,
                         struct hsm_key_info *out, struct kg_err *err)
{
	enum kg_code rc;

	hsm_lock_excl(t->sh);
	rc = hsm_key_gen_locked(t, g, out, NULL, err);
	hsm_unlock(t->sh);
	return rc;
}

enum kg_code hsm_key_gen_open(struct hsm_token *t, const struct hsm_keygen *g,
                              struct hsm_key_info *out, struct hsm_key **key,
                              struct kg_err *err)
{
	enum kg_code rc;

	hsm_lock_excl(t->sh);
	rc = hsm_key_gen_locked(t, g, out, key, err);
	hsm_unlock(t->sh);
	return rc;
}

/* ---- export ---------------------------------------------------------- */

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
	rv = get_attrs(k->t, k->priv, at, n);
	for (i = 0; rv == CKR_OK && i < n; i++)
		if (at[i].pValue == NULL)
			rv = CKR_ATTRIBUTE_SENSITIVE;
	if (rv != CKR_OK) {
		rc = hsm_rv_err(err, rv, "reading the private key",
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

/* ---- certificates ---------------------------------------------------- */

void hsm_cert_free_array(struct hsm_cert *c, size_t n)
{
	size_t i;

	for (i = 0; c != NULL && i < n; i++) {
		free(c[i].der);
		free(c[i].label);
		free(c[i].uri);
	}
	free(c);
}

enum kg_code hsm_cert_list(struct hsm_token *t, const char *uri,
                           struct hsm_cert **out, size_t *n,
                           struct kg_err *err)
{
	CK_OBJECT_HANDLE *h = NULL;
	struct hsm_cert *v = NULL;
	size_t cnt = 0, i;
	enum kg_code rc;

	*out = NULL;
	*n = 0;
	rc = find_by_uri(t, CKO_CERTIFICATE, uri, &h, &cnt, err);
	if (rc != KG_OK)
		return rc;
	v = cnt ? calloc(cnt, sizeof(*v)) : NULL;
	if (cnt && v == NULL) {
		free(h);
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	}
	for (i = 0; i < cnt; i++) {
		CK_ATTRIBUTE at[3] = {{CKA_VALUE, NULL, 0},
		                      {CKA_LABEL, NULL, 0},
		                      {CKA_ID, NULL, 0}};
		CK_RV rv = get_attrs(t, h[i], at, 3);

		if (rv != CKR_OK || at[0].pValue == NULL) {
			free(at[0].pValue);
			free(at[1].pValue);
			free(at[2].pValue);
			if (rv == CKR_OK)
				continue;
			hsm_cert_free_array(v, cnt);
			free(h);
			return hsm_rv_err(err, rv, "C_GetAttributeValue",
			                  t->label);
		}
		v[i].der = at[0].pValue;
		v[i].der_len = at[0].ulValueLen;
		v[i].label = at[1].pValue;
		rc = hsm_uri_build(&t->info, t->module_path, v[i].label,
		                   at[2].pValue,
		                   at[2].pValue ? at[2].ulValueLen : 0,
		                   CKO_CERTIFICATE, &v[i].uri, err);
		free(at[2].pValue);
		if (rc != KG_OK) {
			hsm_cert_free_array(v, cnt);
			free(h);
			return rc;
		}
	}
	free(h);
	*out = v;
	*n = cnt;
	return KG_OK;
}
