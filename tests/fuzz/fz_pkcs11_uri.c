/*
 * pkcs11: URIs (hsm/hsm_uri.c): hsm_uri_parse, then what keygate reads
 * from a parsed URI (slot, module, PIN source or value, label and id, and
 * matching a token), and hsm_uri_normalize, whose output must parse and
 * normalise to itself. Also hsm_is_uri and hsm_uri_for_label on the same
 * string. (p11-kit's parser is not instrumented: coverage shows keygate's
 * side only.)
 */
#include "tests/fuzz/fz.h"

#include "common/kg_secret.h"
#include "hsm/hsm_int.h"

static void use(P11KitUri *u)
{
	CK_TOKEN_INFO ti;
	CK_SLOT_INFO si;
	CK_INFO ci;
	CK_ATTRIBUTE *a;
	enum kg_secret_kind kind;
	const char *src, *arg;
	struct kg_err err;

	(void)p11_kit_uri_get_slot_id(u);
	(void)p11_kit_uri_get_module_path(u);
	(void)p11_kit_uri_get_module_name(u);
	(void)p11_kit_uri_get_pin_value(u);
	src = p11_kit_uri_get_pin_source(u);
	if (src != NULL)
		(void)kg_secret_parse_source(src, &kind, &arg, &err);
	if ((a = p11_kit_uri_get_attribute(u, CKA_LABEL)) != NULL &&
	    a->ulValueLen > 0 && a->pValue == NULL)
		abort();
	if ((a = p11_kit_uri_get_attribute(u, CKA_ID)) != NULL &&
	    a->ulValueLen > 0 && a->pValue == NULL)
		abort();
	memset(&ti, ' ', sizeof(ti));
	memcpy(ti.label, "fuzz", 4);
	ti.flags = CKF_TOKEN_INITIALIZED;
	memset(&si, ' ', sizeof(si));
	memset(&ci, ' ', sizeof(ci));
	(void)p11_kit_uri_match_token_info(u, &ti);
	(void)p11_kit_uri_match_slot_info(u, &si);
	(void)p11_kit_uri_match_module_info(u, &ci);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fz_str(data, size), *n1 = NULL, *n2 = NULL, *l = NULL;
	P11KitUri *u = NULL;
	struct kg_err err;

	(void)hsm_is_uri(s);
	if (hsm_uri_parse(s, &u, &err) == KG_OK) {
		if (u == NULL)
			abort();
		use(u);
		hsm_uri_free(u);
	}
	if (hsm_uri_normalize(s, &n1, &err) == KG_OK) {
		/* what keygate prints pastes back in, unchanged */
		if (hsm_uri_normalize(n1, &n2, &err) != KG_OK ||
		    strcmp(n1, n2) != 0) {
			fprintf(stderr, "normalised '%s' -> '%s'\n", n1,
			        n2 ? n2 : err.msg);
			abort();
		}
	}
	if (hsm_uri_for_label(s, &l, &err) == KG_OK &&
	    hsm_uri_parse(l, &u, &err) == KG_OK)
		hsm_uri_free(u);
	free(l);
	free(n1);
	free(n2);
	free(s);
	return 0;
}
