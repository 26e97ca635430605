/* keygate: main(), the command table, top-level --help and --version. */
#include "cli/cli.h"
#include "common/kg_harden.h"
#include "common/kg_secret.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

static const struct cli_opt opts_none[] = {CLI_OPT_END};

#define GATE_HELP                                                             \
	"Exit 1 and every finding (code, input, index, subject, fix) when\n"  \
	"the bundle would not import; --at TIME moves the clock.\n"

#define PIN_HELP                                                              \
	"PIN: the URI's pin-source=, --pin-source file:PATH|env:NAME|fd:N,\n" \
	"KEYGATE_PIN, else a prompt on a terminal. Never on the command "     \
	"line.\n"

const struct cli_cmd cli_cmds[] = {
        {"token", "list", cli_token_list,
         "List modules, slots and tokens, each token with a URI to paste "
         "back in.",
         "", cli_opts_token_list, 0, 0,
         "Modules: --module PATH, KEYGATE_MODULE, else p11-kit's registry.\n"},
        {"token", "init", cli_token_init,
         "Initialise a token: C_InitToken with the SO PIN, then C_InitPIN.",
         "--label L [--token URI] [--softhsm DIR] [--so-pin-source SRC]",
         cli_opts_token_init, 0, 0,
         "With --softhsm DIR a private SoftHSM2 store is made first and the\n"
         "lines to use it are printed for eval:\n"
         "  eval \"$(KEYGATE_SO_PIN=... KEYGATE_PIN=... keygate token init "
         "--softhsm /tmp/t --label ci)\"\n" PIN_HELP},
        {"token", "pin", cli_token_pin,
         "Change the user or SO PIN, or unblock the user PIN with the SO "
         "PIN.",
         "change --token URI [--so] [--new-pin-source SRC]\n"
         "       keygate token pin unblock --token URI [--new-pin-source "
         "SRC]",
         cli_opts_token_pin, 1, 1,
         "change: the user PIN (the old one from the usual PIN sources),\n"
         "or with --so the SO PIN (--so-pin-source, KEYGATE_SO_PIN).\n"
         "unblock: the SO logs in and sets a new user PIN (C_InitPIN).\n"
         "The new PIN: --new-pin-source, KEYGATE_NEW_PIN, else asked\n"
         "twice on a terminal; never on the command line. A wrong old\n"
         "PIN is tried once (exit 3). A pinpad reads both itself.\n"},
        {"key", "gen", cli_key_gen,
         "Generate a key pair on a token and print the private key's URI.",
         "--token URI --label L [--type T] [--id HEX] [--exportable]",
         cli_opts_key_gen, 0, 0,
         "The private key is a token object, private, sensitive, not\n"
         "extractable, and may sign (RSA also decrypt) unless "
         "--exportable.\n" PIN_HELP},
        {"key", "list", cli_key_list,
         "List the private keys on a token with their attributes.",
         "--token URI", cli_opts_key_list, 0, 0, PIN_HELP},
        {"key", "show", cli_key_show, "Show one key's attributes.", "URI",
         opts_none, 1, 1, PIN_HELP},
        {"key", "pubkey", cli_key_pubkey,
         "The public key of a token key as PEM SubjectPublicKeyInfo.",
         "URI [--out FILE]", cli_opts_key_pubkey, 1, 1,
         "As p11tool --export-pubkey; any key type keygate can "
         "use.\n" PIN_HELP},
        {"key", "delete", cli_key_delete,
         "Delete a key pair (and with --with-cert its certificate).",
         "URI [--with-cert] [--yes]", cli_opts_key_delete, 1, 1,
         "Lists what goes (certificate, public key, private key, in that\n"
         "order) and asks on a terminal; without one, --yes. A failure\n"
         "names what is still on the token; run it again to finish.\n"
         "Every deletion is an audit record.\n" PIN_HELP},
        {"object", "list", cli_object_list,
         "List every object on a token: keys, certificates, data.",
         "--token URI [--type T]", cli_opts_object_list, 0, 0,
         "Label, id, class and type of each; a private key's certificate\n"
         "and public key (same CKA_ID) are shown under it as a "
         "pair.\n" PIN_HELP},
        {"object", "delete", cli_object_delete,
         "Delete one object on a token.", "URI [--yes]",
         cli_opts_object_delete, 1, 1,
         "The URI must match exactly one object (add type=, id=).\n" PIN_HELP},
        {"cert", "import", cli_cert_import,
         "Put a certificate on the token beside its key.",
         "FILE --token URI [--label L]", cli_opts_cert_import, 1, 1,
         "The certificate gets the CKA_ID (and, unless --label, the label)\n"
         "of the key whose public key it carries; one that matches no key\n"
         "needs --label. The same certificate twice is refused.\n" PIN_HELP},
        {"key", "decrypt", cli_key_decrypt,
         "An encrypted private key to unencrypted PKCS#8 (as openssl pkcs8 "
         "-topk8 -nocrypt).",
         "IN --out OUT [--passphrase-source SRC]", cli_opts_key_decrypt, 1, 1,
         "A wrong passphrase exits 1. OUT is written atomically, mode "
         "0600.\n"},
        {"csr", "create", cli_csr_create,
         "Make a PKCS#10 request signed by KEY (on a token, or a PEM file).",
         "--key KEY --subject DN [--san LIST] [--digest D] [--out FILE]\n"
         "       keygate csr create --token URI --manifest FILE --out-dir "
         "DIR [--jobs N]",
         cli_opts_csr_create, 0, 0,
         "A CN that is a domain name is copied into the SAN when --san is\n"
         "not given. Comma DNs are RFC 4514 (most specific first).\n"
         "--manifest: one JSON object per line, e.g.\n"
         "  {\"label\":\"dev-1\",\"type\":\"ec:p256\",\"subject\":"
         "\"CN=dev-1.example\",\"san\":\"DNS:dev-1.example\"}\n"
         "(type: rsa:2048 by default; san: a LIST or an array). Each key is\n"
         "made on the token and its request written to DIR/LABEL.csr; a bad\n"
         "line is reported and the batch goes on; exit 1 if any "
         "failed.\n" PIN_HELP},
        {"cert", "selfsign", cli_cert_selfsign,
         "Make a self-signed X.509 v3 certificate signed by KEY.",
         "--key KEY --subject DN [--san LIST] [--days N] [--profile P] "
         "[--out FILE]",
         cli_opts_cert_selfsign, 0, 0,
         "Profiles: server (serverAuth), client (clientAuth: what a backend\n"
         "trusts for client certificates), ca (CA:TRUE, "
         "keyCertSign).\n" PIN_HELP},
        {"cert", "sign", cli_cert_sign,
         "Issue a certificate from a CSR with a CA key (on a token): an "
         "offline signing station.",
         "--ca-key KEY --ca-cert FILE --csr FILE [--profile P] [--days N] "
         "[--subject DN] [--san LIST] [--out FILE]",
         cli_opts_cert_sign, 0, 0,
         "The request's signature is checked first; a server or client\n"
         "profile refuses a request for CA:TRUE; an expired CA issues "
         "nothing;\n"
         "--days is cut at the CA's notAfter. Subject and SAN come from the\n"
         "request unless given; its other extensions only with\n"
         "--copy-extensions. 128-bit random serials.\n" PIN_HELP},
        {"cert", "show", cli_cert_show,
         "Decode certificates, requests and keys (PEM or DER) with SHA-256 "
         "fingerprints.",
         "FILE...", opts_none, 1, CLI_MAX_POS,
         "Private keys: only the public half is printed.\n"},
        {"bundle", "check", cli_bundle_check,
         "The ACM import gate: will AWS take this certificate, key and chain?",
         "--cert FILE --key FILE [--chain FILE] [--for T] [--replaces OLD]"
         " [--mtls-domain NAME [--ownership-cert F]]",
         cli_opts_bundle_check, 0, 0, GATE_HELP},
        {"bundle", "export", cli_bundle_export,
         "Write an ACM bundle for a token key, through the export gate.",
         "--key URI --cert FILE [--chain FILE] --out DIR [--for T]",
         cli_opts_bundle_export, 0, 0,
         "The key's attributes are read first: a sensitive or "
         "non-extractable\n"
         "key is refused (key-not-exportable) and nothing is read or "
         "written.\n" GATE_HELP PIN_HELP},
        {"bundle", "fallback", cli_bundle_fallback,
         "The software fallback: a software key (unencrypted PKCS#8, 0600) "
         "and "
         "its CSR.",
         "--subject DN [--san LIST] --out DIR [--type T] [--for T]",
         cli_opts_bundle_fallback, 0, 0,
         "Then have a CA sign DIR/request.csr and run bundle assemble.\n"},
        {"bundle", "assemble", cli_bundle_assemble,
         "Normalise what a CA handed out into certificate.pem, "
         "private_key.pem, certificate_chain.pem.",
         "--cert FILE --key FILE [--chain FILE] --out DIR [--for T]",
         cli_opts_bundle_assemble, 0, 0,
         "Strips blank lines and text around blocks, orders the chain leaf "
         "to\n"
         "root, drops the leaf and unrelated certificates, then writes only "
         "if\n"
         "the result passes the gate.\n"},
        {"truststore", "lint", cli_truststore_lint,
         "API Gateway's mutual-TLS truststore rules, a finding per "
         "certificate.",
         "FILE", opts_none, 1, 1,
         "Chains are built inside the file; --at TIME moves the clock.\n"},
        {"mtls", "check", cli_mtls_check,
         "What API Gateway's mutual TLS does with a client certificate: "
         "allow (200) or deny (403).",
         "--truststore FILE --cert FILE", cli_opts_mtls_check, 0, 0,
         "Reasons: untrusted, expired, not-yet-valid, unsupported-algorithm,\n"
         "chain-too-long, bad-signature. Exit 0 allow, 1 deny.\n"},
        {"chain", "verify", cli_chain_verify,
         "Path validation as RFC 5280 and the web PKI require (OpenSSL's, "
         "strict).",
         "--truststore FILE --cert FILE [--untrusted FILE] [--purpose P] "
         "[--host NAME] [--max-depth N] [--crl FILE] [--no-check-time]",
         cli_opts_chain_verify, 0, 0, "Exit 0 valid, 1 not valid.\n"},
        {"truststore", "merge", cli_truststore_merge,
         "Merge truststores for a rotation overlap: order kept, duplicates "
         "dropped.",
         "A B... [--out FILE]", cli_opts_ts_out, 1, CLI_MAX_POS, NULL},
        {"truststore", "remove", cli_truststore_remove,
         "Drop one certificate (by SHA-256 fingerprint) from a truststore.",
         "FILE --fingerprint F [--out FILE]", cli_opts_ts_remove, 1, 1, NULL},
        {"cert", "expiry", cli_cert_expiry,
         "Days left for every certificate in files, directories and on "
         "tokens, soonest first.",
         "FILE|DIR|URI... [--within 30d]", cli_opts_expiry, 1, CLI_MAX_POS,
         "Exit 1 when any certificate expires within the window (or has).\n"
         "Token certificates are public objects: no PIN is asked for.\n"},
        {"audit", "verify", cli_audit_verify,
         "Check an audit log's hash chain; name the first line that breaks "
         "it.",
         "FILE", opts_none, 1, 1,
         "Every token operation appends a line with --audit FILE or\n"
         "KEYGATE_AUDIT: time, operation, token, key id, subject, serial,\n"
         "SHA-256 of what was written, and the SHA-256 of the line before.\n"
         "Exit 0 when the chain holds, 1 when it breaks.\n"},
        {"cert", "revoke", cli_cert_revoke,
         "Record a revocation in the audit log, the CA's database.",
         "--ca-key KEY --ca-cert FILE --serial S [--reason R]",
         cli_opts_cert_revoke, 0, 0,
         "Needs --audit FILE or KEYGATE_AUDIT: the log cert sign wrote. Its\n"
         "chain is checked first; the serial must be one this CA issued\n"
         "there, not yet revoked. The CA key must be on a token and be the\n"
         "certificate's. The revocation time is now, or the global --at.\n"
         "Then publish it with crl create. Example:\n"
         "  keygate --audit station.jsonl cert revoke --ca-key "
         "\"pkcs11:token=issuing;object=issuing-ca\" --ca-cert int.pem "
         "--serial 5F3A...C1 --reason keyCompromise\n" PIN_HELP},
        {"crl", "create", cli_crl_create,
         "Sign on the token a v2 CRL of every revocation on record for a "
         "CA.",
         "--ca-key KEY --ca-cert FILE [--days N] [--out FILE]",
         cli_opts_crl_create, 0, 0,
         "Needs --audit FILE or KEYGATE_AUDIT. A log whose chain does not\n"
         "verify is refused, as is a key that is not the certificate's,\n"
         "before anything is signed. The CRL number is one more than the\n"
         "last on record for the CA; the CRL carries its AKI, reasons and\n"
         "nextUpdate = now + N days; it is verified with the CA\n"
         "certificate's key and recorded before it is put in place. "
         "Example:\n"
         "  keygate --audit station.jsonl crl create --ca-key "
         "\"pkcs11:token=issuing;object=issuing-ca\" --ca-cert int.pem "
         "--days 7 --out int.crl\n" PIN_HELP},
        {"audit", "show", cli_audit_show,
         "What a CA issued and revoked, and its CRLs, from an audit log.",
         "FILE [--issued] [--revoked] [--ca-cert FILE]", cli_opts_audit_show,
         1, 1,
         "Neither --issued nor --revoked shows both. A log whose chain\n"
         "does not verify is refused (exit 1). --ca-cert keeps one CA's\n"
         "records (those written since records name their issuer). "
         "Example:\n"
         "  keygate --json audit show station.jsonl --revoked\n"},
        {NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL}};

