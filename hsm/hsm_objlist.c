/* Every object on a token, of every class, with key-certificate pairs. */
#include "hsm/hsm_int.h"

#include <stdlib.h>
#include <string.h>

static const struct {
	enum hsm_class c;
	const char *name;
	CK_OBJECT_CLASS cko;
} classes[] = {
        {HSM_CLASS_PRIVATE, "private", CKO_PRIVATE_KEY},
        {HSM_CLASS_PUBLIC, "public", CKO_PUBLIC_KEY},
        {HSM_CLASS_SECRET, "secret", CKO_SECRET_KEY},
        {HSM_CLASS_CERT, "cert", CKO_CERTIFICATE},
        {HSM_CLASS_DATA, "data", CKO_DATA},
};
#define NCLASSES (sizeof(classes) / sizeof(classes[0]))

const char *hsm_class_name(enum hsm_class c)
{
	size_t i;

	for (i = 0; i < NCLASSES; i++)
		if (classes[i].c == c)
			return classes[i].name;
	return "other";
}

int hsm_class_parse(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < NCLASSES; i++)
		if (strcmp(classes[i].name, name) == 0)
			return (int)classes[i].c;
	return -1;
}

static enum hsm_class class_of(CK_OBJECT_CLASS cko)
{
	size_t i;

	for (i = 0; i < NCLASSES; i++)
		if (classes[i].cko == cko)
			return classes[i].c;
	return HSM_CLASS_OTHER;
}

int hsm_uri_class(const char *uri)
{
	P11KitUri *u = NULL;
	CK_ATTRIBUTE *a;
	CK_OBJECT_CLASS cko;
	struct kg_err err;
	int c = -1;

	if (hsm_uri_parse(uri, &u, &err) != KG_OK)
		return -1;
	a = p11_kit_uri_get_attribute(u, CKA_CLASS);
	if (a != NULL && a->pValue != NULL && a->ulValueLen == sizeof(cko)) {
		memcpy(&cko, a->pValue, sizeof(cko));
		c = (int)class_of(cko);
	}
	hsm_uri_free(u);
	return c;
}

static const char *type_of(enum hsm_class c, CK_ULONG kt, CK_ULONG ct)
{
	if (c == HSM_CLASS_CERT)
		return ct == CKC_X_509 ? "X.509" : NULL;
	if (c == HSM_CLASS_DATA || c == HSM_CLASS_OTHER)
		return NULL;
	switch (kt) {
	case CKK_RSA:
		return "RSA";
	case CKK_EC:
		return "EC";
	case CKK_EC_EDWARDS:
		return "EdDSA";
	case CKK_AES:
		return "AES";
	case CKK_GENERIC_SECRET:
		return "generic";
	case CKK_DES3:
		return "DES3";
	default:
		return NULL;
	}
}

void hsm_object_free_array(struct hsm_object *o, size_t n)
{
	size_t i;

	for (i = 0; o != NULL && i < n; i++) {
		free(o[i].label);
		free(o[i].id);
		free(o[i].uri);
	}
	free(o);
}

/* One object's class, label, id, type; its URI. */
static enum kg_code describe(struct hsm_token *t, CK_OBJECT_HANDLE h,
                             struct hsm_object *o, struct kg_err *err)
{
	CK_OBJECT_CLASS cko = (CK_OBJECT_CLASS)-1;
	CK_ULONG kt = (CK_ULONG)-1, ct = (CK_ULONG)-1;
	CK_ATTRIBUTE a[5] = {{CKA_CLASS, NULL, 0},
	                     {CKA_LABEL, NULL, 0},
	                     {CKA_ID, NULL, 0},
	                     {CKA_KEY_TYPE, NULL, 0},
	                     {CKA_CERTIFICATE_TYPE, NULL, 0}};
	CK_RV rv = hsm_obj_attrs(t, h, a, 5);

