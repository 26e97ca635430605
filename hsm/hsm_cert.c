/* Certificate objects on a token. */
#include "hsm/hsm_int.h"

#include <stdlib.h>
#include <string.h>

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
	rc = hsm_obj_find_uri(t, CKO_CERTIFICATE, uri, &h, &cnt, err);
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
		CK_RV rv = hsm_obj_attrs(t, h[i], at, 3);

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
		rc = hsm_uri_build(&t->info, t->module_path, t->module_name,
		                   v[i].label, at[2].pValue,
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

/* Is a certificate like c (the same one, or the label) on t already? */
static enum kg_code cert_taken(struct hsm_token *t,
                               const struct hsm_cert_new *c, int *same,
                               struct kg_err *err)
{
	struct hsm_cert *have = NULL;
	size_t n = 0, i;
	enum kg_code rc;

	*same = 0;
	rc = hsm_cert_list(t, NULL, &have, &n, err);
	for (i = 0; rc == KG_OK && i < n; i++) {
		if (have[i].der != NULL && have[i].der_len == c->der_len &&
		    memcmp(have[i].der, c->der, c->der_len) == 0 &&
		    (*same = 1))
			rc = kg_err_set(err, KG_REFUSED,
			                "the certificate is on token '%s' "
			                "already: %s",
			                t->label, have[i].uri);
		else if (have[i].label != NULL && c->label != NULL &&
		         strcmp(have[i].label, c->label) == 0)
			rc = kg_err_set(
			        err, KG_REFUSED,
			        "another certificate on token '%s' has "
			        "the label '%s': %s; give --label",
			        t->label, c->label, have[i].uri);
	}
	hsm_cert_free_array(have, n);
	return rc;
}

enum kg_code hsm_cert_import(struct hsm_token *t, const struct hsm_cert_new *c,
                             char **uri, struct kg_err *err)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_ATTRIBUTE a[10] = {
	        {CKA_CLASS, &cls, sizeof(cls)},
	        {CKA_CERTIFICATE_TYPE, &ct, sizeof(ct)},
	        {CKA_TOKEN, &yes, sizeof(yes)},
	        {CKA_PRIVATE, &no, sizeof(no)},
	        {CKA_VALUE, (void *)c->der, c->der_len},
	        {CKA_SUBJECT, (void *)c->subject, c->subject_len},
	        {CKA_ISSUER, (void *)c->issuer, c->issuer_len},
	        {CKA_SERIAL_NUMBER, (void *)c->serial, c->serial_len},
	};
	CK_ULONG n = 8;
	CK_OBJECT_HANDLE h;
	enum kg_code rc;
	int tries = 0, same;
	CK_RV rv;

	*uri = NULL;
	if (c->label != NULL)
		a[n++] = (CK_ATTRIBUTE){CKA_LABEL, (void *)c->label,
		                        strlen(c->label)};
	if (c->id_len > 0)
		a[n++] = (CK_ATTRIBUTE){CKA_ID, (void *)c->id, c->id_len};
	rc = cert_taken(t, c, &same, err);
	if (rc != KG_OK)
		return rc;
	/*
	 * One call makes the whole object or nothing. A transient failure
	 * is tried again only once the token shows it made nothing: the
	 * same certificate found now is the one made.
	 */
	for (;;) {
		hsm_lock_excl(t->sh);
		rv = hsm_C_CreateObject(t->f, t->s, a, n, &h);
		hsm_unlock(t->sh);
		if (rv == CKR_OK || !hsm_rv_transient(rv))
			break;
		rc = cert_taken(t, c, &same, err);
		if (rc == KG_REFUSED && same) {
			rv = CKR_OK; /* it was made after all */
			break;
		}
		if (rc != KG_OK || !hsm_again(rv, &tries))
			break;
	}
	if (rv != CKR_OK)
		return hsm_rv_err(err, rv, "C_CreateObject", t->label);
	return hsm_uri_build(&t->info, t->module_path, t->module_name,
	                     c->label, c->id, c->id_len, CKO_CERTIFICATE, uri,
	                     err);
}
