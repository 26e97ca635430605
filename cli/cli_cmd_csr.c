/* csr create */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/kg_file.h"
#include "common/kg_json.h"
#include "engine/eng.h"

/* options, beside their handlers (the table in cli_main.c) */
const struct cli_opt cli_opts_csr_create[] = {
        {"digest", CLI_VALUE, "D", "sha256 (default), sha384 or sha512"},
        {"force", CLI_FLAG, NULL,
         "replace an existing --out file (manifest: files and keys)"},
        {"jobs", CLI_VALUE, "N",
         "manifest: token sessions at once (default: 2 per processor)"},
        {"key", CLI_VALUE, "KEY", "a pkcs11: key URI, or a PEM/DER key file"},
        {"manifest", CLI_VALUE, "FILE",
         "batch keygen+CSR: JSON Lines of label, type, subject, san"},
        {"out", CLI_VALUE, "FILE", "write here (default: stdout)"},
        {"out-dir", CLI_VALUE, "DIR", "manifest: DIR/LABEL.csr"},
        {"passphrase-source", CLI_VALUE, "SRC",
         "passphrase of an encrypted key file: file:, env:, fd:"},
        {"san", CLI_VALUE, "LIST", "DNS:a,DNS:b,IP:10.0.0.1,email:x@y,URI:u"},
        {"sig-alg", CLI_VALUE, "A",
         "pkcs1 (default) or rsa-pss (RSA keys; salt = digest length)"},
        {"subject", CLI_VALUE, "DN",
         "CN=api.example.com,O=Example or /O=../CN=.."},
        {"token", CLI_VALUE, "URI", "manifest: the token the keys go on"},
        CLI_OPT_END};

enum kg_code cli_csr_create(struct cli_ctx *c, const struct cli_cmd *cmd,
                            struct cli_args *a)
{
	const char *out = cli_opt(cmd, a, "out");
	struct eng_request r = {0};
	struct cli_key key = {0};
	X509_NAME *subject = NULL;
	GENERAL_NAMES *san = NULL;
	X509_REQ *req = NULL;
	struct eng_obj *objs = NULL;
	size_t nobj = 0, plen = 0;
	char *pem = NULL;
	struct kg_err err;
	enum kg_code rc;

	if (cli_opt(cmd, a, "manifest") != NULL)
		return cli_csr_manifest(c, cmd, a);
	if (cli_opt(cmd, a, "token") != NULL || cli_opt(cmd, a, "out-dir")) {
		kg_err_set(
		        &err, KG_E_USAGE,
		        "--token and --out-dir go with --manifest FILE (see "
		        "keygate csr create --help)");
		return cli_fail(c, &err);
	}
	rc = cli_naming(cmd, a, &subject, &san, &r.md, &err);
	if (rc == KG_OK)
		rc = eng_sig_alg_parse(cli_opt(cmd, a, "sig-alg"), &r.pss,
		                       &err);
	/* check the output before the token signs anything */
	if (rc == KG_OK && out != NULL && strcmp(out, "-") != 0)
		rc = kg_file_check_writable(out, cli_flag(cmd, a, "force"),
		                            &err);
	if (rc == KG_OK)
		rc = cli_key_open(c, cli_opt(cmd, a, "key"),
		                  cli_opt(cmd, a, "passphrase-source"), &key,
		                  &err);
	if (rc == KG_OK) {
		r.subject = subject;
		r.san = san;
		rc = eng_csr_build(&r, key.pkey, &req, &err);
	}
	if (rc == KG_OK)
		rc = eng_pem_req(req, &pem, &plen, &err);
	if (rc == KG_OK)
		rc = cli_record_out(c, "csr", &key, NULL, subject, pem, plen,
		                    out, out != NULL || !c->json, 0644,
		                    cli_flag(cmd, a, "force"), &err);
	if (rc == KG_OK && c->json &&
	    eng_decode_all((unsigned char *)pem, plen, "request", &objs, &nobj,
	                   &err) == KG_OK) {
		json_t *j = cli_obj_json(&objs[0]);

		json_object_set_new(j, "key", kg_json_str(key.desc));
		json_object_set_new(j, "out", kg_json_str(out));
		if (out == NULL)
			json_object_set_new(j, "pem", kg_json_str(pem));
		cli_emit(c, j);
	}
	if (rc == KG_OK && !c->json && out != NULL)
		cli_info(c, "wrote request for '%s' signed by %s to %s\n",
		         cli_opt(cmd, a, "subject"), key.desc, out);
	eng_obj_free_array(objs, nobj);
	OPENSSL_free(pem);
	X509_REQ_free(req);
	cli_key_close(&key);
	X509_NAME_free(subject);
	GENERAL_NAMES_free(san);
	return rc == KG_OK ? KG_OK : cli_fail(c, &err);
}
