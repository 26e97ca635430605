/* Names on requests and certificates from the command line, and decoded
 * objects as JSON: shared by csr create, cert selfsign, cert sign and cert
 * show. */
#include "cli/cli.h"

#include "common/kg_json.h"
#include "engine/eng.h"

enum kg_code cli_naming(const struct cli_cmd *cmd, struct cli_args *a,
                        X509_NAME **subject, GENERAL_NAMES **san,
                        const EVP_MD **md, struct kg_err *err)
{
	const char *dn = cli_opt(cmd, a, "subject");
	const char *sans = cli_opt(cmd, a, "san");
	enum kg_code rc;

	*subject = NULL;
	*san = NULL;
	if (cli_opt(cmd, a, "key") == NULL || dn == NULL)
		return kg_err_set(err, KG_E_USAGE,
		                  "'%s %s' needs --key KEY and --subject DN "
		                  "(see keygate %s %s --help)",
		                  cmd->group, cmd->verb, cmd->group,
		                  cmd->verb);
	rc = eng_digest(cli_opt(cmd, a, "digest"), md, err);
	if (rc == KG_OK)
		rc = eng_dn_parse(dn, subject, err);
	if (rc == KG_OK && sans != NULL)
		rc = cli_san(sans, "--san", san, err);
	return rc;
}

json_t *cli_obj_json(const struct eng_obj *o)
{
	json_t *j = json_object(), *san = json_array();
	size_t i;

	json_object_set_new(j, "kind", json_string(o->kind_name));
	if (o->subject)
		json_object_set_new(j, "subject", kg_json_str(o->subject));
	if (o->issuer)
		json_object_set_new(j, "issuer", kg_json_str(o->issuer));
	if (o->serial)
		json_object_set_new(j, "serial", kg_json_str(o->serial));
	if (o->not_before)
		json_object_set_new(j, "not_before",
		                    kg_json_str(o->not_before));
	if (o->not_after)
		json_object_set_new(j, "not_after", kg_json_str(o->not_after));
	if (o->sigalg)
		json_object_set_new(j, "signature_algorithm",
		                    kg_json_str(o->sigalg));
	if (o->kind == ENG_OBJ_CERT || o->kind == ENG_OBJ_CSR) {
		for (i = 0; i < o->nsan; i++)
			json_array_append_new(san, kg_json_str(o->san[i]));
		json_object_set_new(j, "san", san);
		san = NULL;
		json_object_set_new(j, "version", json_integer(o->version));
		json_object_set_new(j, "sha256", kg_json_hex(o->sha256, 32));
	}
	json_decref(san);
	if (o->kind == ENG_OBJ_CERT)
		json_object_set_new(j, "ca",
		                    o->is_ca < 0 ? json_null()
		                                 : json_boolean(o->is_ca));
	if (o->key[0])
		json_object_set_new(j, "key", kg_json_str(o->key));
	if (o->has_spki)
		json_object_set_new(j, "spki_sha256",
		                    kg_json_hex(o->spki_sha256, 32));
	return j;
}

enum kg_code cli_san(const char *list, const char *where, GENERAL_NAMES **out,
                     struct kg_err *err)
{
	enum kg_code rc = eng_san_parse(list, out, err);

	if (rc != KG_OK)
		kg_err_prefix(err, "%s", where);
	return rc;
}
