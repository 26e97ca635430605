/* token list, token init */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/kg_audit.h"
#include "common/kg_secret.h"
#include "common/kg_json.h"

/* options, beside their handlers (the table in cli_main.c) */
const struct cli_opt cli_opts_token_list[] = {CLI_OPT_END};

const struct cli_opt cli_opts_token_init[] = {
        {"label", CLI_VALUE, "L", "the new token's label (1-32 bytes)"},
        {"so-pin-source", CLI_VALUE, "SRC",
         "SO PIN from file:PATH, env:NAME or fd:N (else KEYGATE_SO_PIN)"},
        {"softhsm", CLI_VALUE, "DIR",
         "first make a private SoftHSM2 store in DIR; prints export lines"},
        {"token", CLI_VALUE, "URI",
         "the slot's token to initialise (default: the free one)"},
        CLI_OPT_END};

enum kg_code cli_token_list(struct cli_ctx *c, const struct cli_cmd *cmd,
                            struct cli_args *a)
{
	struct hsm_slot_info *s = NULL;
	struct kg_err err;
	const char *last = "";
	size_t n = 0, i;
	json_t *arr;

	if (hsm_token_list(&c->hconf, &s, &n, &err) != KG_OK)
		return cli_fail(c, &err);
	arr = json_array();
	for (i = 0; i < n; i++) {
		json_t *o = json_object(), *t;

		json_object_set_new(o, "module", kg_json_str(s[i].module));
		json_object_set_new(o, "module_description",
		                    kg_json_str(s[i].module_desc));
		json_object_set_new(o, "slot_id",
		                    json_integer((json_int_t)s[i].slot_id));
		json_object_set_new(o, "slot_description",
		                    kg_json_str(s[i].slot_desc));
		if (!s[i].has_token) {
			json_object_set_new(o, "token", json_null());
		} else {
			t = json_object();
			json_object_set_new(t, "label",
			                    kg_json_str(s[i].label));
			json_object_set_new(t, "manufacturer",
			                    kg_json_str(s[i].manufacturer));
			json_object_set_new(t, "model",
			                    kg_json_str(s[i].model));
			json_object_set_new(t, "serial",
			                    kg_json_str(s[i].serial));
			json_object_set_new(t, "uri", kg_json_str(s[i].uri));
			json_object_set_new(t, "initialized",
			                    json_boolean(s[i].initialized));
			json_object_set_new(t, "free",
			                    json_boolean(!s[i].initialized));
			json_object_set_new(t, "login_required",
			                    json_boolean(s[i].login_required));
			json_object_set_new(
			        t, "user_pin_initialized",
			        json_boolean(s[i].user_pin_initialized));
			json_object_set_new(
			        t, "write_protected",
			        json_boolean(s[i].write_protected));
			json_object_set_new(t, "pin_locked",
			                    json_boolean(s[i].pin_locked));
			json_object_set_new(t, "pin_count_low",
			                    json_boolean(s[i].pin_count_low));
			json_object_set_new(
			        t, "protected_auth_path",
			        json_boolean(s[i].protected_auth_path));
			json_object_set_new(o, "token", t);
		}
		json_array_append_new(arr, o);
		if (c->json)
			continue;
		if (strcmp(last, s[i].module) != 0) {
			printf("module %s (%s)\n", s[i].module,
			       s[i].module_desc);
			last = s[i].module;
		}
		if (!s[i].has_token) {
			printf("  slot %lu: no token (%s)\n", s[i].slot_id,
			       s[i].slot_desc);
			continue;
		}
		printf("  slot %lu: token '%s'  %s %s, serial %s\n",
		       s[i].slot_id, s[i].label, s[i].manufacturer, s[i].model,
		       s[i].serial[0] ? s[i].serial : "-");
		printf("    flags: %s%s%s%s%s\n",
		       s[i].initialized ? "initialised"
		                        : "free (uninitialised)",
		       s[i].login_required ? ", login required" : "",
		       s[i].write_protected ? ", write-protected" : "",
		       s[i].pin_locked ? ", PIN LOCKED" : "",
		       s[i].pin_count_low ? ", PIN count low" : "");
		printf("    %s\n", s[i].uri);
	}
	if (c->json) {
		json_t *j = json_object();

		json_object_set_new(j, "slots", arr);
		cli_emit(c, j);
	} else {
		if (n == 0)
			printf("no slots\n");
		json_decref(arr);
	}
	hsm_slot_info_free(s, n);
	return KG_OK;
}

