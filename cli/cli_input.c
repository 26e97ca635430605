/* Inputs that several commands read. */
#include "cli/cli.h"

#include <stdlib.h>

#include "common/kg_file.h"
#include "engine/eng_trust.h"

/*
 * Reads a file of certificates, at most cap bytes (what: "a truststore",
 * for the message); nothing usable is an error.
 */
enum kg_code cli_read_certs(const char *path, const char *what, size_t cap,
                            STACK_OF(X509) * *out, struct kg_err *err)
{
	unsigned char *buf = NULL;
	size_t len = 0;
	enum kg_code rc;

	*out = NULL;
	if (path == NULL)
		return kg_err_set(err, KG_E_USAGE, "give %s", what);
	rc = kg_file_read_max(path, cap, what, &buf, &len, err);
	if (rc == KG_OK)
		rc = eng_certs_parse(buf, len, path, out, NULL, err);
	if (rc == KG_OK && sk_X509_num(*out) == 0) {
		sk_X509_free(*out);
		*out = NULL;
		rc = kg_err_set(err, KG_REFUSED, "'%s' holds no certificate",
		                path);
	}
	free(buf);
	return rc;
}
