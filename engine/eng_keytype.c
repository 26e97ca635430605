/* The key types keygate makes, named as --type and manifests name them. */
#include "engine/eng.h"
#include "engine/eng_gate.h"

#include <string.h>
#include <strings.h>

#include <openssl/obj_mac.h>

static const struct eng_key_type types[] = {
        {"rsa:1024", 1024, 0, NULL},
        {"rsa:2048", 2048, 0, NULL},
        {"rsa:3072", 3072, 0, NULL},
        {"rsa:4096", 4096, 0, NULL},
        {"ec:p256", 256, NID_X9_62_prime256v1, "P-256"},
        {"ec:p384", 384, NID_secp384r1, "P-384"},
        {"ec:p521", 521, NID_secp521r1, "P-521"},
        {"ed25519", 256, NID_ED25519, "Ed25519"},
        {"ed448", 456, NID_ED448, "Ed448"},
};

int eng_key_type_is_ed(const struct eng_key_type *kt)
{
	return kt->curve_nid == NID_ED25519 || kt->curve_nid == NID_ED448;
}

enum kg_code eng_key_type_parse(const char *s, const struct eng_key_type **out,
                                struct kg_err *err)
{
	size_t i;

	for (i = 0; s != NULL && i < sizeof(types) / sizeof(types[0]); i++) {
		if (strcasecmp(s, types[i].name) == 0) {
			*out = &types[i];
			return KG_OK;
		}
	}
	*out = NULL;
	return kg_err_set(err, KG_E_USAGE,
	                  "unsupported key type '%s': use rsa:1024, rsa:2048, "
	                  "rsa:3072, rsa:4096, ec:p256, ec:p384, ec:p521, "
	                  "ed25519 or ed448",
	                  s ? s : "");
}

enum kg_code eng_fallback_type(enum eng_target t, const char *type,
                               const struct eng_key_type **out,
                               struct kg_err *err)
{
	enum kg_code rc = eng_key_type_parse(type, out, err);
	const struct eng_key_type *kt = *out;

	if (rc != KG_OK)
		return rc;
	if (!eng_key_algorithm_ok(t, kt->curve ? kt->curve : "RSA",
	                          kt->bits)) {
		*out = NULL;
		return kg_err_set(err, KG_E_USAGE,
		                  "%s keys are not accepted for %s (it takes "
		                  "RSA 1024/2048%s); choose another key type",
		                  kt->name, eng_target_name(t),
		                  t == ENG_TARGET_ACM ? "-4096 and EC" : "");
	}
	return KG_OK;
}

enum kg_code eng_key_type_new(const struct eng_key_type *kt, EVP_PKEY **out,
                              struct kg_err *err)
{
	*out = eng_key_type_is_ed(kt)
	               ? EVP_PKEY_Q_keygen(NULL, NULL,
	                                   kt->curve_nid == NID_ED25519
	                                           ? "ED25519"
	                                           : "ED448")
	       : kt->curve ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", kt->curve)
	                   : EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	                                       (size_t)kt->bits);
	if (*out == NULL)
		return eng_ossl_err(err, KG_E_RUNTIME,
		                    "key generation failed");
	return KG_OK;
}
