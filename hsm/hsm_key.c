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
	} else if (k->info.type == HSM_KEY_ED) {
		xp = kg_pub_ed(nid, a, alen);
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
		                  k->info.type == HSM_KEY_RSA  ? "RSA"
		                  : k->info.type == HSM_KEY_EC ? "EC"
		                                               : "EdDSA");
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
 * The public key object of a private key: the one with its CKA_ID, else
 * (a key without CKA_ID, or whose public object has another) the one
 * public key object with its label. *pub: CK_INVALID_HANDLE if neither.
 */
static enum kg_code public_of(struct hsm_token *t,
                              const struct hsm_key_info *info,
                              CK_OBJECT_HANDLE *pub, struct kg_err *err)
{
	CK_OBJECT_CLASS cls = CKO_PUBLIC_KEY;
	CK_ATTRIBUTE tmpl[2] = {{CKA_CLASS, &cls, sizeof(cls)}, {0, NULL, 0}};
	CK_OBJECT_HANDLE *h = NULL;
	size_t n = 0;
	enum kg_code rc = KG_OK;

	*pub = CK_INVALID_HANDLE;
	if (info->id_len > 0) {
		tmpl[1].type = CKA_ID;
		tmpl[1].pValue = (void *)info->id;
		tmpl[1].ulValueLen = info->id_len;
		rc = hsm_obj_find(t, tmpl, 2, &h, &n, err);
		if (rc == KG_OK && n >= 1)
			*pub = h[0];
		free(h);
		h = NULL;
	}
	if (rc != KG_OK || *pub != CK_INVALID_HANDLE || info->label == NULL ||
	    info->label[0] == '\0')
		return rc;
	tmpl[1].type = CKA_LABEL;
	tmpl[1].pValue = info->label;
	tmpl[1].ulValueLen = strlen(info->label);
	rc = hsm_obj_find(t, tmpl, 2, &h, &n, err);
	if (rc == KG_OK && n == 1) /* two would be a guess */
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

/*
 * The public key of a SubjectPublicKeyInfo (CKA_PUBLIC_KEY_INFO, or a
 * certificate's) into k, if it is of k's type (and, for EC, curve).
 * 1 when k has its public key now.
 */
static int public_from_spki(struct hsm_key *k, const unsigned char *der,
                            size_t len)
{
	const unsigned char *p = der;
	EVP_PKEY *pk = d2i_PUBKEY(NULL, &p, (long)len);
	BIGNUM *n = NULL, *e = NULL;
	unsigned char *a = NULL, *b = NULL, pt[133];
	size_t ptlen = sizeof(pt); /* in: room, out: length */
	char group[64];
	int ok = 0, alen, blen;

	if (pk == NULL)
		return 0;
	if (k->info.type == HSM_KEY_RSA && EVP_PKEY_is_a(pk, "RSA") &&
	    EVP_PKEY_get_bn_param(pk, "n", &n) &&
	    EVP_PKEY_get_bn_param(pk, "e", &e)) {
		alen = BN_num_bytes(n);
		blen = BN_num_bytes(e);
		a = OPENSSL_malloc((size_t)alen + 1);
		b = OPENSSL_malloc((size_t)blen + 1);
		if (a != NULL && b != NULL) {
			BN_bn2bin(n, a);
			BN_bn2bin(e, b);
			ok = set_public(k, a, (size_t)alen, b, (size_t)blen, 0,
			                NULL) == KG_OK;
		}
	} else if (k->info.type == HSM_KEY_EC && EVP_PKEY_is_a(pk, "EC") &&
	           EVP_PKEY_get_utf8_string_param(pk, "group", group,
	                                          sizeof(group), NULL) &&
	           OBJ_sn2nid(group) == k->curve_nid &&
	           EVP_PKEY_get_octet_string_param(pk, "encoded-pub-key", pt,
	                                           sizeof(pt), &ptlen)) {
		ok = set_public(k, pt, ptlen, NULL, 0, k->curve_nid, NULL) ==
		     KG_OK;
	} else if (k->info.type == HSM_KEY_ED &&
	           EVP_PKEY_is_a(pk, k->curve_nid == NID_ED25519 ? "ED25519"
	                                                         : "ED448") &&
	           EVP_PKEY_get_raw_public_key(pk, pt, &ptlen) == 1) {
		ok = set_public(k, pt, ptlen, NULL, 0, k->curve_nid, NULL) ==
		     KG_OK;
	}
	OPENSSL_free(a);
	OPENSSL_free(b);
	BN_free(n);
	BN_free(e);
	EVP_PKEY_free(pk);
	return ok;
}

/*
 * The last resorts for a key whose public object is missing: the private
 * object's CKA_PUBLIC_KEY_INFO, then the certificate with its id or, if
 * it has none, its label. 1 when k has its public key.
 */
static int public_elsewhere(struct hsm_token *t, CK_OBJECT_HANDLE h,
                            struct hsm_key *k)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_ATTRIBUTE tmpl[2] = {{CKA_CLASS, &cls, sizeof(cls)}, {0, NULL, 0}};
	CK_OBJECT_HANDLE *c = NULL;
	unsigned char *v = NULL;
	const unsigned char *p;
	size_t vlen = 0, n = 0;
	X509 *x;
	int ok = 0;

	if (hsm_obj_var(t, h, CKA_PUBLIC_KEY_INFO, &v, &vlen) == CKR_OK &&
	    vlen > 0)
		ok = public_from_spki(k, v, vlen);
	free(v);
	if (ok)
		return 1;
	if (k->info.id_len > 0) {
		tmpl[1].type = CKA_ID;
		tmpl[1].pValue = k->info.id;
		tmpl[1].ulValueLen = k->info.id_len;
	} else if (k->info.label != NULL && k->info.label[0] != '\0') {
		tmpl[1].type = CKA_LABEL;
		tmpl[1].pValue = k->info.label;
		tmpl[1].ulValueLen = strlen(k->info.label);
	} else {
		return 0;
	}
	if (hsm_obj_find(t, tmpl, 2, &c, &n, NULL) != KG_OK || n != 1) {
		free(c);
		return 0;
	}
	v = NULL;
	if (hsm_obj_var(t, c[0], CKA_VALUE, &v, &vlen) == CKR_OK) {
		p = v;
		x = d2i_X509(NULL, &p, (long)vlen);
		if (x != NULL) {
			unsigned char *spki = NULL;
			int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x),
			                          &spki);

			ok = len > 0 && public_from_spki(k, spki, (size_t)len);
			OPENSSL_free(spki);
		}
		X509_free(x);
	}
	free(v);
	free(c);
	return ok;
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
	A_DECRYPT,
	A_UNWRAP,
	A_DERIVE,
	A_SIGN_RECOVER,
	A_ALWAYS_AUTH,
	A_ALLOWED,
	A_MODULUS,
	A_EXPONENT,
	A_EC_PARAMS,
	A_COUNT
};

