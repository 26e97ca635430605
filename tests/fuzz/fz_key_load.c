/*
 * Software private keys (engine/eng_show.c): eng_key_load on any bytes,
 * as --key FILE, --ca-key FILE and key decrypt read them (PEM or DER;
 * PKCS#8, PKCS#1, SEC1), without a passphrase: an encrypted key is
 * refused, never decrypted (a passphrase would let the input choose the
 * key derivation's cost; eng_key_kdf_check, which bounds it, parses
 * every input). Then eng_key_encrypted and eng_key_describe.
 */
#include "tests/fuzz/fz.h"

#include <openssl/err.h>

#include "engine/eng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	EVP_PKEY *k = NULL;
	struct kg_err err;
	char desc[64];
	int enc = eng_key_encrypted(data, size);

	/* the bound on an encrypted key's own cost: parsed, never derived */
	if (eng_key_kdf_check(data, size, "key.pem", &err) != KG_OK &&
	    (err.code != KG_E_USAGE || strstr(err.msg, "at most") == NULL))
		abort();

	if (eng_key_load(data, size, "key.pem", NULL, &k, &err) == KG_OK) {
		if (k == NULL || enc)
			abort(); /* an encrypted key needs its passphrase */
		eng_key_describe(k, desc, sizeof(desc));
		if (memchr(desc, '\0', sizeof(desc)) == NULL)
			abort();
		(void)eng_key_is_rsa(k);
		EVP_PKEY_free(k);
	} else if (k != NULL) {
		abort();
	}
	ERR_clear_error();
	return 0;
}
