/* key gen, key list, key show */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/objects.h>

#include "common/kg_audit.h"
#include "common/kg_file.h"
#include "common/kg_hex.h"
#include "common/kg_json.h"
#include "common/kg_secret.h"
#include "engine/eng.h"
#include "engine/eng_gate.h"

/* options, beside their handlers (the table in cli_main.c) */
const struct cli_opt cli_opts_key_gen[] = {
        {"exportable", CLI_FLAG, NULL,
         "sensitive=false, extractable=true (bundle export can read it)"},
        {"force", CLI_FLAG, NULL, "replace keys already holding the label"},
        {"id", CLI_VALUE, "HEX", "CKA_ID (default: SHA-1 of the public key)"},
        {"label", CLI_VALUE, "L", "the key's label (CKA_LABEL)"},
        {"token", CLI_VALUE, "URI", "the token, e.g. pkcs11:token=ci"},
        {"type", CLI_VALUE, "T",
         "rsa:1024 rsa:2048 (default) rsa:3072 rsa:4096 ec:p256 ec:p384 "
         "ec:p521 ed25519 ed448"},
        {"usage", CLI_VALUE, "LIST",
         "what the key may do: sign, decrypt, unwrap, derive, sign-recover "
         "(default: sign; RSA also decrypt)"},
        CLI_OPT_END};

const struct cli_opt cli_opts_key_list[] = {
        {"token", CLI_VALUE, "URI", "the token, e.g. pkcs11:token=ci"},
        CLI_OPT_END};

const struct cli_opt cli_opts_key_decrypt[] = {
        {"force", CLI_FLAG, NULL, "replace an existing --out file"},
        {"out", CLI_VALUE, "FILE", "the unencrypted PKCS#8 key (mode 0600)"},
        {"passphrase-source", CLI_VALUE, "SRC",
         "file:PATH, env:NAME or fd:N (else a prompt on a terminal)"},
        CLI_OPT_END};

static enum kg_code parse_id(const char *s, unsigned char *id, size_t cap,
                             size_t *len, struct kg_err *err)
{
	if (!kg_unhex(s, id, cap, len))
		return kg_err_set(
		        err, KG_E_USAGE,
		        "bad --id: give 1 to %zu bytes as hex digits "
		        "(example: --id 01a2)",
		        cap);
	if (*len == 0)
		return kg_err_set(err, KG_E_USAGE, "bad --id: empty");
	return KG_OK;
}

static const char *tri(int v)
{
	return v < 0 ? "unknown" : v ? "yes" : "no";
}

static json_t *tri_json(int v)
{
	return v < 0 ? json_null() : json_boolean(v);
}

/* "code: reason" of the export verdict for acm-integrated; 0 if none */
static int export_refusal(const struct hsm_key_info *k, char *buf, size_t cap)
{
	struct eng_export_verdict v =
	        eng_export_verdict(ENG_TARGET_ACM_INTEGRATED,
	                           k->type == HSM_KEY_RSA ? "RSA" : k->curve,
	                           k->bits, k->sensitive, k->extractable);

	buf[0] = '\0';
	if (v.code == NULL)
		return 0;
	snprintf(buf, cap, "%s: %s", v.code, v.reason);
	return 1;
}

/* The usages the token says are true; null if it answered for none. */
static json_t *usage_json(const struct hsm_key_info *k)
{
	static const struct {
		unsigned bit;
		const char *word;
	} w[] = {{HSM_USE_SIGN, "sign"},
	         {HSM_USE_DECRYPT, "decrypt"},
	         {HSM_USE_UNWRAP, "unwrap"},
	         {HSM_USE_DERIVE, "derive"},
	         {HSM_USE_SIGN_RECOVER, "sign-recover"}};
	json_t *a;
	size_t i;

	if (k->usage_known == 0)
		return json_null();
	a = json_array();
	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++)
		if (k->usage & w[i].bit)
			json_array_append_new(a, json_string(w[i].word));
	return a;
}

