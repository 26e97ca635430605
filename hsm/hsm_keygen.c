/*
 * Key pairs made on a token, and keys replaced (--force).
 *
 * The order is chosen so that at every failure point the label holds one
 * whole key, the old or the new one, and nothing is lost:
 *
 *  1. the new pair is generated under a temporary label of its own
 *     ("keygate-new-<random>"), so a failure or a kill leaves the label
 *     as it was, and keygate can prove that a failed C_GenerateKeyPair
 *     made nothing before it tries again;
 *  2. CKA_ID and the real label are set on the new pair (one
 *     C_SetAttributeValue per object); until then a failure destroys the
 *     new pair and the old key is untouched;
 *  3. with --force, the old private key is destroyed, then the rest of
 *     the old objects. If the first destroy fails, the new pair goes and
 *     the old key stays; once an old object is gone, keygate goes forward
 *     and reports what it could not remove.
 *
 * Every object that a failed clean-up leaves behind is named by its URI in
 * the error.
 */
#include "hsm/hsm_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/objects.h>
#include <openssl/sha.h>

/* An object this run made or found, and what it is called now. */
struct obj {
	CK_OBJECT_HANDLE h;
	CK_OBJECT_CLASS cls;
	const char *label; /* borrowed */
	unsigned char id[64];
	size_t id_len;
};

static enum kg_code destroy(struct hsm_token *t, CK_OBJECT_HANDLE h,
                            struct kg_err *err)
{
	CK_RV rv;
	int tries = 0;

	for (;;) {
		rv = hsm_C_DestroyObject(t->f, t->s, h);
		/* a retry after a destroy that went through but failed */
		if (tries > 0 && rv == CKR_OBJECT_HANDLE_INVALID)
			rv = CKR_OK;
		if (!hsm_again(rv, &tries))
			break;
	}
	if (rv != CKR_OK)
		return hsm_rv_err(err, rv, "C_DestroyObject", t->label);
	return KG_OK;
}

/* Appends "  URI" for o to buf (cap bytes, NUL-terminated). */
static void name_left(struct hsm_token *t, const struct obj *o, char *buf,
                      size_t cap)
{
	char *uri = NULL;
	size_t used = strlen(buf);

	if (hsm_uri_build(&t->info, t->module_path, t->module_name, o->label,
	                  o->id_len ? o->id : NULL, o->id_len, o->cls, &uri,
	                  NULL) == KG_OK &&
	    used + strlen(uri) + 3 < cap)
		snprintf(buf + used, cap - used, "%s%s", used ? "  " : "",
		         uri);
	free(uri);
}

/*
 * Destroys the n objects of v, private keys first; those it cannot
 * destroy are named in left. Returns how many are left.
 */
static size_t destroy_objs(struct hsm_token *t, struct obj *v, size_t n,
                           char *left, size_t cap)
{
	size_t i, pass, kept = 0;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < n; i++) {
			if ((v[i].cls == CKO_PRIVATE_KEY) != (pass == 0) ||
			    v[i].h == CK_INVALID_HANDLE)
				continue;
			if (destroy(t, v[i].h, NULL) == KG_OK) {
				v[i].h = CK_INVALID_HANDLE;
			} else {
				name_left(t, &v[i], left, cap);
				kept++;
			}
		}
	}
	return kept;
}

/* Adds to err's message what a failed clean-up left on the token. */
static enum kg_code with_left(struct kg_err *err, const char *left)
{
	size_t used;

	if (err == NULL || left[0] == '\0')
		return err ? err->code : KG_E_TOKEN;
	used = strlen(err->msg);
	snprintf(err->msg + used, sizeof(err->msg) - used,
	         "; the clean-up failed too, left on the token: %s", left);
	return err->code;
}

/*
 * The certificates of the old keys in *old (same CKA_ID as an old
 * private key; same label for one without an id), appended to *old: with
 * --force they are retired with their key, never left orphaned.
 */
