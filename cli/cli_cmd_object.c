/*
 * Objects on a token: object list, object delete, key delete, cert import
 * (issue 12). What goes is listed before it goes, asked for on a terminal
 * (--yes otherwise), and recorded in the audit log.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/kg_audit.h"
#include "common/kg_file.h"
#include "common/kg_json.h"
#include "engine/eng.h"
#include "engine/eng_trust.h"

const struct cli_opt cli_opts_object_list[] = {
        {"token", CLI_VALUE, "URI", "the token (object= and id= narrow it)"},
        {"type", CLI_VALUE, "T", "private, public, secret, cert or data"},
        CLI_OPT_END};

const struct cli_opt cli_opts_object_delete[] = {
        {"yes", CLI_FLAG, NULL, "delete without asking (no terminal)"},
        CLI_OPT_END};

const struct cli_opt cli_opts_key_delete[] = {
        {"with-cert", CLI_FLAG, NULL,
         "delete the key's certificate (same CKA_ID) too"},
        {"yes", CLI_FLAG, NULL, "delete without asking (no terminal)"},
        CLI_OPT_END};

const struct cli_opt cli_opts_cert_import[] = {
        {"label", CLI_VALUE, "L",
         "the certificate's label (default: its key's)"},
        {"token", CLI_VALUE, "URI", "the token the certificate goes on"},
        CLI_OPT_END};

/* ---- object list ----------------------------------------------------- */

static json_t *obj_json(const struct hsm_object *o,
                        const struct hsm_object *all)
{
	json_t *j = json_object();
	char *hex = malloc(o->id_len * 2 + 1);

	json_object_set_new(j, "class", kg_json_str(hsm_class_name(o->cls)));
	json_object_set_new(j, "label", kg_json_str(o->label));
	if (hex != NULL) {
		kg_hex(o->id, o->id_len, hex);
		json_object_set_new(j, "id", kg_json_str(hex));
	}
	free(hex);
	json_object_set_new(j, "type", kg_json_str(o->type));
	json_object_set_new(j, "uri", kg_json_str(o->uri));
	json_object_set_new(
	        j, "pair",
	        kg_json_str(o->pair >= 0 ? all[o->pair].uri : NULL));
	return j;
}

static void obj_print(const struct hsm_object *o, const char *indent)
{
	char *hex = malloc(o->id_len * 2 + 1);

	if (hex != NULL)
		kg_hex(o->id, o->id_len, hex);
	printf("%s%-7s %-24s id=%s %s\n%s  %s\n", indent,
	       hsm_class_name(o->cls), o->label ? o->label : "(no label)",
	       hex && *hex ? hex : "(none)", o->type ? o->type : "", indent,
	       o->uri);
	free(hex);
}

enum kg_code cli_object_list(struct cli_ctx *c, const struct cli_cmd *cmd,
                             struct cli_args *a)
{
	const char *tok = cli_opt(cmd, a, "token"),
	           *ty = cli_opt(cmd, a, "type");
	struct hsm_token *t = NULL;
	struct hsm_object *o = NULL;
	size_t n = 0, i;
	struct kg_err err;
	enum kg_code rc = KG_OK;
	int cls = -1;
	char *shown = NULL;