static void usage(FILE *f)
{
	const struct cli_cmd *c;

	fprintf(f, "usage: keygate [--json] [--quiet] [--verbose] "
	           "[--module PATH] [--at TIME] [--audit FILE]\n"
	           "               GROUP VERB [OPTIONS] [ARGS]\n"
	           "       keygate --version | --help | GROUP --help | GROUP "
	           "VERB --help\n\ncommands:\n");
	for (c = cli_cmds; c->group != NULL; c++)
		fprintf(f, "  %-6s %-9s %s\n", c->group, c->verb, c->summary);
	fprintf(f,
	        "\n--verbose traces every PKCS#11 call on stderr (function, "
	        "handles, attribute\ntypes, CKR, milliseconds; never a PIN "
	        "or key material), e.g.\n  keygate --verbose key list "
	        "--token pkcs11:token=ci\n");
	fprintf(f, "\nexit status: 0 done, 1 check failed or refused, 2 "
	           "usage, 3 token, 4 other run-time error\n");
}

static int group_exists(const char *g)
{
	const struct cli_cmd *c;

	for (c = cli_cmds; c->group != NULL; c++)
		if (strcmp(c->group, g) == 0)
			return 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct cli_ctx c;
	struct cli_args a;
	struct kg_err err;
	const struct cli_cmd *cmd;
	const char *group = NULL, *verb = NULL;
	int i, want_help = 0, rest;
	enum kg_code rc;

	/* before anything that could hold a secret */
	const char *unhardened = kg_harden_process();

	memset(&c, 0, sizeof(c));
	c.now = time(NULL);
	c.hconf.warn = cli_warn;
	c.hconf.warn_arg = &c;
	/* hsm/ reads no environment and prompts on no terminal: here */
	c.hconf.prompt = isatty(STDIN_FILENO) ? kg_secret_prompt : NULL;
	c.hconf.hint_pin = "give --pin-source file:PATH|env:NAME|fd:N, set "
	                   "KEYGATE_PIN, or run on a terminal";
	c.hconf.hint_so_pin = "give --so-pin-source file:PATH|env:NAME|fd:N "
	                      "or set KEYGATE_SO_PIN";
	c.hconf.hint_module = "give --module PATH or set KEYGATE_MODULE";
	c.hconf.hint_keys = "see keygate key list --token";
	c.hconf.hint_replace = "choose another label or use --force to "
	                       "replace it";
	c.hconf.hint_tokens = "see keygate token list for the tokens present";
	c.hconf.pin = getenv("KEYGATE_PIN");
	c.hconf.so_pin = getenv("KEYGATE_SO_PIN");
	{
		const char *r = getenv("KEYGATE_RETRIES");

		if (r != NULL && *r >= '0' && *r <= '9' && r[1] == '\0')
			hsm_set_retries(*r - '0');
	}
	/* global options, then GROUP VERB */
	for (i = 1; i < argc; i++) {
		int g;

		if (strcmp(argv[i], "--version") == 0) {
			printf("keygate %s (%s)\n", KEYGATE_VERSION,
			       OpenSSL_version(OPENSSL_VERSION));
			return 0;
		}
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			want_help = 1;
			continue;
		}
		g = cli_global_opt(&c, argc, argv, &i, &err);
		if (g < 0)
			return cli_fail(&c, &err);
		if (g > 0)
			continue;
		if (argv[i][0] == '-') {
			kg_err_set(&err, KG_E_USAGE,
			           "unknown option '%s' (see keygate --help)",
			           argv[i]);
			return cli_fail(&c, &err);
		}
		group = argv[i++];
		if (i < argc && argv[i][0] != '-')
			verb = argv[i++];
		else if (i < argc && strcmp(argv[i], "--help") == 0)
			want_help = 1, i++;
		break;
	}
	rest = i;
	if (unhardened != NULL)
		cli_warn(&c, unhardened);
	if (group == NULL) {
		usage(want_help ? stdout : stderr);
		return want_help ? 0 : KG_E_USAGE;
	}
	if (!group_exists(group)) {
		kg_err_set(&err, KG_E_USAGE,
		           "unknown command '%s' (see keygate --help)", group);
		return cli_fail(&c, &err);
	}
	if (verb == NULL) {
		printf("keygate %s: verbs:\n", group);
		for (cmd = cli_cmds; cmd->group != NULL; cmd++)
			if (strcmp(cmd->group, group) == 0)
				printf("  %-9s %s\n", cmd->verb, cmd->summary);
		if (want_help)
			return 0;
		kg_err_set(&err, KG_E_USAGE, "'%s' needs a verb", group);
		return cli_fail(&c, &err);
	}
	for (cmd = cli_cmds; cmd->group != NULL; cmd++)
		if (strcmp(cmd->group, group) == 0 &&
		    strcmp(cmd->verb, verb) == 0)
			break;
	if (cmd->group == NULL) {
		kg_err_set(&err, KG_E_USAGE,
		           "unknown command '%s %s' (see keygate %s --help)",
		           group, verb, group);
		return cli_fail(&c, &err);
	}
	if (want_help) {
		cli_help_cmd(cmd);
		return 0;
	}
	rc = cli_parse(&c, cmd, argc - rest, argv + rest, &a, &want_help,
	               &err);
	if (rc != KG_OK)
		return cli_fail(&c, &err);
	if (want_help) {
		cli_help_cmd(cmd);
		return 0;
	}
	if (c.audit == NULL)
		c.audit = getenv("KEYGATE_AUDIT");
	c.hconf.module = c.module ? c.module : getenv("KEYGATE_MODULE");
	c.hconf.pin_source = c.pin_source;
	if (c.verbose)
		hsm_trace_start(cli_trace, &c);
	rc = cmd->fn(&c, cmd, &a);
	json_decref(c.warnings);
	if (c.interrupted > 0) {
		/* a batch stopped by a signal, everything cleaned: die of it
		 */
		fflush(NULL); /* the report, before the signal ends us */
		signal(c.interrupted, SIG_DFL);
		raise(c.interrupted);
	}
	return (int)rc;
}