/* CKA_ALLOWED_MECHANISMS as an array of names; null: any. */
static json_t *allowed_json(const char *list)
{
	json_t *a;
	const char *p = list, *e;

	if (list == NULL)
		return json_null();
	a = json_array();
	while (*p != '\0') {
		e = strchr(p, ',');
		json_array_append_new(
		        a, json_stringn(p, e ? (size_t)(e - p) : strlen(p)));
		if (e == NULL)
			break;
		p = e + 1;
	}
	return a;
}

static json_t *key_json(const struct hsm_key_info *k)
{
	json_t *o = json_object();
	char why[160];
	int refused = export_refusal(k, why, sizeof(why));

	json_object_set_new(o, "uri", kg_json_str(k->uri));
	json_object_set_new(o, "label", kg_json_str(k->label));
	json_object_set_new(o, "id", kg_json_hex(k->id, k->id_len));
	json_object_set_new(o, "type",
	                    json_string(k->type == HSM_KEY_RSA  ? "rsa"
	                                : k->type == HSM_KEY_EC ? "ec"
	                                : k->type == HSM_KEY_ED ? "ed"
	                                                        : "other"));
	json_object_set_new(o, "bits", json_integer(k->bits));
	json_object_set_new(o, "curve",
	                    k->curve ? json_string(k->curve) : json_null());
	json_object_set_new(o, "sensitive", tri_json(k->sensitive));
	json_object_set_new(o, "extractable", tri_json(k->extractable));
	json_object_set_new(o, "always_sensitive",
	                    tri_json(k->always_sensitive));
	json_object_set_new(o, "never_extractable",
	                    tri_json(k->never_extractable));
	json_object_set_new(o, "local", tri_json(k->local));
	json_object_set_new(o, "sign", tri_json(k->can_sign));
	json_object_set_new(o, "usage", usage_json(k));
	json_object_set_new(o, "always_authenticate",
	                    tri_json(k->always_auth));
	json_object_set_new(o, "allowed_mechanisms", allowed_json(k->allowed));
	json_object_set_new(o, "exportable", json_boolean(!refused));
	json_object_set_new(o, "export_refusal",
	                    refused ? json_string(why) : json_null());
	return o;
}

static void key_print(const struct hsm_key_info *k)
{
	char idhex[sizeof(k->id) * 2 + 1];
	char why[160], use[80];
	int refused = export_refusal(k, why, sizeof(why));

	kg_hex(k->id, k->id_len, idhex);
	printf("key '%s'\n", k->label ? k->label : "");
	printf("  uri:               %s\n", k->uri);
	printf("  id:                %s\n", idhex[0] ? idhex : "-");
	if (k->type == HSM_KEY_EC)
		printf("  type:              EC %s\n",
		       k->curve ? k->curve : "(unknown curve)");
	else if (k->type == HSM_KEY_ED)
		printf("  type:              %s\n",
		       k->curve ? k->curve : "EdDSA (unknown curve)");
	else
		printf("  type:              %s %d\n",
		       k->type == HSM_KEY_RSA ? "RSA" : "other", k->bits);
	printf("  sensitive:         %s\n", tri(k->sensitive));
	printf("  extractable:       %s\n", tri(k->extractable));
	printf("  always-sensitive:  %s\n", tri(k->always_sensitive));
	printf("  never-extractable: %s\n", tri(k->never_extractable));
	printf("  local:             %s\n", tri(k->local));
	hsm_usage_str(k->usage, use, sizeof(use));
	printf("  usage:             %s\n", k->usage_known ? use : "unknown");
	printf("  always-auth:       %s\n", tri(k->always_auth));
	printf("  mechanisms:        %s\n", k->allowed ? k->allowed : "any");
	printf("  exportable:        %s%s%s\n", refused ? "no" : "yes",
	       refused ? " - " : "", why);
}