	if (tok == NULL)
		rc = kg_err_set(&err, KG_E_USAGE,
		                "object list needs --token URI");
	if (rc == KG_OK && ty != NULL && (cls = hsm_class_parse(ty)) < 0)
		rc = kg_err_set(&err, KG_E_USAGE,
		                "unknown --type '%s': use private, public, "
		                "secret, cert or data",
		                ty);
	if (rc == KG_OK)
		rc = hsm_token_open(tok, &c->hconf, HSM_LOGIN_USER, &t, &err);
	if (rc == KG_OK)
		rc = hsm_object_list(t, tok, cls, &o, &n, &err);
	if (rc != KG_OK) {
		hsm_token_close(t);
		return cli_fail(c, &err);
	}
	if (c->json) {
		json_t *j = json_object(), *arr = json_array();

		json_object_set_new(j, "token", kg_json_str(hsm_token_uri(t)));
		for (i = 0; i < n; i++)
			json_array_append_new(arr, obj_json(&o[i], o));
		json_object_set_new(j, "objects", arr);
		cli_emit(c, j);
	} else if (n == 0) {
		printf("no objects%s on token '%s'\n",
		       ty ? " of that type" : "", hsm_token_label(t));
	} else {
		/* a private key, then what pairs with it, indented */
		shown = calloc(n, 1);
		for (i = 0; shown != NULL && i < n; i++) {
			size_t j;

			if (shown[i] || o[i].cls != HSM_CLASS_PRIVATE)
				continue;
			obj_print(&o[i], "");
			shown[i] = 1;
			for (j = 0; j < n; j++)
				if (!shown[j] && o[j].pair == (long)i) {
					obj_print(&o[j], "  + ");
					shown[j] = 1;
				}
		}
		for (i = 0; shown != NULL && i < n; i++)
			if (!shown[i])
				obj_print(&o[i], "");
		free(shown);
	}
	hsm_object_free_array(o, n);
	hsm_token_close(t);
	return KG_OK;
}

/* ---- deletion -------------------------------------------------------- */

/* Asks on a terminal, or needs --yes. KG_OK: go on. */
static enum kg_code confirm(struct cli_ctx *c, int yes, size_t n,
                            struct kg_err *err)
{
	char line[16];

	(void)c;
	if (yes)
		return KG_OK;
	if (!isatty(STDIN_FILENO))
		return kg_err_set(err, KG_E_USAGE,
		                  "not deleting %zu object%s without a "
		                  "terminal to ask on: give --yes",
		                  n, n == 1 ? "" : "s");
	fprintf(stderr, "delete %s? [y/N] ",
	        n == 1 ? "this object" : "these objects");
	fflush(stderr);
	if (fgets(line, sizeof(line), stdin) == NULL ||
	    (line[0] != 'y' && line[0] != 'Y'))
		return kg_err_set(err, KG_REFUSED, "nothing deleted");
	return KG_OK;
}

static void audit_delete(struct cli_ctx *c, struct hsm_token *t,
                         const char *op, const struct hsm_object *o,
                         const char *result, const char *detail)
{
	struct kg_audit_rec r = {0};

	r.op = op;
	r.result = result;
	r.key_id = o->id;
	r.key_id_len = o->id_len;
	r.key = o->uri;
	r.detail = detail;
	cli_audit_token(c, t, &r);
}

/*
 * Deletes v[0..n) in that order, each recorded. On a failure: what went,
 * and what is still there, by URI; a second run finishes the job.
 */
static enum kg_code delete_all(struct cli_ctx *c, struct hsm_token *t,
                               const char *op, struct hsm_object **v, size_t n,
                               struct kg_err *err)
{
	size_t i, j;
	enum kg_code rc;
	json_t *arr = c->json ? json_array() : NULL;

	for (i = 0; i < n; i++) {
		rc = hsm_object_delete(t, v[i], err);
		if (rc != KG_OK) {
			char msg[sizeof(err->msg)];
			size_t at;

			audit_delete(c, t, op, v[i], "failed", err->msg);
			at = (size_t)snprintf(
			        msg, sizeof(msg),
			        "%s; deleted %zu of %zu; still on "
			        "the token:",
			        err->msg, i, n);
			for (j = i; j < n && at < sizeof(msg); j++)
				at += (size_t)snprintf(msg + at,
				                       sizeof(msg) - at, " %s",
				                       v[j]->uri);
			json_decref(arr);
			return kg_err_set(err, rc, "%s", msg);
		}
		audit_delete(c, t, op, v[i], "ok", hsm_class_name(v[i]->cls));
		if (arr != NULL)
			json_array_append_new(arr, kg_json_str(v[i]->uri));
		else
			cli_info(c, "deleted %s %s\n",
			         hsm_class_name(v[i]->cls), v[i]->uri);
	}
	if (arr != NULL) {
		json_t *doc = json_object();

		json_object_set_new(doc, "deleted", arr);
		cli_emit(c, doc);
	}
	return KG_OK;
}

static void list_going(struct hsm_object **v, size_t n)
{
	size_t i;

	fprintf(stderr, "to be deleted:\n");
	for (i = 0; i < n; i++)
		fprintf(stderr, "  %-7s %s\n", hsm_class_name(v[i]->cls),
		        v[i]->uri);
}