static enum kg_code certs_of_old(struct hsm_token *t, const char *label,
                                 struct obj **old, size_t *nold,
                                 struct kg_err *err)
{
	CK_OBJECT_CLASS c = CKO_CERTIFICATE;
	size_t n = *nold, i, j, m;
	CK_OBJECT_HANDLE *h;
	struct obj *nv;
	enum kg_code rc = KG_OK;

	for (i = 0; i < n && rc == KG_OK; i++) {
		CK_ATTRIBUTE tmpl[2] = {{CKA_CLASS, &c, sizeof(c)}};

		if ((*old)[i].cls != CKO_PRIVATE_KEY)
			continue;
		if ((*old)[i].id_len > 0)
			tmpl[1] = (CK_ATTRIBUTE){CKA_ID, (*old)[i].id,
			                         (*old)[i].id_len};
		else
			tmpl[1] = (CK_ATTRIBUTE){CKA_LABEL, (void *)label,
			                         strlen(label)};
		rc = hsm_obj_find(t, tmpl, 2, &h, &m, err);
		if (rc != KG_OK || m == 0) {
			if (rc == KG_OK)
				free(h);
			continue;
		}
		nv = realloc(*old, (*nold + m) * sizeof(**old));
		if (nv == NULL) {
			free(h);
			return kg_err_set(err, KG_E_RUNTIME, "out of memory");
		}
		*old = nv;
		for (j = 0; j < m; j++) {
			struct obj *o = &nv[(*nold)++];

			*o = nv[i];
			o->h = h[j];
			o->cls = CKO_CERTIFICATE;
			/* its own label may differ from the key's: named by
			 * id alone (or the key's label when it has no id) */
			if (o->id_len > 0)
				o->label = NULL;
		}
		free(h);
	}
	return rc;
}

/* Private and public key objects holding label, with their ids. */
static enum kg_code keys_with_label(struct hsm_token *t, const char *label,
                                    struct obj **out, size_t *n,
                                    struct kg_err *err)
{
	static const CK_OBJECT_CLASS cls[2] = {CKO_PRIVATE_KEY,
	                                       CKO_PUBLIC_KEY};
	struct obj *all = NULL, *nv;
	CK_OBJECT_HANDLE *h;
	size_t cnt = 0, m, i, j;
	enum kg_code rc = KG_OK;

	*out = NULL;
	*n = 0;
	for (i = 0; i < 2 && rc == KG_OK; i++) {
		CK_OBJECT_CLASS c = cls[i];
		CK_ATTRIBUTE tmpl[] = {
		        {CKA_CLASS, &c, sizeof(c)},
		        {CKA_LABEL, (void *)label, strlen(label)}};

		rc = hsm_obj_find(t, tmpl, 2, &h, &m, err);
		if (rc != KG_OK)
			break;
		nv = m ? realloc(all, (cnt + m) * sizeof(*all)) : all;
		if (m && nv == NULL)
			rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
		for (j = 0; rc == KG_OK && j < m; j++) {
			struct obj *o = &nv[cnt++];
			CK_ATTRIBUTE a = {CKA_ID, NULL, 0};
			CK_RV rv;

			memset(o, 0, sizeof(*o));
			o->h = h[j];
			o->cls = c;
			o->label = label;
			rv = hsm_obj_attrs(t, h[j], &a, 1);
			if (rv != CKR_OK)
				rc = hsm_rv_err(err, rv, "C_GetAttributeValue",
				                t->label);
			else if (a.pValue != NULL &&
			         a.ulValueLen <= sizeof(o->id)) {
				memcpy(o->id, a.pValue, a.ulValueLen);
				o->id_len = a.ulValueLen;
			}
			free(a.pValue);
		}
		if (nv != NULL)
			all = nv;
		free(h);
	}
	if (rc != KG_OK) {
		free(all);
		return rc;
	}
	*out = all;
	*n = cnt;
	return KG_OK;
}