enum kg_code hsm_key_flags_alone(struct hsm_token *t, CK_OBJECT_HANDLE h,
                                 int *sensitive, int *extractable,
                                 struct kg_err *err)
{
	CK_ATTRIBUTE a[2] = {{CKA_SENSITIVE, NULL, 0},
	                     {CKA_EXTRACTABLE, NULL, 0}};
	int *v[2] = {sensitive, extractable};
	size_t i;
	CK_RV rv;

	for (i = 0; i < 2; i++) {
		rv = hsm_obj_attrs(t, h, &a[i], 1);
		if (rv != CKR_OK)
			return hsm_rv_err(err, rv, "C_GetAttributeValue",
			                  t->label);
		*v[i] = hsm_attr_bool(&a[i]);
		free(a[i].pValue);
	}
	return KG_OK;
}

/* The usage flags, CKA_ALWAYS_AUTHENTICATE and CKA_ALLOWED_MECHANISMS. */
static enum kg_code read_powers(const CK_ATTRIBUTE *at,
                                struct hsm_key_info *info, struct hsm_key *k,
                                struct kg_err *err)
{
	static const struct {
		int a;
		unsigned use;
	} use[] = {{A_SIGN, HSM_USE_SIGN},
	           {A_DECRYPT, HSM_USE_DECRYPT},
	           {A_UNWRAP, HSM_USE_UNWRAP},
	           {A_DERIVE, HSM_USE_DERIVE},
	           {A_SIGN_RECOVER, HSM_USE_SIGN_RECOVER}};
	const CK_ATTRIBUTE *al = &at[A_ALLOWED];
	size_t i, n;
	int b;

