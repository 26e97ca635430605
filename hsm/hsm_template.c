/*
 * The attribute templates of a key pair keygate makes: one place that
 * says what a new key is (token object, private, sensitive and not
 * extractable unless exportable), under a temporary label, and what it
 * may do: every usage attribute is set, true or false, so that no module
 * fills in its own defaults (EC keys that may decrypt, unwrap or derive).
 */
#include "hsm/hsm_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/rand.h>

static const CK_BYTE f4[] = {0x01, 0x00, 0x01};

/* The usages, by bit of HSM_USE_*: the private key's attribute, the
 * public key's, and the word --usage takes. */
static const struct {
	unsigned bit;
	CK_ATTRIBUTE_TYPE priv, pub;
	const char *word;
} uses[] = {
        {HSM_USE_SIGN, CKA_SIGN, CKA_VERIFY, "sign"},
        {HSM_USE_DECRYPT, CKA_DECRYPT, CKA_ENCRYPT, "decrypt"},
        {HSM_USE_UNWRAP, CKA_UNWRAP, CKA_WRAP, "unwrap"},
        {HSM_USE_DERIVE, CKA_DERIVE, CKA_DERIVE, "derive"},
        {HSM_USE_SIGN_RECOVER, CKA_SIGN_RECOVER, CKA_VERIFY_RECOVER,
         "sign-recover"},
};
#define NUSES (sizeof(uses) / sizeof(uses[0]))

enum kg_code hsm_usage_parse(const char *s, unsigned *out, struct kg_err *err)
{
	const char *p = s, *e;
	size_t i, len;

	*out = 0;
	while (*p != '\0') {
		e = strchr(p, ',');
		len = e ? (size_t)(e - p) : strlen(p);
		for (i = 0; i < NUSES; i++)
			if (strlen(uses[i].word) == len &&
			    strncmp(uses[i].word, p, len) == 0)
				break;
		if (i == NUSES)
			return kg_err_set(err, KG_E_USAGE,
			                  "bad --usage '%.*s' in '%s': give "
			                  "sign, decrypt, unwrap, derive or "
			                  "sign-recover, comma-separated",
			                  (int)len, p, s);
		*out |= uses[i].bit;
		p += len;
		if (*p == ',')
			p++;
	}
	if (*out == 0)
		return kg_err_set(
		        err, KG_E_USAGE,
		        "bad --usage: empty (example: --usage sign)");
	return KG_OK;
}

unsigned hsm_usage_allowed(enum hsm_key_type type)
{
	if (type == HSM_KEY_ED)
		return HSM_USE_SIGN;
	return type == HSM_KEY_RSA
	               ? HSM_USE_SIGN | HSM_USE_DECRYPT | HSM_USE_UNWRAP |
	                         HSM_USE_SIGN_RECOVER
	               : HSM_USE_SIGN | HSM_USE_DERIVE;
}

unsigned hsm_usage_default(enum hsm_key_type type)
{
	return type == HSM_KEY_RSA ? HSM_USE_SIGN | HSM_USE_DECRYPT
	                           : HSM_USE_SIGN;
}

void hsm_usage_str(unsigned mask, char *buf, size_t cap)
{
	size_t i, used = 0;

	if (cap == 0)
		return;
	buf[0] = '\0';
	for (i = 0; i < NUSES && used < cap; i++)
		if (mask & uses[i].bit)
			used += (size_t)snprintf(buf + used, cap - used,
			                         "%s%s", used ? "," : "",
			                         uses[i].word);
	if (buf[0] == '\0')
		snprintf(buf, cap, "none");
}

enum kg_code hsm_usage_check(const struct hsm_keygen *g, unsigned *out,
                             struct kg_err *err)
{
	unsigned want = g->usage ? g->usage : hsm_usage_default(g->type);
	unsigned bad = want & ~hsm_usage_allowed(g->type);
	char b[64];
	const char *kind = g->type == HSM_KEY_RSA  ? "RSA"
	                   : g->type == HSM_KEY_EC ? "EC"
	                                           : "EdDSA";

	*out = want;
	if (bad == 0)
		return KG_OK;
	hsm_usage_str(bad, b, sizeof(b));
	return kg_err_set(err, KG_E_USAGE,
	                  "--usage %s is not for %s keys (%s keys may: %s)", b,
	                  kind, kind,
	                  g->type == HSM_KEY_RSA
	                          ? "sign, decrypt, unwrap, sign-recover"
	                  : g->type == HSM_KEY_EC ? "sign, derive"
	                                          : "sign");
}

static void add(CK_ATTRIBUTE *arr, CK_ULONG *n, CK_ATTRIBUTE_TYPE type,
                const void *p, CK_ULONG len)
{
	arr[*n].type = type;
	arr[*n].pValue = (void *)p;
	arr[*n].ulValueLen = len;
	(*n)++;
}