static enum kg_code refuse_existing(struct hsm_token *t,
                                    const struct hsm_keygen *g,
                                    const struct obj *old, size_t nold,
                                    struct kg_err *err)
{
	struct hsm_key_info ki;
	size_t i;

	for (i = 0; i < nold; i++) {
		if (old[i].cls != CKO_PRIVATE_KEY ||
		    hsm_key_describe_obj(t, old[i].h, &ki, NULL,
		                         CK_INVALID_HANDLE, NULL) != KG_OK)
			continue;
		kg_err_set(err, KG_E_USAGE,
		           "a key labelled '%s' exists on token '%s': %s%s",
		           g->label, t->label, ki.uri,
		           hsm_hint(t->conf ? t->conf->hint_replace : NULL));
		hsm_key_info_clear(&ki);
		return KG_E_USAGE;
	}
	return kg_err_set(err, KG_E_USAGE,
	                  "a key labelled '%s' exists on token '%s'%s",
	                  g->label, t->label,
	                  hsm_hint(t->conf ? t->conf->hint_replace : NULL));
}

/*
 * --id: no other key may have it (two keys with one CKA_ID pair a
 * certificate or public key with the wrong one). Those of old, which
 * --force replaces, may.
 */
static enum kg_code refuse_taken_id(struct hsm_token *t,
                                    const struct hsm_keygen *g,
                                    const struct obj *old, size_t nold,
                                    struct kg_err *err)
{
	static const CK_OBJECT_CLASS cls[2] = {CKO_PRIVATE_KEY,
	                                       CKO_PUBLIC_KEY};
	CK_OBJECT_HANDLE *h = NULL;
	size_t n = 0, i, j, k;
	enum kg_code rc = KG_OK;
	char hex[129];

	for (i = 0; i < 2 && rc == KG_OK; i++) {
		CK_OBJECT_CLASS c = cls[i];
		CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &c, sizeof(c)},
		                       {CKA_ID, (void *)g->id, g->id_len}};

		rc = hsm_obj_find(t, tmpl, 2, &h, &n, err);
		for (j = 0; rc == KG_OK && j < n; j++) {
			for (k = 0; k < nold && old[k].h != h[j]; k++)
				;
			if (k < nold)
				continue; /* the key being replaced */
			for (k = 0; k < g->id_len && k < 64; k++)
				snprintf(hex + 2 * k, 3, "%02x", g->id[k]);
			rc = kg_err_set(err, KG_E_USAGE,
			                "id %s is taken on token '%s' by "
			                "another key; give another --id or "
			                "none (keygate then derives one from "
			                "the public key)",
			                hex, t->label);
		}
		free(h);
		h = NULL;
	}
	return rc;
}

/* What a module answers to a template it will not take. tpm2-pkcs11
 * says CKR_GENERAL_ERROR, which is also transient elsewhere. */
static int refusal(CK_RV rv)
{
	return rv == CKR_TEMPLATE_INCONSISTENT ||
	       rv == CKR_ATTRIBUTE_VALUE_INVALID ||
	       rv == CKR_ATTRIBUTE_TYPE_INVALID ||
	       rv == CKR_TEMPLATE_INCOMPLETE || rv == CKR_GENERAL_ERROR ||
	       rv == CKR_FUNCTION_FAILED;
}

/* Starts anew of the module in one key generation: at most this. */
#define KEYGEN_RESTARTS 2

/*
 * C_GenerateKeyPair, tried again only when a search for the temporary
 * label proves the failed call made nothing. When that search fails too
 * (SoftHSM2 keeps a store it could not read broken for the process), the
 * module is started anew and the search made there; *restarted then says
 * every handle found before is void.
 */