	for (i = 0; i < sizeof(use) / sizeof(use[0]); i++) {
		b = hsm_attr_bool(&at[use[i].a]);
		if (b < 0)
			continue;
		info->usage_known |= use[i].use;
		if (b)
			info->usage |= use[i].use;
	}
	info->can_sign = hsm_attr_bool(&at[A_SIGN]);
	info->always_auth = hsm_attr_bool(&at[A_ALWAYS_AUTH]);
	/* not said, or an empty list (as SoftHSM2 keeps it): any */
	if (al->pValue == NULL || al->ulValueLen == 0 ||
	    al->ulValueLen % sizeof(CK_MECHANISM_TYPE))
		return KG_OK;
	n = al->ulValueLen / sizeof(CK_MECHANISM_TYPE);
	info->allowed = hsm_mech_list_str(al->pValue, n);
	if (info->allowed == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	if (k != NULL) {
		k->allowed = malloc(n ? al->ulValueLen : 1);
		if (k->allowed == NULL)
			return kg_err_set(err, KG_E_RUNTIME, "out of memory");
		if (n)
			memcpy(k->allowed, al->pValue, al->ulValueLen);
		k->nallowed = n;
		k->allowed_set = 1;
	}
	return KG_OK;
}

/* RSA: the size, and with k its public key (modulus and exponent from the
 * private object, else its public object, else elsewhere). */
static enum kg_code rsa_public(struct hsm_token *t, CK_OBJECT_HANDLE h,
                               CK_ATTRIBUTE *at, struct hsm_key_info *info,
                               struct hsm_key *k, CK_OBJECT_HANDLE pub,
                               struct kg_err *err)
{
	CK_ATTRIBUTE *m = &at[A_MODULUS], *e = &at[A_EXPONENT];
	size_t len = 0;
	enum kg_code rc = KG_OK;
	BIGNUM *n;