enum kg_code cli_object_delete(struct cli_ctx *c, const struct cli_cmd *cmd,
                               struct cli_args *a)
{
	const char *uri = a->pos[0];
	struct hsm_token *t = NULL;
	struct hsm_object *o = NULL, *one[1];
	size_t n = 0, i;
	struct kg_err err;
	enum kg_code rc = KG_OK;

	if (!hsm_is_uri(uri))
		rc = kg_err_set(&err, KG_E_USAGE,
		                "object delete needs a pkcs11: URI");
	if (rc == KG_OK && !hsm_uri_names_object(uri))
		rc = kg_err_set(
		        &err, KG_E_USAGE,
		        "object delete needs a URI that names an object "
		        "(object=, id= or type=), not a whole token");
	if (rc == KG_OK)
		rc = hsm_token_open(uri, &c->hconf, HSM_LOGIN_USER | HSM_RW,
		                    &t, &err);
	if (rc == KG_OK)
		rc = hsm_object_list(t, uri, -1, &o, &n, &err);
	if (rc == KG_OK && n == 0)
		rc = kg_err_set(&err, KG_E_TOKEN,
		                "no object matches '%s' on token '%s'; see "
		                "keygate object list --token",
		                uri, hsm_token_label(t));
	if (rc == KG_OK && n > 1) {
		char msg[sizeof(err.msg)];
		size_t at = (size_t)snprintf(
		        msg, sizeof(msg),
		        "'%s' matches %zu objects; name one with type=, id= "
		        "or object=:",
		        uri, n);

		for (i = 0; i < n && at < sizeof(msg); i++)
			at += (size_t)snprintf(msg + at, sizeof(msg) - at,
			                       " %s", o[i].uri);
		rc = kg_err_set(&err, KG_E_TOKEN, "%s", msg);
	}
	if (rc == KG_OK) {
		one[0] = &o[0];
		list_going(one, 1);
		rc = confirm(c, cli_flag(cmd, a, "yes"), 1, &err);
	}
	if (rc == KG_OK)
		rc = delete_all(c, t, "object-delete", one, 1, &err);
	hsm_object_free_array(o, n);
	hsm_token_close(t);
	return rc == KG_OK ? KG_OK : cli_fail(c, &err);
}

/*
 * The objects of a key pair: its certificates (with_cert), the public
 * key and the private key, in the order they are deleted. A private key
 * without CKA_ID takes the public key of its label along.
 */
/* Does o belong to the key pair of private key p: the same CKA_ID, or,
 * for a key without one, the same label? */
static int of_pair(const struct hsm_object *p, const struct hsm_object *o)
{
	if (p->id_len > 0)
		return o->id_len == p->id_len &&
		       memcmp(o->id, p->id, p->id_len) == 0;
	return p->label != NULL && o->label != NULL &&
	       strcmp(p->label, o->label) == 0;
}

static size_t pair_objects(struct hsm_object *all, size_t n, size_t priv,
                           int with_cert, struct hsm_object **v,
                           size_t *certs_left)
{
	const struct hsm_object *p = &all[priv];
	size_t i, k = 0;

	*certs_left = 0;
	for (i = 0; i < n; i++) {
		if (i == priv || all[i].cls != HSM_CLASS_CERT ||
		    !of_pair(p, &all[i]))
			continue;
		if (with_cert)
			v[k++] = &all[i];
		else
			++*certs_left;
	}
	for (i = 0; i < n; i++)
		if (all[i].cls == HSM_CLASS_PUBLIC && of_pair(p, &all[i]))
			v[k++] = &all[i];
	v[k++] = &all[priv];
	return k;
}

enum kg_code cli_key_delete(struct cli_ctx *c, const struct cli_cmd *cmd,
                            struct cli_args *a)
{
	const char *uri = a->pos[0];
	struct hsm_token *t = NULL;
	struct hsm_key *k = NULL;
	struct hsm_object *all = NULL, **v = NULL;
	const struct hsm_key_info *ki;
	size_t n = 0, nv = 0, priv = 0, certs_left = 0;
	int cls;
	struct kg_err err;
	enum kg_code rc = KG_OK;

