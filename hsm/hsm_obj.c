/* Objects on a token: attributes read in few calls, searches. */
#include "hsm/hsm_int.h"

#include <stdlib.h>
#include <string.h>

static void attrs_reset(CK_ATTRIBUTE *attrs, CK_ULONG n)
{
	CK_ULONG i;

	for (i = 0; i < n; i++) {
		free(attrs[i].pValue);
		attrs[i].pValue = NULL;
		attrs[i].ulValueLen = 0;
	}
}

/* One try of hsm_obj_attrs. */
static CK_RV attrs_once(struct hsm_token *t, CK_OBJECT_HANDLE h,
                        CK_ATTRIBUTE *attrs, CK_ULONG n)
{
	CK_ULONG i;
	CK_RV rv;

	rv = hsm_C_GetAttributeValue(t->f, t->s, h, attrs, n);
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
	rv = hsm_C_GetAttributeValue(t->f, t->s, h, attrs, n);
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

/*
 * Reads attrs in two calls however many there are (lengths, then values);
 * a token re-reads its object store on every call, so this is what keeps
 * a CSR near the raw floor. Retried as a whole while the failure is
 * transient. On failure every pValue is NULL again.
 */
CK_RV hsm_obj_attrs(struct hsm_token *t, CK_OBJECT_HANDLE h,
                    CK_ATTRIBUTE *attrs, CK_ULONG n)
{
	CK_ULONG i;
	CK_RV rv;
	int tries = 0;

	for (i = 0; i < n; i++) {
		attrs[i].pValue = NULL;
		attrs[i].ulValueLen = 0;
	}
	for (;;) {
		rv = attrs_once(t, h, attrs, n);
		if (rv == CKR_OK)
			return rv;
		attrs_reset(attrs, n);
		if (!hsm_again(rv, &tries))
			return rv;
	}
}

CK_RV hsm_obj_ulong(struct hsm_token *t, CK_OBJECT_HANDLE h,
                    CK_ATTRIBUTE_TYPE type, CK_ULONG *out)
{
	CK_ATTRIBUTE a = {type, NULL, 0};
	CK_RV rv = hsm_obj_attrs(t, h, &a, 1);

	if (rv == CKR_OK && (a.pValue == NULL || a.ulValueLen != sizeof(*out)))
		rv = CKR_ATTRIBUTE_TYPE_INVALID;
	if (rv == CKR_OK)
		memcpy(out, a.pValue, sizeof(*out));
	free(a.pValue);
	return rv;
}

/* One variable-length attribute. *buf: free(); NUL-terminated. */
CK_RV hsm_obj_var(struct hsm_token *t, CK_OBJECT_HANDLE h,
                  CK_ATTRIBUTE_TYPE type, unsigned char **buf, size_t *len)
{
	CK_ATTRIBUTE a = {type, NULL, 0};
	CK_RV rv = hsm_obj_attrs(t, h, &a, 1);

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

int hsm_attr_bool(const CK_ATTRIBUTE *a)
{
	if (a->pValue == NULL || a->ulValueLen != sizeof(CK_BBOOL))
		return -1;
	return *(CK_BBOOL *)a->pValue ? 1 : 0;
}

/* One try of hsm_obj_find: the search, then always its Final. */
static CK_RV find_once(struct hsm_token *t, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                       CK_OBJECT_HANDLE **out, size_t *count, const char **fn)
{
	CK_OBJECT_HANDLE *v = NULL, *nv, batch[32];
	CK_ULONG got;
	size_t cnt = 0;
	CK_RV rv, fin;

	*fn = "C_FindObjectsInit";
	rv = hsm_C_FindObjectsInit(t->f, t->s, tmpl, n);
	if (rv != CKR_OK)
		return rv;
	*fn = "C_FindObjects";
	for (;;) {
		rv = hsm_C_FindObjects(t->f, t->s, batch, 32, &got);
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
	/* a search left open makes the session's next one
	 * CKR_OPERATION_ACTIVE: its end is checked too */
	fin = hsm_C_FindObjectsFinal(t->f, t->s);
	if (rv == CKR_OK && fin != CKR_OK) {
		*fn = "C_FindObjectsFinal";
		rv = fin;
	}
	if (rv != CKR_OK) {
		free(v);
		return rv;
	}
	*out = v;
	*count = cnt;
	return CKR_OK;
}

/* All objects matching tmpl. *out: free(). */
enum kg_code hsm_obj_find(struct hsm_token *t, CK_ATTRIBUTE *tmpl, CK_ULONG n,
                          CK_OBJECT_HANDLE **out, size_t *count,
                          struct kg_err *err)
{
	const char *fn = "C_FindObjectsInit";
	CK_RV rv;
	int tries = 0;

	*out = NULL;
	*count = 0;
	for (;;) {
		rv = find_once(t, tmpl, n, out, count, &fn);
		if (!hsm_again(rv, &tries))
			break;
		/* a search whose end failed may still be open on the token */
		if (strcmp(fn, "C_FindObjectsInit") != 0)
			hsm_C_FindObjectsFinal(t->f, t->s);
	}
	if (rv != CKR_OK)
		return hsm_rv_err(err, rv, fn, t->label);
	return KG_OK;
}

CK_ULONG hsm_uri_tmpl(P11KitUri *u, CK_ATTRIBUTE *tmpl, int with_class)
{
	CK_ULONG n = 0;
	CK_ATTRIBUTE *a;

	if ((a = p11_kit_uri_get_attribute(u, CKA_LABEL)) != NULL)
		tmpl[n++] = *a;
	if ((a = p11_kit_uri_get_attribute(u, CKA_ID)) != NULL)
		tmpl[n++] = *a;
	if (with_class &&
	    (a = p11_kit_uri_get_attribute(u, CKA_CLASS)) != NULL)
		tmpl[n++] = *a;
	return n;
}

/* Objects of class cls matching the object part of uri (label, id). */
enum kg_code hsm_obj_find_uri(struct hsm_token *t, CK_OBJECT_CLASS cls,
                              const char *uri, CK_OBJECT_HANDLE **out,
                              size_t *n, struct kg_err *err)
{
	CK_ATTRIBUTE tmpl[3] = {{CKA_CLASS, &cls, sizeof(cls)}};
	CK_ULONG nt = 1;
	P11KitUri *u = NULL;
	enum kg_code rc;

	if (uri != NULL) {
		rc = hsm_uri_parse(uri, &u, err);
		if (rc != KG_OK)
			return rc;
		nt += hsm_uri_tmpl(u, tmpl + nt, 0);
	}
	rc = hsm_obj_find(t, tmpl, nt, out, n, err);
	hsm_uri_free(u);
	return rc;
}