enum kg_code cli_token_init(struct cli_ctx *c, const struct cli_cmd *cmd,
                            struct cli_args *a)
{
	const char *dir = cli_opt(cmd, a, "softhsm");
	const char *label = cli_opt(cmd, a, "label");
	const char *tok = cli_opt(cmd, a, "token");
	char *conf = NULL, *uri = NULL, *tokuri = NULL;
	const char *module = NULL;
	struct kg_err err;
	enum kg_code rc;

	if (label == NULL) {
		kg_err_set(&err, KG_E_USAGE,
		           "token init needs --label L (see keygate token "
		           "init --help)");
		return cli_fail(c, &err);
	}
	if (tok != NULL && !hsm_is_uri(tok)) {
		/* a bare label: the token of that label */
		if (hsm_uri_for_label(tok, &tokuri, &err) != KG_OK)
			return cli_fail(c, &err);
		tok = tokuri;
	}
	if (dir != NULL) {
		rc = hsm_softhsm_prepare(dir, &conf, &err);
		if (rc != KG_OK)
			goto fail;
		if (setenv("SOFTHSM2_CONF", conf, 1) != 0) {
			rc = kg_err_set(&err, KG_E_RUNTIME,
			                "cannot set SOFTHSM2_CONF");
			goto fail;
		}
		if (c->module == NULL) { /* --module, not KEYGATE_MODULE */
			module = hsm_softhsm_module();
			if (module == NULL) {
				rc = kg_err_set(&err, KG_E_TOKEN,
				                "SoftHSM2 is not installed "
				                "(libsofthsm2.so not found); "
				                "run ci/install-deps.sh or "
				                "give --module");
				goto fail;
			}
			c->hconf.module = module;
		}
	}
	rc = hsm_token_init(tok, label, cli_opt(cmd, a, "so-pin-source"),
	                    &c->hconf, &uri, &err);
	if (rc != KG_OK)
		goto fail;
	if (c->json) {
		json_t *j = json_object();

		json_object_set_new(j, "token", kg_json_str(uri));
		json_object_set_new(j, "label", kg_json_str(label));
		if (conf != NULL) {
			json_object_set_new(j, "softhsm2_conf",
			                    kg_json_str(conf));
			json_object_set_new(j, "module",
			                    kg_json_str(c->hconf.module));
		}
		cli_emit(c, j);
	} else if (conf != NULL) {
		/* for eval "$(keygate token init --softhsm DIR ...)" */
		printf("export SOFTHSM2_CONF='%s'\n", conf);
		printf("export KEYGATE_MODULE='%s'\n", c->hconf.module);
		cli_info(c, "initialised token '%s': %s\n", label, uri);
	} else {
		printf("%s\n", uri);
		cli_info(c, "initialised token '%s'\n", label);
	}
	free(conf);
	free(uri);
	free(tokuri);
	return KG_OK;
fail:
	free(conf);
	free(tokuri);
	return cli_fail(c, &err);
}

/* ---- token pin change | unblock ----------------------------------------- */

const struct cli_opt cli_opts_token_pin[] = {
        {"new-pin-source", CLI_VALUE, "SRC",
         "the new PIN from file:PATH, env:NAME or fd:N (else "
         "KEYGATE_NEW_PIN, else asked twice on a terminal)"},
        {"so", CLI_FLAG, NULL, "change: the SO PIN, not the user PIN"},
        {"so-pin-source", CLI_VALUE, "SRC",
         "SO PIN from file:PATH, env:NAME or fd:N (else KEYGATE_SO_PIN)"},
        {"token", CLI_VALUE, "URI", "the token"},
        CLI_OPT_END};

/* A secret from src, else env (a variable's value), else a prompt (twice
 * when confirm), else the usage error none. */
static enum kg_code pin_from(struct cli_ctx *c, const char *src,
                             const char *env, const char *what,
                             const char *prompt, int confirm,
                             struct kg_secret **out, struct kg_err *err)
{
	struct kg_secret *again = NULL;
	enum kg_code rc;
	char p2[120];

