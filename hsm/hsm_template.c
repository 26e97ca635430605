/*
 * The attribute templates of a key pair keygate makes: one place that
 * says what a new key is (token object, private, sensitive and not
 * extractable unless exportable, may sign), under a temporary label.
 */
#include "hsm/hsm_int.h"

#include <stdio.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/rand.h>

static const CK_BYTE f4[] = {0x01, 0x00, 0x01};

static void add(CK_ATTRIBUTE *arr, CK_ULONG *n, CK_ATTRIBUTE_TYPE type,
                const void *p, CK_ULONG len)
{
	arr[*n].type = type;
	arr[*n].pValue = (void *)p;
	arr[*n].ulValueLen = len;
	(*n)++;
}

enum kg_code hsm_keygen_tmpl_make(const struct hsm_keygen *g,
                                  struct hsm_keygen_tmpl *t,
                                  struct kg_err *err)
{
	unsigned char rnd[8];
	ASN1_OBJECT *o;
	size_t i;
	int plen;

	memset(t, 0, sizeof(*t));
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
	add(t->pub, &t->npub, CKA_VERIFY, &t->yes, sizeof(t->yes));
	add(t->pub, &t->npub, CKA_LABEL, t->label, strlen(t->label));
	add(t->priv, &t->npriv, CKA_TOKEN, &t->yes, sizeof(t->yes));
	add(t->priv, &t->npriv, CKA_PRIVATE, &t->yes, sizeof(t->yes));
	add(t->priv, &t->npriv, CKA_SENSITIVE, &t->sens, sizeof(t->sens));
	add(t->priv, &t->npriv, CKA_EXTRACTABLE, &t->extr, sizeof(t->extr));
	add(t->priv, &t->npriv, CKA_SIGN, &t->yes, sizeof(t->yes));
	add(t->priv, &t->npriv, CKA_LABEL, t->label, strlen(t->label));
	if (g->id != NULL) {
		add(t->pub, &t->npub, CKA_ID, g->id, g->id_len);
		add(t->priv, &t->npriv, CKA_ID, g->id, g->id_len);
	}
	if (g->type == HSM_KEY_RSA) {
		add(t->pub, &t->npub, CKA_MODULUS_BITS, &t->bits,
		    sizeof(t->bits));
		add(t->pub, &t->npub, CKA_PUBLIC_EXPONENT, f4, sizeof(f4));
		add(t->pub, &t->npub, CKA_ENCRYPT, &t->yes, sizeof(t->yes));
		add(t->priv, &t->npriv, CKA_DECRYPT, &t->yes, sizeof(t->yes));
		return KG_OK;
	}
	t->mech.mechanism = CKM_EC_KEY_PAIR_GEN;
	o = OBJ_nid2obj(g->curve_nid);
	plen = o ? i2d_ASN1_OBJECT(o, &t->params) : -1;
	if (plen <= 0)
		return kg_err_set(err, KG_E_USAGE, "unknown curve");
	add(t->pub, &t->npub, CKA_EC_PARAMS, t->params, (CK_ULONG)plen);
	return KG_OK;
}

void hsm_keygen_tmpl_clear(struct hsm_keygen_tmpl *t)
{
	OPENSSL_free(t->params);
	t->params = NULL;
}
