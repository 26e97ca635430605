/* RFC 7512 URIs, through p11-kit's P11KitUri. */
#include "hsm/hsm_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

int hsm_is_uri(const char *s)
{
	return s != NULL && strncasecmp(s, "pkcs11:", 7) == 0;
}

void hsm_uri_free(P11KitUri *u)
{
	const char *pv;

	if (u == NULL)
		return;
	/* p11-kit frees its copy of a pin-value without wiping it */
	pv = p11_kit_uri_get_pin_value(u);
	if (pv != NULL)
		OPENSSL_cleanse((char *)pv, strlen(pv));
	p11_kit_uri_free(u);
}

/*
 * RFC 7512 2.3: an attribute may appear in the path at most once; p11-kit
 * would take the last value silently. The repeated name is set in dup.
 */
static int path_repeats(const char *s, char *dup, size_t cap)
{
	const char *p = s + 7, *end = p + strcspn(p, "?#"), *a, *b;

	for (a = p; a < end; a = b + 1) {
		const char *q, *qe;
		size_t alen;

		b = memchr(a, ';', (size_t)(end - a));
		if (b == NULL)
			b = end;
		alen = strcspn(a, "=;?#");
		if (a + alen > b)
			alen = (size_t)(b - a);
		for (q = b + 1; q < end; q = qe + 1) {
			qe = memchr(q, ';', (size_t)(end - q));
			if (qe == NULL)
				qe = end;
			if (alen > 0 && (size_t)(qe - q) > alen &&
			    q[alen] == '=' && strncmp(q, a, alen) == 0) {
				snprintf(dup, cap, "%.*s", (int)alen, a);
				return 1;
			}
		}
		if (b == end)
			break;
	}
	return 0;
}

enum kg_code hsm_uri_parse(const char *s, P11KitUri **out, struct kg_err *err)
{
	P11KitUri *u;
	char dup[64];
	int r;

	*out = NULL;
	if (hsm_is_uri(s) && path_repeats(s, dup, sizeof(dup)))
		return kg_err_set(
		        err, KG_E_USAGE,
		        "bad PKCS#11 URI '%s': '%s' appears twice in "
		        "its path (RFC 7512 allows each attribute "
		        "once)",
		        s, dup);
	u = p11_kit_uri_new();
	if (u == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	r = p11_kit_uri_parse(s, P11_KIT_URI_FOR_ANY, u);
	if (r != P11_KIT_URI_OK) {
		hsm_uri_free(u);
		return kg_err_set(err, KG_E_USAGE,
		                  "bad PKCS#11 URI '%s': %s (RFC 7512 form: "
		                  "pkcs11:token=NAME;object=LABEL)",
		                  s, p11_kit_uri_message(r));
	}
	*out = u;
	return KG_OK;
}

static enum kg_code format(P11KitUri *u, char **out, struct kg_err *err)
{
	char *s = NULL;
	int r;

	r = p11_kit_uri_format(u, P11_KIT_URI_FOR_ANY, &s);
	if (r != P11_KIT_URI_OK)
		return kg_err_set(err, KG_E_RUNTIME, "cannot format URI: %s",
		                  p11_kit_uri_message(r));
	*out = s;
	return KG_OK;
}

enum kg_code hsm_uri_for_label(const char *label, char **out,
                               struct kg_err *err)
{
	P11KitUri *u;
	CK_TOKEN_INFO *ti;
	size_t n = strlen(label);
	enum kg_code rc;

	*out = NULL;
	if (n == 0 || n > sizeof(ti->label))
		return kg_err_set(err, KG_E_USAGE,
		                  "bad token label '%s': 1 to %zu bytes",
		                  label, sizeof(ti->label));
	u = p11_kit_uri_new();
	if (u == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	/* p11-kit percent-encodes what needs it (';', '/', ' ', ...) */
	ti = p11_kit_uri_get_token_info(u);
	memset(ti->label, ' ', sizeof(ti->label));
	memcpy(ti->label, label, n);
	rc = format(u, out, err);
	hsm_uri_free(u);
	return rc;
}

enum kg_code hsm_uri_normalize(const char *s, char **out, struct kg_err *err)
{
	P11KitUri *u;
	enum kg_code rc;

	*out = NULL;
	rc = hsm_uri_parse(s, &u, err);
	if (rc != KG_OK)
		return rc;
	rc = format(u, out, err);
	hsm_uri_free(u);
	return rc;
}

enum kg_code hsm_uri_build(const CK_TOKEN_INFO *ti, const char *module_path,
                           const char *module_name, const char *label,
                           const unsigned char *id, size_t id_len,
                           CK_OBJECT_CLASS cls, char **out, struct kg_err *err)
{
	P11KitUri *u;
	CK_TOKEN_INFO *uti;
	CK_ATTRIBUTE a;
	enum kg_code rc;

	*out = NULL;
	u = p11_kit_uri_new();
	if (u == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	uti = p11_kit_uri_get_token_info(u);
	memcpy(uti->label, ti->label, sizeof(uti->label));
	memcpy(uti->manufacturerID, ti->manufacturerID,
	       sizeof(uti->manufacturerID));
	memcpy(uti->model, ti->model, sizeof(uti->model));
	memcpy(uti->serialNumber, ti->serialNumber, sizeof(uti->serialNumber));
	if (label != NULL) {
		a.type = CKA_LABEL;
		a.pValue = (void *)label;
		a.ulValueLen = strlen(label);
		p11_kit_uri_set_attribute(u, &a);
	}
	if (id != NULL && id_len > 0) {
		a.type = CKA_ID;
		a.pValue = (void *)id;
		a.ulValueLen = id_len;
		p11_kit_uri_set_attribute(u, &a);
	}
	if (cls != (CK_OBJECT_CLASS)-1) {
		a.type = CKA_CLASS;
		a.pValue = &cls;
		a.ulValueLen = sizeof(cls);
		p11_kit_uri_set_attribute(u, &a);
	}
	if (module_path != NULL)
		p11_kit_uri_set_module_path(u, module_path);
	else if (module_name != NULL)
		p11_kit_uri_set_module_name(u, module_name);
	rc = format(u, out, err);
	hsm_uri_free(u);
	return rc;
}
