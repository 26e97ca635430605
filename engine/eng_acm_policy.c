/* What each ACM target takes, and the export verdict on a token key. */
#include "engine/eng_gate.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/kg_pub.h"
#include "common/kg_time.h"
#include "engine/eng.h"
#include "engine/eng_acm.h"
#include "engine/eng_pem.h"

enum kg_code eng_target_parse(const char *s, enum eng_target *out,
                              struct kg_err *err)
{
	if (s == NULL || strcmp(s, "acm-integrated") == 0)
		*out = ENG_TARGET_ACM_INTEGRATED;
	else if (strcmp(s, "acm") == 0)
		*out = ENG_TARGET_ACM;
	else
		return kg_err_set(err, KG_E_USAGE,
		                  "unknown target '%s': use acm-integrated "
		                  "(RSA 1024/2048) or acm",
		                  s);
	return KG_OK;
}

const char *eng_target_name(enum eng_target t)
{
	return t == ENG_TARGET_ACM ? "acm" : "acm-integrated";
}

const char *eng_key_acm_alg(const EVP_PKEY *k)
{
	static const char *const nist[] = {"P-256", "P-384", "P-521"};
	char group[64];
	size_t glen = 0, i;
	const char *name;
	int nid;

	if (EVP_PKEY_is_a(k, "RSA") || EVP_PKEY_is_a(k, "KG-RSA"))
		return "RSA";
	if (!(EVP_PKEY_is_a(k, "EC") || EVP_PKEY_is_a(k, "KG-EC")) ||
	    !EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME,
	                                    group, sizeof(group), &glen)) {
		ERR_clear_error();
		return NULL;
	}
	nid = OBJ_sn2nid(group);
	name = nid != NID_undef ? EC_curve_nid2nist(nid) : NULL;
	for (i = 0; name != NULL && i < sizeof(nist) / sizeof(nist[0]); i++)
		if (strcmp(name, nist[i]) == 0)
			return nist[i];
	return NULL;
}

int eng_key_algorithm_ok(enum eng_target t, const char *alg, int bits)
{
	if (alg == NULL)
		return 0;
	if (strcmp(alg, "RSA") == 0)
		return bits == 1024 || bits == 2048 ||
		       (t == ENG_TARGET_ACM && (bits == 3072 || bits == 4096));
	return t == ENG_TARGET_ACM &&
	       (strcmp(alg, "P-256") == 0 || strcmp(alg, "P-384") == 0 ||
	        strcmp(alg, "P-521") == 0);
}

const char eng_fallback_hint[] =
        "keys that must stay on the HSM never leave it; for an importable "
        "key use the software fallback: keygate bundle fallback --subject "
        "DN --out DIR";

struct eng_export_verdict eng_export_verdict(enum eng_target t,
                                             const char *alg, int bits,
                                             int sensitive, int extractable)
{
	struct eng_export_verdict v = {NULL, NULL, NULL};

	if (sensitive != 0 || extractable != 1) {
		v.code = "key-not-exportable";
		v.state = sensitive != 0 && extractable != 1
		                  ? "sensitive and not extractable"
		          : sensitive != 0 ? "sensitive"
		                           : "not extractable";
		v.reason = sensitive != 0 && extractable != 1
		                   ? "the key is sensitive and not extractable"
		           : sensitive != 0 ? "the key is sensitive"
		                            : "the key is not extractable";
	} else if (!eng_key_algorithm_ok(t, alg, bits)) {
		v.code = "key-algorithm";
		v.reason = t == ENG_TARGET_ACM
		                   ? "ACM takes RSA 1024-4096 and EC "
		                     "P-256/384/521 only"
		                   : "services integrated with ACM take RSA "
		                     "1024 and 2048 only";
	}
	return v;
}

int eng_export_check(struct eng_findings *f, enum eng_target t,
                     const char *alg, int bits, int sensitive, int extractable,
                     const char *input)
{
	struct eng_export_verdict v =
	        eng_export_verdict(t, alg, bits, sensitive, extractable);

	if (v.code == NULL || strcmp(v.code, "key-not-exportable") != 0)
		return 0;
	eng_finding_add(f, v.code, input, -1, NULL, eng_fallback_hint,
	                "the token key is %s; it cannot leave the token",
	                v.state);
	return 1;
}