void cli_keygen_extra(struct cli_ctx *c, const struct hsm_key_info *k,
                      const char *token)
{
	char use[80], msg[300];

	if (k->usage_extra == 0)
		return;
	hsm_usage_str(k->usage_extra, use, sizeof(use));
	snprintf(msg, sizeof(msg),
	         "token '%s' refused a key pair with every usage set; the "
	         "new key '%s' was made without the false ones and may %s "
	         "too (the token would not set them false)",
	         token, k->label ? k->label : "", use);
	cli_warn(c, msg);
}

void cli_keygen_retired(struct cli_ctx *c, struct hsm_token *t,
                        const struct hsm_key_info *k)
{
	char *list, *line, *save = NULL;

	if (k->retired == NULL || (list = strdup(k->retired)) == NULL)
		return;
	for (line = strtok_r(list, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save)) {
		char msg[1600];

		snprintf(msg, sizeof(msg),
		         "the old key's certificate was deleted with it: %s",
		         line);
		cli_warn(c, msg);
		{
			struct kg_audit_rec r = {0};

			r.op = "object-delete";
			r.result = "ok";
			r.key = line;
			r.detail = "certificate of a key replaced by key gen "
			           "--force";
			cli_audit_token(c, t, &r);
		}
	}
	free(list);
}

enum kg_code cli_key_gen(struct cli_ctx *c, const struct cli_cmd *cmd,
                         struct cli_args *a)
{
	const char *tok = cli_opt(cmd, a, "token");
	const char *type = cli_opt(cmd, a, "type");
	const char *ids = cli_opt(cmd, a, "id");
	struct hsm_keygen g = {0};
	struct hsm_key_info info = {0};
	struct hsm_token *t = NULL;
	unsigned char id[64];
	struct kg_err err;
	enum kg_code rc;

	g.label = cli_opt(cmd, a, "label");
	g.exportable = cli_flag(cmd, a, "exportable");
	g.force = cli_flag(cmd, a, "force");
	if (cli_opt(cmd, a, "usage") != NULL &&
	    hsm_usage_parse(cli_opt(cmd, a, "usage"), &g.usage, &err) != KG_OK)
		return cli_fail(c, &err);
	if (tok == NULL || g.label == NULL) {
		kg_err_set(&err, KG_E_USAGE,
		           "key gen needs --token URI and --label L (see "
		           "keygate key gen --help)");
		return cli_fail(c, &err);
	}
	rc = cli_key_type(type ? type : "rsa:2048", &g, &err);
	if (rc == KG_OK && ids != NULL) {
		rc = parse_id(ids, id, sizeof(id), &g.id_len, &err);
		g.id = id;
	}
	if (rc == KG_OK)
		rc = hsm_token_open(tok, &c->hconf, HSM_LOGIN_USER | HSM_RW,
		                    &t, &err);
	if (rc == KG_OK)
		rc = hsm_key_gen(t, &g, &info, &err);
	if (rc == KG_OK && c->audit != NULL) {
		struct kg_audit_rec ar;

		cli_audit_keygen(&ar, t, info.id, info.id_len, info.uri,
		                 type ? type : "rsa:2048");
		rc = kg_audit_append(c->audit, &ar, &err);
		if (rc != KG_OK)
			kg_err_prefix(&err,
			              "key '%s' was generated but is not on "
			              "record",
			              g.label);
	}
	if (rc != KG_OK) {
		hsm_key_info_clear(&info);
		hsm_token_close(t);
		return cli_fail(c, &err);
	}
	cli_keygen_extra(c, &info, hsm_token_label(t));
	cli_keygen_retired(c, t, &info);
	if (c->json) {
		cli_emit(c, key_json(&info));
	} else {
		printf("%s\n", info.uri);
		cli_info(c, "generated %s key '%s' on token '%s'%s\n",
		         type ? type : "rsa:2048", g.label, hsm_token_label(t),
		         g.exportable ? " (exportable)" : "");
	}
	hsm_key_info_clear(&info);
	hsm_token_close(t);
	return KG_OK;
}