	if (rv != CKR_OK)
		return hsm_rv_err(err, rv, "C_GetAttributeValue", t->label);
	if (a[0].pValue != NULL && a[0].ulValueLen == sizeof(cko))
		memcpy(&cko, a[0].pValue, sizeof(cko));
	if (a[3].pValue != NULL && a[3].ulValueLen == sizeof(kt))
		memcpy(&kt, a[3].pValue, sizeof(kt));
	if (a[4].pValue != NULL && a[4].ulValueLen == sizeof(ct))
		memcpy(&ct, a[4].pValue, sizeof(ct));
	o->cls = class_of(cko);
	o->type = type_of(o->cls, kt, ct);
	o->label = a[1].pValue; /* NUL-terminated by hsm_obj_attrs */
	o->id = a[2].pValue;
	o->id_len = a[2].pValue ? a[2].ulValueLen : 0;
	o->handle = h;
	o->pair = -1;
	free(a[0].pValue);
	free(a[3].pValue);
	free(a[4].pValue);
	return hsm_uri_build(&t->info, t->module_path, t->module_name,
	                     o->label, o->id, o->id_len,
	                     o->cls == HSM_CLASS_OTHER ? (CK_OBJECT_CLASS)-1
	                                               : cko,
	                     &o->uri, err);
}

static int same_id(const struct hsm_object *a, const struct hsm_object *b)
{
	return a->id_len > 0 && a->id_len == b->id_len &&
	       memcmp(a->id, b->id, a->id_len) == 0;
}

/* Pairs by CKA_ID: each private key with the first certificate of its id
 * and the other way round; a public key with its private key. */
static void pair_up(struct hsm_object *o, size_t n)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		if (o[i].cls != HSM_CLASS_PRIVATE)
			continue;
		for (j = 0; j < n; j++) {
			if (j == i || !same_id(&o[i], &o[j]))
				continue;
			if (o[j].cls == HSM_CLASS_CERT && o[i].pair < 0)
				o[i].pair = (long)j;
			if ((o[j].cls == HSM_CLASS_CERT ||
			     o[j].cls == HSM_CLASS_PUBLIC) &&
			    o[j].pair < 0)
				o[j].pair = (long)i;
		}
	}
}

enum kg_code hsm_object_list(struct hsm_token *t, const char *uri, int cls,
                             struct hsm_object **out, size_t *n,
                             struct kg_err *err)
{
	CK_OBJECT_CLASS want = 0;
	CK_ATTRIBUTE tmpl[3];
	CK_ULONG nt = 0;
	CK_OBJECT_HANDLE *h = NULL;
	struct hsm_object *v = NULL;
	P11KitUri *u = NULL;
	size_t cnt = 0, i;
	enum kg_code rc = KG_OK;

	*out = NULL;
	*n = 0;
	if (uri != NULL) {
		rc = hsm_uri_parse(uri, &u, err);
		if (rc != KG_OK)
			return rc;
		nt = hsm_uri_tmpl(u, tmpl, 1);
	}
	if (cls >= 0 && nt < 3) {
		for (i = 0; i < NCLASSES; i++)
			if ((int)classes[i].c == cls)
				want = classes[i].cko;
		tmpl[nt++] = (CK_ATTRIBUTE){CKA_CLASS, &want, sizeof(want)};
	}
	hsm_lock_shared(t->sh);
	rc = hsm_obj_find(t, nt ? tmpl : NULL, nt, &h, &cnt, err);
	if (rc == KG_OK && cnt > 0) {
		v = calloc(cnt, sizeof(*v));
		if (v == NULL)
			rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
	}
	for (i = 0; rc == KG_OK && i < cnt; i++)
		rc = describe(t, h[i], &v[i], err);
	hsm_unlock(t->sh);
	hsm_uri_free(u);
	free(h);
	if (rc != KG_OK) {
		hsm_object_free_array(v, cnt);
		return rc;
	}
	/* a class given twice (URI type= and cls) that disagree: none */
	if (cls >= 0) {
		size_t k = 0;

		for (i = 0; i < cnt; i++) {
			if ((int)v[i].cls == cls) {
				v[k++] = v[i];
				continue;
			}
			free(v[i].label);
			free(v[i].id);
			free(v[i].uri);
		}
		cnt = k;
	}
	pair_up(v, cnt);
	*out = v;
	*n = cnt;
	return KG_OK;
}

int hsm_uri_names_object(const char *uri)
{
	P11KitUri *u = NULL;
	struct kg_err err;
	int named;

	if (hsm_uri_parse(uri, &u, &err) != KG_OK)
		return 0;
	named = p11_kit_uri_get_attribute(u, CKA_LABEL) != NULL ||
	        p11_kit_uri_get_attribute(u, CKA_ID) != NULL ||
	        p11_kit_uri_get_attribute(u, CKA_CLASS) != NULL;
	hsm_uri_free(u);
	return named;
}