	if (m->pValue == NULL || e->pValue == NULL) {
		/* some tokens keep them on the public object only */
		if (pub == CK_INVALID_HANDLE)
			rc = public_of(t, info, &pub, err);
		if (rc == KG_OK && pub != CK_INVALID_HANDLE) {
			free(m->pValue);
			free(e->pValue);
			m->pValue = e->pValue = NULL;
			rc = pub_var(t, pub, CKA_MODULUS,
			             (unsigned char **)&m->pValue, &len, err);
			m->ulValueLen = len;
			if (rc == KG_OK)
				rc = pub_var(t, pub, CKA_PUBLIC_EXPONENT,
				             (unsigned char **)&e->pValue,
				             &len, err);
			e->ulValueLen = len;
		}
		if (rc != KG_OK)
			return rc;
	}
	if (m->pValue != NULL) {
		n = BN_bin2bn(m->pValue, (int)m->ulValueLen, NULL);
		info->bits = n ? BN_num_bits(n) : 0;
		BN_free(n);
	}
	if (k == NULL)
		return KG_OK;
	if (m->pValue != NULL && e->pValue != NULL)
		return set_public(k, m->pValue, m->ulValueLen, e->pValue,
		                  e->ulValueLen, 0, err);
	if (public_elsewhere(t, h, k)) {
		n = BN_bin2bn(k->pa, (int)k->pa_len, NULL);
		info->bits = n ? BN_num_bits(n) : 0;
		BN_free(n);
		return KG_OK;
	}
	return kg_err_set(err, KG_E_TOKEN,
	                  "key '%s' on token '%s': the token gives neither "
	                  "its public modulus and exponent nor a public key "
	                  "object or certificate for it",
	                  info->label ? info->label : "", t->label);
}

/* EC: the curve, and with k its public key (the point from its public
 * object, else elsewhere). */
static enum kg_code ec_public(struct hsm_token *t, CK_OBJECT_HANDLE h,
                              const CK_ATTRIBUTE *at,
                              struct hsm_key_info *info, struct hsm_key *k,
                              CK_OBJECT_HANDLE pub, struct kg_err *err)
{
	const char *label = info->label ? info->label : "";
	unsigned char *pa = NULL, *pb = NULL;
	const unsigned char *pt;
	size_t palen = 0, pblen = 0, ptlen, want;
	enum kg_code rc = KG_OK;
	int nid = NID_undef;

	if (pub == CK_INVALID_HANDLE &&
	    (at[A_EC_PARAMS].pValue == NULL || k != NULL))
		rc = public_of(t, info, &pub, err);
	if (rc == KG_OK && at[A_EC_PARAMS].pValue != NULL)
		nid = hsm_ec_curve(at[A_EC_PARAMS].pValue,
		                   at[A_EC_PARAMS].ulValueLen);
	else if (rc == KG_OK && pub != CK_INVALID_HANDLE) {
		rc = pub_var(t, pub, CKA_EC_PARAMS, &pa, &palen, err);
		if (pa != NULL)
			nid = hsm_ec_curve(pa, palen);
	}
	free(pa);
	if (rc != KG_OK)
		return rc;
	info->bits = hsm_ec_bits(nid);
	info->curve = info->type == HSM_KEY_ED
	                      ? (nid == NID_ED25519 ? "Ed25519"
	                         : nid == NID_ED448 ? "Ed448"
	                                            : NULL)
	              : nid != NID_undef ? EC_curve_nid2nist(nid)
	                                 : NULL;
	if (info->type == HSM_KEY_ED && info->curve == NULL)
		info->bits = 0;
	if (k == NULL)
		return KG_OK;
	if (info->bits == 0)
		return kg_err_set(
		        err, KG_E_TOKEN,
		        "key '%s' on token '%s' is on a curve keygate "
		        "does not support",
		        label, t->label);
	k->curve_nid = nid;
	want = info->type == HSM_KEY_ED
	               ? hsm_ed_len(nid)
	               : 2 * (((size_t)info->bits + 7) / 8) + 1;
	if (pub != CK_INVALID_HANDLE) {
		rc = pub_var(t, pub, CKA_EC_POINT, &pb, &pblen, err);
		if (rc == KG_OK && pb != NULL &&
		    hsm_ec_point(pb, pblen, want, &pt, &ptlen))
			rc = set_public(k, pt, ptlen, NULL, 0, nid, err);
		else if (rc == KG_OK && pb != NULL)
			rc = kg_err_set(
			        err, KG_E_TOKEN,
			        "key '%s' on token '%s': the module "
			        "gave a malformed CKA_EC_POINT for its "
			        "public key object (%zu bytes, not a "
			        "point on %s)",
			        label, t->label, pblen, OBJ_nid2sn(nid));
		free(pb);
		if (rc != KG_OK || k->spki != NULL)
			return rc;
	}
	if (public_elsewhere(t, h, k))
		return KG_OK;
	return kg_err_set(err, KG_E_TOKEN,
	                  "key '%s' on token '%s' has no public key object "
	                  "(by id or label), no CKA_PUBLIC_KEY_INFO and no "
	                  "certificate: cannot build its public key",
	                  label, t->label);
}

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
	        {CKA_DECRYPT, NULL, 0},
	        {CKA_UNWRAP, NULL, 0},
	        {CKA_DERIVE, NULL, 0},
	        {CKA_SIGN_RECOVER, NULL, 0},
	        {CKA_ALWAYS_AUTHENTICATE, NULL, 0},
	        {CKA_ALLOWED_MECHANISMS, NULL, 0},
	        {CKA_MODULUS, NULL, 0},
	        {CKA_PUBLIC_EXPONENT, NULL, 0},
	        {CKA_EC_PARAMS, NULL, 0},
	};
	enum kg_code rc = KG_OK;
	int i;
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

		info->type = kt == CKK_RSA          ? HSM_KEY_RSA
		             : kt == CKK_EC         ? HSM_KEY_EC
		             : kt == CKK_EC_EDWARDS ? HSM_KEY_ED
		                                    : 0;
	}
	info->label = at[A_LABEL].pValue; /* NUL-terminated by hsm_obj_attrs */
	at[A_LABEL].pValue = NULL;
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
	if (info->sensitive == 0 || info->extractable == 1) {
		/* a key that reads as exportable is asked again, each flag
		 * alone: NSS's softokn answers CKA_SENSITIVE otherwise in a
		 * read of several */
		rc = hsm_key_flags_alone(t, h, &info->sensitive,
		                         &info->extractable, err);
		if (rc != KG_OK)
			goto out;
	}
	rc = read_powers(at, info, k, err);
	if (rc != KG_OK)
		goto out;
	if (info->type == HSM_KEY_RSA)
		rc = rsa_public(t, h, at, info, k, known_pub, err);
	else if (info->type == HSM_KEY_EC || info->type == HSM_KEY_ED)
		rc = ec_public(t, h, at, info, k, known_pub, err);
	else if (k != NULL)
		rc = kg_err_set(
		        err, KG_E_TOKEN,
		        "key '%s' on token '%s' is neither RSA, EC nor "
		        "EdDSA",
		        info->label ? info->label : "", t->label);
	if (rc == KG_OK)
		rc = hsm_uri_build(&t->info, t->module_path, t->module_name,
		                   info->label, info->id, info->id_len,
		                   CKO_PRIVATE_KEY, &info->uri, err);