	*out = NULL;
	if (src != NULL)
		return kg_secret_from_source(src, what, out, err);
	if (env != NULL)
		return kg_secret_from_string(env, out, err);
	if (c->hconf.prompt == NULL)
		return kg_err_set(err, KG_E_USAGE,
		                  "no %s: give a source for it (see keygate "
		                  "token pin --help)",
		                  what);
	rc = c->hconf.prompt(prompt, out, err);
	if (rc != KG_OK || !confirm)
		return rc;
	snprintf(p2, sizeof(p2), "%s again", prompt);
	rc = c->hconf.prompt(p2, &again, err);
	if (rc == KG_OK &&
	    ((*out)->len != again->len ||
	     CRYPTO_memcmp((*out)->buf, again->buf, again->len) != 0))
		rc = kg_err_set(err, KG_E_USAGE,
		                "the two %ss differ; nothing changed", what);
	kg_secret_free(again);
	if (rc != KG_OK) {
		kg_secret_free(*out);
		*out = NULL;
	}
	return rc;
}

enum kg_code cli_token_pin(struct cli_ctx *c, const struct cli_cmd *cmd,
                           struct cli_args *a)
{
	const char *what = a->pos[0], *tok = cli_opt(cmd, a, "token");
	int so = cli_flag(cmd, a, "so"), unblock, unsure = 0;
	struct kg_secret *so_pin = NULL, *new_pin = NULL;
	struct hsm_token *t = NULL;
	struct kg_err err;
	enum kg_code rc = KG_OK;
	const char *op;

	unblock = what != NULL && strcmp(what, "unblock") == 0;
	if (what == NULL || (!unblock && strcmp(what, "change") != 0))
		rc = kg_err_set(&err, KG_E_USAGE,
		                "token pin takes change or unblock (see "
		                "keygate token pin --help)");
	if (rc == KG_OK && tok == NULL)
		rc = kg_err_set(&err, KG_E_USAGE,
		                "token pin needs --token URI");
	if (rc == KG_OK && !unblock && !so &&
	    cli_opt(cmd, a, "so-pin-source") != NULL)
		rc = kg_err_set(
		        &err, KG_E_USAGE,
		        "--so-pin-source goes with --so or unblock; the "
		        "user PIN comes from --pin-source");
	if (rc == KG_OK && unblock && so)
		rc = kg_err_set(&err, KG_E_USAGE,
		                "unblock sets the user PIN with the SO PIN; "
		                "--so goes with change");
	op = unblock ? "token-pin-unblock"
	     : so    ? "token-so-pin-change"
	             : "token-pin-change";
	/* the user PIN of a change is the login's: its usual sources */
	if (rc == KG_OK)
		rc = hsm_token_open(tok, &c->hconf,
		                    (so || unblock ? 0 : HSM_LOGIN_USER) |
		                            HSM_RW,
		                    &t, &err);
	if (rc == KG_OK && (so || unblock) && !hsm_token_pinpad(t))
		rc = pin_from(c, cli_opt(cmd, a, "so-pin-source"),
		              c->hconf.so_pin, "SO PIN",
		              so ? "current SO PIN" : "SO PIN", 0, &so_pin,
		              &err);
	if (rc == KG_OK && !hsm_token_pinpad(t))
		rc = pin_from(c, cli_opt(cmd, a, "new-pin-source"),
		              getenv("KEYGATE_NEW_PIN"),
		              so ? "new SO PIN" : "new PIN",
		              so ? "new SO PIN" : "new PIN", 1, &new_pin,
		              &err);
	if (rc == KG_OK)
		rc = unblock ? hsm_pin_unblock(t, so_pin, new_pin, &unsure,
		                               &err)
		             : hsm_pin_change(t, so, so_pin, new_pin, &unsure,
		                              &err);
	/* on record: done, failed, or not known (the token may have it) */
	if (t != NULL && (rc == KG_OK || new_pin)) {
		struct kg_audit_rec r = {0};

		r.op = op;
		r.result = rc == KG_OK ? "ok" : unsure ? "unknown" : "failed";
		r.detail = rc == KG_OK ? NULL : err.msg;
		cli_audit_token(c, t, &r);
	}
	if (rc == KG_OK) {
		if (c->json) {
			json_t *j = json_object();

			json_object_set_new(j, "token",
			                    kg_json_str(hsm_token_uri(t)));
			json_object_set_new(
			        j, "changed",
			        kg_json_str(unblock ? "user PIN (unblocked)"
			                    : so    ? "SO PIN"
			                            : "user PIN"));
			cli_emit(c, j);
		} else {
			cli_info(c, "%s of token '%s' %s\n",
			         so ? "the SO PIN" : "the user PIN",
			         hsm_token_label(t),
			         unblock ? "set by the SO (unblocked)"
			                 : "changed");
		}
	}
	kg_secret_free(so_pin);
	kg_secret_free(new_pin);
	hsm_token_close(t);
	return rc == KG_OK ? KG_OK : cli_fail(c, &err);
}