	if (!hsm_is_uri(uri))
		rc = kg_err_set(&err, KG_E_USAGE,
		                "key delete needs a pkcs11: key URI");
	/* a URI that names another object (a public key, a certificate) is
	 * not taken as its key pair's: that would delete more than named */
	if (rc == KG_OK && (cls = hsm_uri_class(uri)) >= 0 &&
	    cls != HSM_CLASS_PRIVATE)
		rc = kg_err_set(&err, KG_E_USAGE,
		                "key delete takes a private key's URI, and "
		                "'%s' names a %s object; to delete that one "
		                "object: keygate object delete URI",
		                uri, hsm_class_name((enum hsm_class)cls));
	if (rc == KG_OK)
		rc = hsm_token_open(uri, &c->hconf, HSM_LOGIN_USER | HSM_RW,
		                    &t, &err);
	/* exactly one private key, as every command that uses one finds it
	 * (an ambiguous URI is an error listing the candidates) */
	if (rc == KG_OK)
		rc = hsm_key_find(t, uri, &k, &err);
	if (rc == KG_OK)
		rc = hsm_object_list(t, NULL, -1, &all, &n, &err);
	if (rc == KG_OK) {
		ki = hsm_key_describe(k);
		for (priv = 0; priv < n; priv++)
			if (all[priv].cls == HSM_CLASS_PRIVATE &&
			    strcmp(all[priv].uri, ki->uri) == 0)
				break;
		if (priv == n)
			rc = kg_err_set(&err, KG_E_TOKEN,
			                "the key %s is not among the token's "
			                "objects any more",
			                ki->uri);
	}
	if (rc == KG_OK) {
		v = calloc(n, sizeof(*v));
		if (v == NULL)
			rc = kg_err_set(&err, KG_E_RUNTIME, "out of memory");
	}
	if (rc == KG_OK) {
		nv = pair_objects(all, n, priv, cli_flag(cmd, a, "with-cert"),
		                  v, &certs_left);
		list_going(v, nv);
		if (certs_left > 0)
			cli_warn(c, certs_left == 1
			                    ? "the key's certificate stays on "
			                      "the token; give --with-cert to "
			                      "delete it too"
			                    : "the key's certificates stay on "
			                      "the token; give --with-cert to "
			                      "delete them too");
		rc = confirm(c, cli_flag(cmd, a, "yes"), nv, &err);
	}
	hsm_key_free(k);
	k = NULL;
	if (rc == KG_OK)
		rc = delete_all(c, t, "key-delete", v, nv, &err);
	free(v);
	hsm_object_free_array(all, n);
	hsm_token_close(t);
	return rc == KG_OK ? KG_OK : cli_fail(c, &err);
}

/* ---- cert import ----------------------------------------------------- */

/*
 * The private key on t whose public key x carries; -1 none. A key whose
 * public half cannot be read (a token failure, a key without one) pairs
 * with nothing, but if no key matches, the first such failure is the
 * answer (*unread set, err says why): no guessing past a failed read.
 */
static long key_of(struct hsm_token *t, X509 *x, struct hsm_key_info *keys,
                   size_t n, int *unread, struct kg_err *err)
{
	struct kg_err first;
	size_t i;

	*unread = 0;
	for (i = 0; i < n; i++) {
		struct hsm_key *k = NULL;
		EVP_PKEY *pub = NULL;
		struct kg_err e;
		int match;

		if (hsm_key_find(t, keys[i].uri, &k, &e) != KG_OK ||
		    hsm_key_public(k, &pub, &e) != KG_OK) {
			if (!*unread)
				first = e;
			*unread = 1;
			hsm_key_free(k);
			continue;
		}
		match = eng_cert_key_match(x, pub);
		EVP_PKEY_free(pub);
		hsm_key_free(k);
		if (match)
			return (long)i;
	}
	if (*unread)
		*err = first;
	return -1;
}