static enum kg_code list_keys(struct cli_ctx *c, const char *uri, int one)
{
	struct hsm_token *t = NULL;
	struct hsm_key_info *k = NULL;
	struct kg_err err;
	size_t n = 0, i;
	enum kg_code rc;

	rc = hsm_token_open(uri, &c->hconf, HSM_LOGIN_USER, &t, &err);
	if (rc == KG_OK)
		rc = hsm_key_list(t, one ? uri : NULL, &k, &n, &err);
	if (rc == KG_OK && one && n == 0)
		rc = kg_err_set(&err, KG_E_TOKEN,
		                "no private key matches '%s' on token '%s'",
		                uri, hsm_token_label(t));
	if (rc == KG_OK && one && n > 1)
		rc = kg_err_set(&err, KG_E_TOKEN,
		                "'%s' matches %zu private keys on token '%s'; "
		                "add id= (see keygate key list)",
		                uri, n, hsm_token_label(t));
	if (rc != KG_OK) {
		hsm_key_info_free_array(k, n);
		hsm_token_close(t);
		return cli_fail(c, &err);
	}
	if (c->json) {
		if (one) {
			cli_emit(c, key_json(&k[0]));
		} else {
			json_t *j = json_object(), *arr = json_array();

			json_object_set_new(j, "token",
			                    kg_json_str(hsm_token_uri(t)));
			for (i = 0; i < n; i++)
				json_array_append_new(arr, key_json(&k[i]));
			json_object_set_new(j, "keys", arr);
			cli_emit(c, j);
		}
	} else {
		if (n == 0)
			printf("no private keys on token '%s'\n",
			       hsm_token_label(t));
		for (i = 0; i < n; i++)
			key_print(&k[i]);
	}
	hsm_key_info_free_array(k, n);
	hsm_token_close(t);
	return KG_OK;
}

enum kg_code cli_key_list(struct cli_ctx *c, const struct cli_cmd *cmd,
                          struct cli_args *a)
{
	const char *tok = cli_opt(cmd, a, "token");
	struct kg_err err;

	if (tok == NULL) {
		kg_err_set(&err, KG_E_USAGE, "key list needs --token URI");
		return cli_fail(c, &err);
	}
	return list_keys(c, tok, 0);
}

enum kg_code cli_key_show(struct cli_ctx *c, const struct cli_cmd *cmd,
                          struct cli_args *a)
{
	return list_keys(c, a->pos[0], 1);
}

enum kg_code cli_key_decrypt(struct cli_ctx *c, const struct cli_cmd *cmd,
                             struct cli_args *a)
{
	const char *in = a->pos[0], *out = cli_opt(cmd, a, "out");
	const char *src = cli_opt(cmd, a, "passphrase-source");
	struct kg_secret *pass = NULL;
	unsigned char *buf = NULL;
	size_t len = 0, plen = 0;
	EVP_PKEY *k = NULL;
	char *pem = NULL, prompt[300];
	struct kg_err err;
	enum kg_code rc;