static CK_RV generate(struct hsm_token *t, struct hsm_keygen_tmpl *full,
                      struct hsm_keygen_tmpl *lean, CK_OBJECT_HANDLE *pub,
                      CK_OBJECT_HANDLE *priv, int *restarted, int *used_lean)
{
	CK_ATTRIBUTE q = {CKA_LABEL, full->label, strlen(full->label)};
	struct hsm_keygen_tmpl *tm = full;
	CK_OBJECT_HANDLE *h;
	size_t n;
	CK_RV rv;
	int tries = 0;

	*restarted = 0;
	*used_lean = 0;
	for (;;) {
		*pub = *priv = CK_INVALID_HANDLE;
		rv = hsm_C_GenerateKeyPair(t->f, t->s, &tm->mech, tm->pub,
		                           tm->npub, tm->priv, tm->npriv, pub,
		                           priv);
		if (rv == CKR_OK)
			return rv;
		/* a refusal of the template itself, proved by asking again
		 * with the false usages left out (set after) */
		if (!hsm_rv_transient(rv) && (tm == lean || !refusal(rv)))
			return rv;
		while (hsm_obj_find(t, &q, 1, &h, &n, NULL) != KG_OK) {
			/* cannot prove nothing was made, unless anew */
			if (*restarted >= KEYGEN_RESTARTS ||
			    hsm_token_restart(t, NULL) != KG_OK)
				return rv;
			(*restarted)++;
		}
		free(h);
		if (n != 0)
			return rv;
		if (tm != lean && lean != NULL) {
			tm = lean; /* once, and not counted as a try */
			*used_lean = 1;
			continue;
		}
		if (hsm_again(rv, &tries))
			continue;
		/* nothing made, but it keeps failing: the module may hold a
		 * store it could not read; once more on a module anew */
		if (*restarted >= KEYGEN_RESTARTS ||
		    hsm_token_restart(t, NULL) != KG_OK)
			return rv;
		(*restarted)++;
		tries = 0;
	}
}

/* The CKA_ID keygate gives a key: SHA-1 of the modulus or EC point. */
static enum kg_code public_id(struct hsm_token *t, const struct hsm_keygen *g,
                              CK_OBJECT_HANDLE pub, unsigned char *id,
                              struct kg_err *err)
{
	unsigned char *v = NULL;
	const unsigned char *pt = NULL;
	size_t vlen = 0, ptlen = 0;
	enum kg_code rc = KG_OK;
	CK_RV rv;
	size_t want =
	        g->type == HSM_KEY_ED
	                ? hsm_ed_len(g->curve_nid)
	                : 2 * (((size_t)hsm_ec_bits(g->curve_nid) + 7) / 8) +
	                          1;

	rv = hsm_obj_var(t, pub,
	                 g->type == HSM_KEY_RSA ? CKA_MODULUS : CKA_EC_POINT,
	                 &v, &vlen);
	if (rv != CKR_OK) {
		rc = hsm_rv_err(err, rv,
		                g->type == HSM_KEY_RSA
		                        ? "C_GetAttributeValue (CKA_MODULUS)"
		                        : "C_GetAttributeValue (CKA_EC_POINT)",
		                t->label);
	} else if (g->type == HSM_KEY_RSA) {
		pt = v;
		ptlen = vlen;
	} else if (!hsm_ec_point(v, vlen, want, &pt, &ptlen)) {
		rc = kg_err_set(err, KG_E_TOKEN,
		                "token '%s' (%s) gave the new %s key a "
		                "malformed CKA_EC_POINT (%zu bytes, not a DER "
		                "OCTET STRING holding a point on the curve); "
		                "the key cannot be used and is removed",
		                t->label, hsm_module_name(t),
		                OBJ_nid2sn(g->curve_nid), vlen);
	}
	if (rc == KG_OK)
		SHA1(pt, ptlen, id);
	free(v);
	return rc;
}