out:
	for (i = 0; i < A_COUNT; i++)
		free(at[i].pValue);
	return rc;
}

void hsm_key_info_clear(struct hsm_key_info *k)
{
	if (k == NULL)
		return;
	free(k->uri);
	free(k->label);
	free(k->allowed);
	free(k->retired);
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
	free(k->allowed);
	free(k);
}

const struct hsm_key_info *hsm_key_describe(const struct hsm_key *k)
{
	return &k->info;
}

enum kg_code hsm_key_public(const struct hsm_key *k, EVP_PKEY **out,
                            struct kg_err *err)
{
	const unsigned char *p = k->spki;

	*out = p != NULL ? d2i_PUBKEY(NULL, &p, (long)k->spki_len) : NULL;
	if (*out == NULL)
		return kg_err_set(
		        err, KG_E_TOKEN,
		        "cannot read the public key of '%s' on token "
		        "'%s'",
		        k->info.label ? k->info.label : "", k->t->label);
	return KG_OK;
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
	        .always_auth = k->info.always_auth == 1,
	        .pin = hsm_token_pin(k->t),
	};
	struct hsm_token *t = k->t;
	const char *label = k->info.label ? k->info.label : "";
	enum kg_code rc;

	*out = NULL;
	if (k->info.can_sign == 0)
		return kg_err_set(err, KG_E_TOKEN,
		                  "key '%s' on token '%s' is not allowed to "
		                  "sign (CKA_SIGN is false)",
		                  label, t->label);
	/* before anything is signed: a mechanism both the key and the
	 * token allow */
	rc = hsm_mech_read(t, err);
	if (rc != KG_OK)
		return rc;
	sg.usable = hsm_mech_usable(k->info.type, k->allowed, k->nallowed,
	                            k->allowed_set, t->mechs, t->nmechs,
	                            t->mechs_known);
	if (sg.usable == 0)
		return kg_err_set(
		        err, KG_E_TOKEN,
		        "key '%s' on token '%s' cannot sign: keygate signs "
		        "with %s; the key allows %s%s",
		        label, t->label,
		        k->info.type == HSM_KEY_RSA
		                ? "CKM_RSA_PKCS or CKM_SHA*_RSA_PKCS"
		                : "CKM_ECDSA or CKM_ECDSA_SHA*",
		        k->info.allowed ? k->info.allowed : "any mechanism",
		        t->mechs_known ? " and the token offers none of "
		                         "keygate's for it"
		                       : "");
	if (sg.always_auth && sg.pin == NULL &&
	    !(t->info.flags & CKF_PROTECTED_AUTHENTICATION_PATH))
		return kg_err_set(err, KG_E_TOKEN,
		                  "key '%s' on token '%s' needs a login for "
		                  "every signature (CKA_ALWAYS_AUTHENTICATE) "
		                  "but no PIN was given",
		                  label, t->label);
	return hsm_prov_pkey(&sg, out, err);
}