enum kg_code cli_cert_import(struct cli_ctx *c, const struct cli_cmd *cmd,
                             struct cli_args *a)
{
	const char *file = a->pos[0], *tok = cli_opt(cmd, a, "token"),
	           *label = cli_opt(cmd, a, "label");
	struct hsm_token *t = NULL;
	struct hsm_key_info *keys = NULL;
	struct eng_cert_der d = {0};
	struct hsm_cert_new nc = {0};
	STACK_OF(X509) *xs = NULL;
	X509 *x = NULL;
	char *uri = NULL, *subj = NULL;
	size_t nkeys = 0;
	long ki = -1;
	int unread = 0;
	struct kg_err err;
	enum kg_code rc = KG_OK;

	if (tok == NULL)
		rc = kg_err_set(&err, KG_E_USAGE,
		                "cert import needs FILE and --token URI");
	if (rc == KG_OK)
		rc = cli_read_certs(NULL, file, "a certificate file",
		                    KG_CAP_CERT, &xs, &err);
	if (rc == KG_OK && sk_X509_num(xs) != 1)
		rc = kg_err_set(&err, KG_E_USAGE,
		                "'%s' holds %d certificates; import one at a "
		                "time",
		                file, sk_X509_num(xs));
	if (rc == KG_OK) {
		x = sk_X509_value(xs, 0);
		subj = eng_name_str(X509_get_subject_name(x));
		rc = eng_cert_der(x, &d, &err);
	}
	if (rc == KG_OK)
		rc = hsm_token_open(tok, &c->hconf, HSM_LOGIN_USER | HSM_RW,
		                    &t, &err);
	if (rc == KG_OK)
		rc = hsm_key_list(t, NULL, &keys, &nkeys, &err);
	if (rc == KG_OK) {
		ki = key_of(t, x, keys, nkeys, &unread, &err);
		if (ki < 0 && unread)
			rc = kg_err_prefix(
			        &err,
			        "cannot tell which key on token '%s' "
			        "the certificate belongs to",
			        hsm_token_label(t));
		else if (ki < 0 && label == NULL)
			rc = kg_err_set(
			        &err, KG_E_TOKEN,
			        "no key on token '%s' carries the public key "
			        "of "
			        "'%s' (%s); import it where its key is, or "
			        "give "
			        "--label L to keep it on the token without a "
			        "key (a CA's certificate)",
			        hsm_token_label(t), file, subj ? subj : "?");
	}
	if (rc == KG_OK) {
		nc.der = d.cert;
		nc.der_len = d.cert_len;
		nc.subject = d.subject;
		nc.subject_len = d.subject_len;
		nc.issuer = d.issuer;
		nc.issuer_len = d.issuer_len;
		nc.serial = d.serial;
		nc.serial_len = d.serial_len;
		nc.label = label ? label : ki >= 0 ? keys[ki].label : NULL;
		if (ki >= 0) {
			nc.id = keys[ki].id;
			nc.id_len = keys[ki].id_len;
		}
		rc = hsm_cert_import(t, &nc, &uri, &err);
	}
	if (rc == KG_OK) {
		struct kg_audit_rec r = {0};

		r.op = "cert-import";
		r.result = "ok";
		r.key_id = nc.id;
		r.key_id_len = nc.id_len;
		r.key = ki >= 0 ? keys[ki].uri : NULL;
		r.subject = subj;
		r.out = d.cert;
		r.out_len = d.cert_len;
		r.out_path = uri;
		cli_audit_token(c, t, &r);
	}
	if (rc == KG_OK) {
		if (c->json) {
			json_t *j = json_object();

			json_object_set_new(j, "uri", kg_json_str(uri));
			json_object_set_new(j, "subject", kg_json_str(subj));
			json_object_set_new(
			        j, "key",
			        kg_json_str(ki >= 0 ? keys[ki].uri : NULL));
			cli_emit(c, j);
		} else {
			cli_info(c, "imported '%s' %s\n", subj ? subj : "",
			         ki >= 0 ? "beside its key" : "(no key)");
			printf("%s\n", uri);
		}
	}
	free(uri);
	OPENSSL_free(subj);
	eng_cert_der_free(&d);
	sk_X509_pop_free(xs, X509_free);
	hsm_key_info_free_array(keys, nkeys);
	hsm_token_close(t);
	return rc == KG_OK ? KG_OK : cli_fail(c, &err);
}
