#include "engine/eng_gate.h"

#include <stddef.h>

int eng_key_algorithm_ok(enum eng_target t, int is_rsa, int bits)
{
	if (is_rsa)
		return bits == 1024 || bits == 2048 ||
		       (t == ENG_TARGET_ACM && (bits == 3072 || bits == 4096));
	return t == ENG_TARGET_ACM &&
	       (bits == 256 || bits == 384 || bits == 521);
}

const char *eng_export_refusal(enum eng_target t, int is_rsa, int bits,
                               int sensitive, int extractable)
{
	if (sensitive != 0 && extractable != 1)
		return "key-not-exportable: the key is sensitive and not "
		       "extractable";
	if (sensitive != 0)
		return "key-not-exportable: the key is sensitive";
	if (extractable != 1)
		return "key-not-exportable: the key is not extractable";
	if (!eng_key_algorithm_ok(t, is_rsa, bits))
		return t == ENG_TARGET_ACM
		               ? "key-algorithm: ACM takes RSA 1024-4096 and "
		                 "EC "
		                 "P-256/384/521 only"
		               : "key-algorithm: services integrated with ACM "
		                 "take RSA 1024 and 2048 only";
	return NULL;
}