/* Sets CKA_ID (if id) and CKA_LABEL on h, retried while transient. */
static enum kg_code set_name(struct hsm_token *t, CK_OBJECT_HANDLE h,
                             const unsigned char *id, size_t id_len,
                             const char *label, struct kg_err *err)
{
	CK_ATTRIBUTE a[2] = {{CKA_LABEL, (void *)label, strlen(label)},
	                     {CKA_ID, (void *)id, id_len}};
	CK_RV rv;
	int tries = 0;

	do
		rv = hsm_C_SetAttributeValue(t->f, t->s, h, a, id ? 2 : 1);
	while (hsm_again(rv, &tries));
	if (rv != CKR_OK)
		return hsm_rv_err(err, rv, "C_SetAttributeValue", t->label);
	return KG_OK;
}

static enum kg_code hsm_key_gen_locked(struct hsm_token *t,
                                       const struct hsm_keygen *g,
                                       struct hsm_key_info *out,
                                       struct hsm_key **kout,
                                       struct kg_err *err)
{
	struct hsm_keygen_tmpl tm, tl;
	struct obj made[2]; /* [0] private, [1] public */
	unsigned extra = 0;
	int lean = 0;
	struct obj *old = NULL;
	unsigned char digest[SHA_DIGEST_LENGTH];
	const unsigned char *id = g->id;
	size_t nold = 0, id_len = g->id_len, i;
	char left[1400] = "";
	enum kg_code rc;
	CK_RV rv;
	int old_gone = 0, restarted = 0;

	memset(out, 0, sizeof(*out));
	memset(made, 0, sizeof(made));
	memset(&tl, 0, sizeof(tl));
	made[0].h = made[1].h = CK_INVALID_HANDLE;
	if (kout != NULL)
		*kout = NULL;
	/* what the token can make, asked before anything is made */
	rc = hsm_mech_keygen_check(t, g, err);
	if (rc != KG_OK)
		return rc;
	rc = g->label_checked && !g->force
	             ? KG_OK
	             : keys_with_label(t, g->label, &old, &nold, err);
	if (rc != KG_OK)
		return rc;
	if (nold > 0 && !g->force) {
		rc = refuse_existing(t, g, old, nold, err);
		free(old);
		return rc;
	}
	if (g->id != NULL) {
		rc = refuse_taken_id(t, g, old, nold, err);
		if (rc != KG_OK) {
			free(old);
			return rc;
		}
	}
	rc = hsm_keygen_tmpl_make(g, 0, &tm, err);
	if (rc == KG_OK)
		rc = hsm_keygen_tmpl_make(g, 1, &tl, err);
	if (rc != KG_OK) {
		hsm_keygen_tmpl_clear(&tm);
		hsm_keygen_tmpl_clear(&tl);
		free(old);
		return rc;
	}
	memcpy(tl.label, tm.label, sizeof(tl.label)); /* one search finds
	                                                  either */

	/* 1. the new pair, under its temporary label */
	rv = generate(t, &tm, &tl, &made[1].h, &made[0].h, &restarted, &lean);
	made[0].cls = CKO_PRIVATE_KEY;
	made[1].cls = CKO_PUBLIC_KEY;
	made[0].label = made[1].label = tm.label;
	if (g->id != NULL) {
		for (i = 0; i < 2; i++) {
			memcpy(made[i].id, g->id, g->id_len);
			made[i].id_len = g->id_len;
		}
	}
	if (rv != CKR_OK) {
		rc = hsm_rv_err(err, rv, "C_GenerateKeyPair", t->label);
		/* a module that failed and still handed out objects */
		if (made[0].h != CK_INVALID_HANDLE ||
		    made[1].h != CK_INVALID_HANDLE)
			destroy_objs(t, made, 2, left, sizeof(left));
		made[0].h = made[1].h = CK_INVALID_HANDLE;
		goto out;
	}

	/* the module was started anew: the old key's handles are void */
	if (restarted && nold > 0) {
		free(old);
		old = NULL;
		rc = keys_with_label(t, g->label, &old, &nold, err);
		if (rc != KG_OK)
			goto out;
	}

	/* the lean template: the false usages now, where the token lets */
	if (lean)
		extra = hsm_keygen_usage_fix(t, made[0].h, made[1].h,
		                             tm.usage);

