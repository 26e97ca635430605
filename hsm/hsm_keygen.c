/* Key pairs made on a token, and keys replaced (--force). */
#include "hsm/hsm_int.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/objects.h>
#include <openssl/sha.h>

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

		rc = hsm_obj_find(t, tmpl, 2, &h, &m, err);
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
		CK_OBJECT_CLASS c = hsm_obj_ulong(t, old[0], CKA_CLASS, 0);

		if (c == CKO_PRIVATE_KEY &&
		    hsm_key_describe_obj(t, old[0], &ki, NULL,
		                         CK_INVALID_HANDLE, NULL) == KG_OK) {
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
			rv = hsm_obj_var(t, pub, CKA_MODULUS, &v, &vlen);
			pt = v;
			ptlen = vlen;
		} else {
			size_t want =
			        2 * (((size_t)hsm_ec_bits(g->curve_nid) + 7) /
			             8) +
			        1;

			rv = hsm_obj_var(t, pub, CKA_EC_POINT, &v, &vlen);
			if (rv == CKR_OK &&
			    !hsm_ec_point(v, vlen, want, &pt, &ptlen))
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
	rc = hsm_key_describe_obj(t, priv, out, NULL, pub, err);
	if (rc == KG_OK && kout != NULL) {
		struct hsm_key *k = calloc(1, sizeof(*k));

		if (k == NULL)
			rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
		else {
			k->t = t;
			k->priv = priv;
			rc = hsm_key_describe_obj(t, priv, &k->info, k, pub,
			                          err);
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
