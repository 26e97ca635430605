/* Module resolution: URI module-path/-name, --module, KEYGATE_MODULE, p11-kit.
 */
#include "hsm/hsm_int.h"

#include <stdlib.h>
#include <string.h>

void hsm_pad_copy(char *dst, const CK_UTF8CHAR *src, size_t n)
{
	memcpy(dst, src, n);
	while (n > 0 && (dst[n - 1] == ' ' || dst[n - 1] == '\0'))
		n--;
	dst[n] = '\0';
}

char *hsm_module_path(CK_FUNCTION_LIST *f)
{
	return p11_kit_module_get_filename(f);
}

void hsm_module_ref(const struct hsm_modset *m, CK_FUNCTION_LIST *f,
                    char **path, char **name)
{
	*path = *name = NULL;
	if (m == NULL || m->single == NULL)
		*name = p11_kit_module_get_name(f);
	if (*name == NULL)
		*path = p11_kit_module_get_filename(f);
}

static enum kg_code load_path(const char *path, const char *hint,
                              struct hsm_modset *m, struct kg_err *err)
{
	const char *why;
	double t0;
	CK_RV rv;

	m->single = p11_kit_module_load(path, 0);
	if (m->single == NULL) {
		why = p11_kit_message();
		return kg_err_set(err, KG_E_TOKEN,
		                  "cannot load PKCS#11 module '%s': %s%s",
		                  path, why ? why : "unknown error",
		                  hsm_hint(hint));
	}
	t0 = hsm_trace_t0();
	rv = p11_kit_module_initialize(m->single);
	hsm_trace_note(m->single, "C_Initialize", rv, t0);
	if (rv != CKR_OK) {
		p11_kit_module_release(m->single);
		m->single = NULL;
		return hsm_rv_err_at(err, rv, "C_Initialize", path,
		                     "(not opened)");
	}
	m->one[0] = m->single;
	m->one[1] = NULL;
	m->list = m->one;
	return KG_OK;
}

/*
 * p11-kit's registry, each module started on its own: one that fails to
 * start (a TPM module on a host without a TPM) is one warning naming it
 * and its CKR, and the others' tokens are still found.
 */
static enum kg_code load_registry(const struct hsm_conf *conf,
                                  struct hsm_modset *m, struct kg_err *err)
{
	CK_FUNCTION_LIST **all = p11_kit_modules_load(NULL, 0);
	const char *why, *rvn;
	char msg[400], *name;
	size_t i, n = 0;
	double t0;
	CK_RV rv;

	if (all == NULL) {
		why = p11_kit_message();
		return kg_err_set(err, KG_E_TOKEN,
		                  "cannot load p11-kit's module registry: %s",
		                  why ? why : "unknown error");
	}
	for (i = 0; all[i] != NULL; i++) {
		t0 = hsm_trace_t0();
		rv = p11_kit_module_initialize(all[i]);
		hsm_trace_note(all[i], "C_Initialize", rv, t0);
		if (rv == CKR_OK) {
			all[n++] = all[i];
			continue;
		}
		name = p11_kit_module_get_name(all[i]);
		rvn = hsm_rv_name(rv);
		snprintf(msg, sizeof(msg),
		         "PKCS#11 module '%s' of the p11-kit registry did not "
		         "start (C_Initialize: %s); its tokens are left out",
		         name ? name : "?", rvn ? rvn : "unknown CKR");
		if (conf != NULL && conf->warn != NULL)
			conf->warn(conf->warn_arg, msg);
		free(name);
		p11_kit_module_release(all[i]);
	}
	all[n] = NULL;
	m->registry = all;
	return KG_OK;
}

enum kg_code hsm_modset_open(P11KitUri *uri, const struct hsm_conf *conf,
                             struct hsm_modset **out, struct kg_err *err)
{
	const char *path = NULL, *name = NULL;
	struct hsm_modset *m;
	enum kg_code rc;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	m->hint_tokens = conf ? conf->hint_tokens : NULL;
	if (uri != NULL) {
		path = p11_kit_uri_get_module_path(uri);
		name = p11_kit_uri_get_module_name(uri);
	}
	if (path == NULL && name == NULL && conf != NULL)
		path = conf->module;
	if (path != NULL && *path == '\0')
		path = NULL;

	if (path != NULL) {
		rc = load_path(path, conf ? conf->hint_module : NULL, m, err);
		if (rc != KG_OK)
			goto fail;
	} else {
		rc = load_registry(conf, m, err);
		if (rc != KG_OK)
			goto fail;
		if (m->registry[0] == NULL) {
			rc = kg_err_set(
			        err, KG_E_TOKEN,
			        "no PKCS#11 module registered with "
			        "p11-kit%s",
			        hsm_hint(conf ? conf->hint_module : NULL));
			goto fail;
		}
		m->list = m->registry;
		if (name != NULL) {
			CK_FUNCTION_LIST *f =
			        p11_kit_module_for_name(m->registry, name);
			if (f == NULL) {
				rc = kg_err_set(err, KG_E_TOKEN,
				                "no PKCS#11 module named '%s' "
				                "in the p11-kit registry%s",
				                name,
				                hsm_hint(m->hint_tokens));
				goto fail;
			}
			m->one[0] = f;
			m->one[1] = NULL;
			m->list = m->one;
		}
	}
	*out = m;
	return KG_OK;
fail:
	hsm_modset_close(m);
	return rc;
}

void hsm_modset_close(struct hsm_modset *m)
{
	size_t i;
	double t0;
	CK_RV rv;

	if (m == NULL)
		return;
	if (m->single != NULL) {
		t0 = hsm_trace_t0();
		rv = p11_kit_module_finalize(m->single);
		hsm_trace_note(m->single, "C_Finalize", rv, t0);
		p11_kit_module_release(m->single);
	}
	for (i = 0; m->registry != NULL && m->registry[i] != NULL; i++) {
		t0 = hsm_trace_t0();
		rv = p11_kit_module_finalize(m->registry[i]);
		hsm_trace_note(m->registry[i], "C_Finalize", rv, t0);
	}
	if (m->registry != NULL)
		p11_kit_modules_release(m->registry);
	free(m);
}
