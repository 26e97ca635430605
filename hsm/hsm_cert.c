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
