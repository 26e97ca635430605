/*
 * cert show (engine/eng_show.c): eng_decode_all on any bytes (PEM blocks
 * or one DER object), then each object as cert show --json prints it
 * (cli_obj_json), and eng_key_encrypted on the same bytes.
 */
#include "tests/fuzz/fz.h"

#include <openssl/err.h>

#include "cli/cli.h"
#include "engine/eng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eng_obj *o = NULL;
	size_t n = 0, i;
	struct kg_err err;

	(void)eng_key_encrypted(data, size);
	if (eng_decode_all(data, size, "input", &o, &n, &err) == KG_OK) {
		if (o == NULL || n < 1)
			abort();
		for (i = 0; i < n; i++) {
			json_t *j = cli_obj_json(&o[i]);
			char *s = json_dumps(j, JSON_COMPACT);

			/* valid JSON whatever the bytes were */
			if (s == NULL || o[i].kind_name == NULL)
				abort();
			free(s);
			json_decref(j);
		}
		eng_obj_free_array(o, n);
	}
	ERR_clear_error();
	return 0;
}