	/* 2. its id and its real name; a failure here removes it */
	if (id == NULL) {
		rc = public_id(t, g, made[1].h, digest, err);
		if (rc != KG_OK)
			goto out;
		id = digest;
		id_len = sizeof(digest);
	}
	for (i = 0; i < 2; i++) {
		rc = set_name(t, made[i].h, g->id ? NULL : id, id_len,
		              g->label, err);
		if (rc != KG_OK)
			goto out;
		made[i].label = g->label;
		memcpy(made[i].id, id, id_len);
		made[i].id_len = id_len;
	}
	rc = hsm_key_describe_obj(t, made[0].h, out, NULL, made[1].h, err);
	out->usage_extra = extra;
	if (rc == KG_OK && kout != NULL) {
		struct hsm_key *k = calloc(1, sizeof(*k));

		if (k == NULL) {
			rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
		} else {
			k->t = t;
			t->keys++;
			k->priv = made[0].h;
			rc = hsm_key_describe_obj(t, made[0].h, &k->info, k,
			                          made[1].h, err);
			if (rc == KG_OK)
				*kout = k;
			else
				hsm_key_free(k);
		}
	}
	if (rc != KG_OK)
		goto out;

	/* 3. --force: retire the old key, its private half first, then
	 * its public key and its certificates */
	if (nold > 0) {
		rc = certs_of_old(t, g->label, &old, &nold, err);
		if (rc != KG_OK)
			goto out;
	}
	for (i = 0; i < 2 * nold; i++) {
		struct obj *o = &old[i % nold];

		if ((o->cls == CKO_PRIVATE_KEY) != (i < nold))
			continue;
		rc = destroy(t, o->h, err);
		if (rc != KG_OK && !old_gone) {
			/* the old key is whole: it stays, the new one goes */
			kg_err_prefix(err,
			              "cannot replace key '%s' on token '%s' "
			              "(the old key is kept, the new one "
			              "removed)",
			              g->label, t->label);
			goto out;
		}
		if (rc != KG_OK)
			break;
		o->h = CK_INVALID_HANDLE;
		old_gone = 1;
	}
	/* forward: the new key stays; one more try, then name what stays */
	if (rc != KG_OK && destroy_objs(t, old, nold, left, sizeof(left)) == 0)
		rc = KG_OK;
	if (rc != KG_OK) {
		kg_err_prefix(err,
		              "key '%s' on token '%s' was replaced by %s, but "
		              "not all of the old one could be removed",
		              g->label, t->label, out->uri);
		with_left(err, left);
		if (kout != NULL) {
			hsm_key_free(*kout);
			*kout = NULL;
		}
		hsm_key_info_clear(out);
		free(old);
		hsm_keygen_tmpl_clear(&tm);
		hsm_keygen_tmpl_clear(&tl);
		return KG_E_TOKEN;
	}
	made[0].h = made[1].h = CK_INVALID_HANDLE; /* kept */
	/* what went with the old key, for the caller to report */
	for (i = 0; i < nold; i++) {
		char name[1400] = "";
		char *r;
		size_t have = out->retired ? strlen(out->retired) : 0;

		if (old[i].cls != CKO_CERTIFICATE)
			continue;
		name_left(t, &old[i], name, sizeof(name));
		r = realloc(out->retired, have + strlen(name) + 2);
		if (r == NULL)
			break;
		snprintf(r + have, strlen(name) + 2, "%s%s", have ? "\n" : "",
		         name);
		out->retired = r;
	}
out:
	if (rc != KG_OK) {
		/* never leave a half-made key behind, or name it */
		destroy_objs(t, made, 2, left, sizeof(left));
		with_left(err, left);
		hsm_key_info_clear(out);
		if (kout != NULL) {
			hsm_key_free(*kout);
			*kout = NULL;
		}
	}
	hsm_keygen_tmpl_clear(&tm);
	hsm_keygen_tmpl_clear(&tl);
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