enum kg_code hsm_keygen_tmpl_make(const struct hsm_keygen *g, int lean,
                                  struct hsm_keygen_tmpl *t,
                                  struct kg_err *err)
{
	unsigned char rnd[8];
	unsigned usage;
	ASN1_OBJECT *o;
	enum kg_code rc;
	size_t i;
	int plen;

	memset(t, 0, sizeof(*t));
	rc = hsm_usage_check(g, &usage, err);
	if (rc != KG_OK)
		return rc;
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return kg_err_set(err, KG_E_RUNTIME, "no random bytes");
	memcpy(t->label, "keygate-new-", 12);
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(t->label + 12 + 2 * i, 3, "%02x", rnd[i]);
	t->yes = CK_TRUE;
	t->no = CK_FALSE;
	t->sens = g->exportable ? CK_FALSE : CK_TRUE;
	t->extr = g->exportable ? CK_TRUE : CK_FALSE;
	t->bits = (CK_ULONG)g->bits;
	t->mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
	add(t->pub, &t->npub, CKA_TOKEN, &t->yes, sizeof(t->yes));
	add(t->pub, &t->npub, CKA_PRIVATE, &t->no, sizeof(t->no));
	add(t->pub, &t->npub, CKA_LABEL, t->label, strlen(t->label));
	add(t->priv, &t->npriv, CKA_TOKEN, &t->yes, sizeof(t->yes));
	add(t->priv, &t->npriv, CKA_PRIVATE, &t->yes, sizeof(t->yes));
	add(t->priv, &t->npriv, CKA_SENSITIVE, &t->sens, sizeof(t->sens));
	add(t->priv, &t->npriv, CKA_EXTRACTABLE, &t->extr, sizeof(t->extr));
	add(t->priv, &t->npriv, CKA_LABEL, t->label, strlen(t->label));
	t->lean = lean;
	t->usage = usage;
	for (i = 0; i < NUSES; i++) {
		t->use[i] = (usage & uses[i].bit) ? CK_TRUE : CK_FALSE;
		if (lean && !t->use[i])
			continue; /* set after, where the token allows it */
		add(t->priv, &t->npriv, uses[i].priv, &t->use[i],
		    sizeof(t->use[i]));
		/* a public key derives nothing: that is the private's */
		add(t->pub, &t->npub, uses[i].pub,
		    uses[i].bit == HSM_USE_DERIVE ? &t->no : &t->use[i],
		    sizeof(CK_BBOOL));
	}
	if (g->id != NULL) {
		add(t->pub, &t->npub, CKA_ID, g->id, g->id_len);
		add(t->priv, &t->npriv, CKA_ID, g->id, g->id_len);
	}
	if (g->type == HSM_KEY_RSA) {
		add(t->pub, &t->npub, CKA_MODULUS_BITS, &t->bits,
		    sizeof(t->bits));
		add(t->pub, &t->npub, CKA_PUBLIC_EXPONENT, f4, sizeof(f4));
		return KG_OK;
	}
	t->mech.mechanism = g->type == HSM_KEY_ED ? CKM_EC_EDWARDS_KEY_PAIR_GEN
	                                          : CKM_EC_KEY_PAIR_GEN;
	o = OBJ_nid2obj(g->curve_nid);
	plen = o ? i2d_ASN1_OBJECT(o, &t->params) : -1;
	if (plen <= 0)
		return kg_err_set(err, KG_E_USAGE, "unknown curve");
	add(t->pub, &t->npub, CKA_EC_PARAMS, t->params, (CK_ULONG)plen);
	return KG_OK;
}

unsigned hsm_keygen_usage_fix(struct hsm_token *t, CK_OBJECT_HANDLE priv,
                              CK_OBJECT_HANDLE pub, unsigned usage)
{
	CK_BBOOL no = CK_FALSE;
	CK_ATTRIBUTE a = {0, &no, sizeof(no)};
	unsigned extra = 0;
	size_t i;
	CK_RV rv;
	int tries;

	for (i = 0; i < NUSES; i++) {
		if (usage & uses[i].bit)
			continue;
		a.type = uses[i].priv;
		tries = 0;
		do
			rv = hsm_C_SetAttributeValue(t->f, t->s, priv, &a, 1);
		while (hsm_again(rv, &tries));
		if (rv != CKR_OK) {
			/* kept only if the token says it is true */
			CK_ATTRIBUTE r = {uses[i].priv, NULL, 0};

			if (hsm_obj_attrs(t, priv, &r, 1) != CKR_OK ||
			    hsm_attr_bool(&r) != 0)
				extra |= uses[i].bit;
			free(r.pValue);
		}
		if (uses[i].bit == HSM_USE_DERIVE)
			continue;
		a.type = uses[i].pub;
		tries = 0;
		do
			rv = hsm_C_SetAttributeValue(t->f, t->s, pub, &a, 1);
		while (hsm_again(rv, &tries));
	}
	return extra;
}

void hsm_keygen_tmpl_clear(struct hsm_keygen_tmpl *t)
{
	OPENSSL_free(t->params);
	t->params = NULL;
}