	rc = out == NULL ? kg_err_set(&err, KG_E_USAGE,
	                              "key decrypt needs --out FILE (the key "
	                              "is written unencrypted, mode 0600)")
	                 : KG_OK;
	if (rc == KG_OK)
		rc = kg_file_check_writable(out, cli_flag(cmd, a, "force"),
		                            &err);
	if (rc == KG_OK)
		rc = kg_file_read_max(in, KG_CAP_CERT, "a key file", &buf,
		                      &len, &err);
	if (rc == KG_OK && src != NULL)
		rc = kg_secret_from_source(src, "passphrase", &pass, &err);
	else if (rc == KG_OK && eng_key_encrypted(buf, len) &&
	         c->hconf.prompt != NULL) {
		snprintf(prompt, sizeof(prompt), "passphrase for %s", in);
		rc = c->hconf.prompt(prompt, &pass, &err);
	}
	if (rc == KG_OK)
		rc = eng_key_load(buf, len, in, pass ? pass->buf : NULL, &k,
		                  &err);
	kg_secret_free(pass);
	if (rc == KG_OK)
		rc = eng_pem_private(k, &pem, &plen, &err);
	if (rc == KG_OK)
		rc = kg_file_write_atomic(out, pem, plen, 0600,
		                          cli_flag(cmd, a, "force"), &err);
	if (rc == KG_OK) {
		char desc[64];

		eng_key_describe(k, desc, sizeof(desc));
		if (c->json) {
			json_t *j = json_object();

			json_object_set_new(j, "out", kg_json_str(out));
			json_object_set_new(j, "key", kg_json_str(desc));
			cli_emit(c, j);
		} else {
			cli_info(c,
			         "wrote %s: %s, unencrypted PKCS#8, mode "
			         "0600\n",
			         out, desc);
		}
	}
	if (pem != NULL)
		OPENSSL_clear_free(pem, plen);
	if (buf != NULL)
		OPENSSL_cleanse(buf, len);
	free(buf);
	EVP_PKEY_free(k);
	return rc == KG_OK ? KG_OK : cli_fail(c, &err);
}

/* ---- key pubkey ------------------------------------------------------ */

const struct cli_opt cli_opts_key_pubkey[] = {
        {"force", CLI_FLAG, NULL, "replace an existing --out file"},
        {"out", CLI_VALUE, "FILE", "write here (default: stdout)"},
        CLI_OPT_END};

enum kg_code cli_key_pubkey(struct cli_ctx *c, const struct cli_cmd *cmd,
                            struct cli_args *a)
{
	const char *uri = a->pos[0], *out = cli_opt(cmd, a, "out");
	struct hsm_token *t = NULL;
	struct hsm_key *k = NULL;
	EVP_PKEY *pub = NULL;
	char *pem = NULL;
	size_t len = 0;
	struct kg_err err;
	enum kg_code rc = KG_OK;

	if (!hsm_is_uri(uri))
		rc = kg_err_set(&err, KG_E_USAGE,
		                "key pubkey needs a pkcs11: key URI (a key "
		                "file: openssl pkey -pubout)");
	if (rc == KG_OK && out != NULL && strcmp(out, "-") != 0)
		rc = kg_file_check_writable(out, cli_flag(cmd, a, "force"),
		                            &err);
	if (rc == KG_OK)
		rc = hsm_token_open(uri, &c->hconf, HSM_LOGIN_USER, &t, &err);
	if (rc == KG_OK)
		rc = hsm_key_find(t, uri, &k, &err);
	if (rc == KG_OK)
		rc = hsm_key_public(k, &pub, &err);
	if (rc == KG_OK)
		rc = eng_pem_public(pub, &pem, &len, &err);
	/* the file first: a JSON document only for what was done */
	if (rc == KG_OK && out != NULL && strcmp(out, "-") != 0)
		rc = kg_file_write_atomic(out, pem, len, 0644,
		                          cli_flag(cmd, a, "force"), &err);
	else if (rc == KG_OK && !c->json)
		fwrite(pem, 1, len, stdout);
	if (rc == KG_OK && c->json) {
		json_t *j = json_object();

		json_object_set_new(j, "key",
		                    kg_json_str(hsm_key_describe(k)->uri));
		json_object_set_new(j, "out", kg_json_str(out));
		if (out == NULL || strcmp(out, "-") == 0)
			json_object_set_new(j, "pem", kg_json_str(pem));
		cli_emit(c, j);
	}
	OPENSSL_free(pem);
	EVP_PKEY_free(pub);
	hsm_key_free(k);
	hsm_token_close(t);
	return rc == KG_OK ? KG_OK : cli_fail(c, &err);
}
