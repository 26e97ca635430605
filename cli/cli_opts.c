/* Option parsing and --help, from each command's table. */
#include "cli/cli.h"

#include "common/kg_time.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int find_opt(const struct cli_opt *opts, const char *name, size_t len)
{
	int i;

	for (i = 0; opts[i].name != NULL; i++)
		if (strlen(opts[i].name) == len &&
		    strncmp(opts[i].name, name, len) == 0)
			return i;
	return -1;
}

const char *cli_opt(const struct cli_cmd *cmd, const struct cli_args *a,
                    const char *name)
{
	int i = find_opt(cmd->opts, name, strlen(name));

	return i >= 0 && a->set[i] ? a->val[i] : NULL;
}

int cli_flag(const struct cli_cmd *cmd, const struct cli_args *a,
             const char *name)
{
	int i = find_opt(cmd->opts, name, strlen(name));

	return i >= 0 && a->set[i];
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* RFC 3339 ("2026-01-02T03:04:05Z", offsets allowed) or "@EPOCH". */
enum kg_code cli_parse_time(const char *s, time_t *out, struct kg_err *err)
{
	static const int mdays[] = {31, 28, 31, 30, 31, 30,
	                            31, 31, 30, 31, 30, 31};
	int Y, M, D, h, m, sec, n = 0, oh = 0, om = 0, sign = 0;
	long long days;
	char *end;
	const char *p;

	if (s[0] == '@') {
		long long v;

		errno = 0;
		v = strtoll(s + 1, &end, 10);
		if (s[1] == '\0' || *end != '\0' || errno != 0)
			goto bad;
		if (!kg_time_in_range(v))
			goto range;
		*out = (time_t)v;
		return KG_OK;
	}
	if (sscanf(s, "%4d-%2d-%2d%*1[Tt ]%2d:%2d:%2d%n", &Y, &M, &D, &h, &m,
	           &sec, &n) != 6)
		goto bad;
	p = s + n;
	if (*p == '.') /* fractions are dropped */
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &n) != 2)
			goto bad;
		p += 1 + n;
	} else {
		goto bad;
	}
	if (*p != '\0' || M < 1 || M > 12 || D < 1 ||
	    D > mdays[M - 1] + (M == 2 && is_leap(Y)) || h > 23 || m > 59 ||
	    sec > 60 || oh > 23 || om > 59)
		goto bad;
	/* days from civil (proleptic Gregorian) */
	{
		int y = Y - (M <= 2);
		long long era = (y >= 0 ? y : y - 399) / 400;
		unsigned yoe = (unsigned)(y - era * 400);
		unsigned doy =
		        (153u * (unsigned)(M + (M > 2 ? -3 : 9)) + 2) / 5 +
		        (unsigned)D - 1;
		unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

		days = era * 146097 + (long long)doe - 719468;
	}
	days = days * 86400 + h * 3600 + m * 60 + sec -
	       sign * (oh * 3600 + om * 60);
	if (!kg_time_in_range(days))
		goto range;
	*out = (time_t)days;
	return KG_OK;
range:
	return kg_err_set(err, KG_E_USAGE,
	                  "time '%s' is outside what X.509 can hold "
	                  "(0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z)",
	                  s);
bad:
	return kg_err_set(err, KG_E_USAGE,
	                  "bad time '%s': use RFC 3339 "
	                  "(2026-01-02T03:04:05Z) or @EPOCH",
	                  s);
}

/* Global options may stand anywhere. Returns 1 consumed, 0 not, -1 bad. */
int cli_global_opt(struct cli_ctx *c, int argc, char **argv, int *i,
                   struct kg_err *err)
{
	static const char *const valued[] = {"module", "at", "audit",
	                                     "pin-source"};
	const char *arg = argv[*i], *eq, *val = NULL;
	size_t nlen, k;

	if (strncmp(arg, "--", 2) != 0)
		return 0;
	arg += 2;
	if (strcmp(arg, "json") == 0)
		return c->json = 1, 1;
	if (strcmp(arg, "quiet") == 0)
		return c->quiet = 1, 1;
	if (strcmp(arg, "verbose") == 0)
		return c->verbose = 1, 1;
	eq = strchr(arg, '=');
	nlen = eq ? (size_t)(eq - arg) : strlen(arg);
	for (k = 0; k < sizeof(valued) / sizeof(valued[0]); k++) {
		if (strlen(valued[k]) != nlen ||
		    strncmp(arg, valued[k], nlen) != 0)
			continue;
		if (eq != NULL) {
			val = eq + 1;
		} else if (*i + 1 < argc) {
			val = argv[++*i];
		} else {
			kg_err_set(err, KG_E_USAGE, "--%s needs a value",
			           valued[k]);
			return -1;
		}
		switch (k) {
		case 0:
			c->module = val;
			break;
		case 1:
			if (cli_parse_time(val, &c->now, err) != KG_OK)
				return -1;
			c->at = val;
			break;
		case 2:
			c->audit = val;
			break;
		default:
			c->pin_source = val;
			break;
		}
		return 1;
	}
	return 0;
}

enum kg_code cli_parse(struct cli_ctx *c, const struct cli_cmd *cmd, int argc,
                       char **argv, struct cli_args *a, int *want_help,
                       struct kg_err *err)
{
	int i, only_pos = 0;

	memset(a, 0, sizeof(*a));
	*want_help = 0;
	for (i = 0; i < argc; i++) {
		const char *s = argv[i], *eq;
		size_t nlen;
		int k, g;

		if (!only_pos && strcmp(s, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (only_pos || s[0] != '-' || strcmp(s, "-") == 0) {
			if (a->npos >= CLI_MAX_POS)
				return kg_err_set(err, KG_E_USAGE,
				                  "too many arguments");
			a->pos[a->npos++] = s;
			continue;
		}
		if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
			*want_help = 1;
			return KG_OK;
		}
		g = cli_global_opt(c, argc, argv, &i, err);
		if (g < 0)
			return KG_E_USAGE;
		if (g > 0)
			continue;
		if (strncmp(s, "--", 2) != 0)
			return kg_err_set(
			        err, KG_E_USAGE,
			        "unknown option '%s' for '%s %s' (see "
			        "keygate %s %s --help)",
			        s, cmd->group, cmd->verb, cmd->group,
			        cmd->verb);
		s += 2;
		eq = strchr(s, '=');
		nlen = eq ? (size_t)(eq - s) : strlen(s);
		k = find_opt(cmd->opts, s, nlen);
		if (k < 0)
			return kg_err_set(
			        err, KG_E_USAGE,
			        "unknown option '--%.*s' for '%s %s' "
			        "(see keygate %s %s --help)",
			        (int)nlen, s, cmd->group, cmd->verb,
			        cmd->group, cmd->verb);
		if (a->set[k])
			return kg_err_set(err, KG_E_USAGE, "--%s given twice",
			                  cmd->opts[k].name);
		a->set[k] = 1;
		if (cmd->opts[k].arg == CLI_FLAG) {
			if (eq != NULL)
				return kg_err_set(err, KG_E_USAGE,
				                  "--%s takes no value",
				                  cmd->opts[k].name);
			continue;
		}
		if (eq != NULL)
			a->val[k] = eq + 1;
		else if (i + 1 < argc)
			a->val[k] = argv[++i];
		else
			return kg_err_set(
			        err, KG_E_USAGE, "--%s needs a value (%s)",
			        cmd->opts[k].name, cmd->opts[k].meta);
		if (a->val[k][0] == '\0')
			return kg_err_set(err, KG_E_USAGE,
			                  "--%s needs a non-empty value (%s)",
			                  cmd->opts[k].name,
			                  cmd->opts[k].meta);
	}
	if (a->npos < cmd->min_pos)
		return kg_err_set(
		        err, KG_E_USAGE,
		        "'%s %s' needs %s (see keygate %s %s --help)",
		        cmd->group, cmd->verb, cmd->synopsis, cmd->group,
		        cmd->verb);
	if (a->npos > cmd->max_pos)
		return kg_err_set(err, KG_E_USAGE,
		                  "unexpected argument '%s' for '%s %s'",
		                  a->pos[cmd->max_pos], cmd->group, cmd->verb);
	return KG_OK;
}

/* One example per verb, printed at the end of its --help. */
static const struct {
	const char *group, *verb, *example;
} examples[] = {
        {"token", "list", "keygate token list --json"},
        {"token", "init",
         "eval \"$(KEYGATE_SO_PIN=87654321 KEYGATE_PIN=1234 keygate token "
         "init --softhsm /tmp/t --label ci)\""},
        {"token", "pin",
         "keygate token pin change --token pkcs11:token=ci "
         "--new-pin-source file:new.pin"},
        {"key", "gen",
         "keygate key gen --token pkcs11:token=ci --label web --type "
         "ec:p256"},
        {"key", "list", "keygate key list --token pkcs11:token=ci"},
        {"key", "show", "keygate key show 'pkcs11:token=ci;object=web'"},
        {"key", "pubkey",
         "keygate key pubkey 'pkcs11:token=ci;object=web' --out web.pub"},
        {"key", "delete",
         "keygate key delete 'pkcs11:token=ci;object=old' --with-cert "
         "--yes"},
        {"key", "decrypt",
         "keygate key decrypt enc.key --out key.pem --passphrase-source "
         "env:PASS"},
        {"object", "list",
         "keygate object list --token pkcs11:token=ci --type cert"},
        {"object", "delete",
         "keygate object delete 'pkcs11:token=ci;object=old;type=cert' "
         "--yes"},
        {"csr", "create",
         "keygate csr create --key 'pkcs11:token=ci;object=web' --subject "
         "CN=api.example.com --out api.csr"},
        {"cert", "selfsign",
         "keygate cert selfsign --key 'pkcs11:token=ci;object=client' "
         "--subject CN=client-01 --profile client --out client.pem"},
        {"cert", "sign",
         "keygate cert sign --ca-key 'pkcs11:token=ca;object=ca' --ca-cert "
         "ca.pem --csr api.csr --profile server --out api.pem"},
        {"cert", "import",
         "keygate cert import api.pem --token pkcs11:token=ci"},
        {"cert", "show", "keygate cert show api.pem"},
        {"cert", "expiry",
         "keygate cert expiry certs/ pkcs11:token=ci --within 30d"},
        {"cert", "revoke",
         "keygate --audit station.jsonl cert revoke --ca-key "
         "'pkcs11:token=ca;object=ca' --ca-cert ca.pem --serial 5F3A01 "
         "--reason keyCompromise"},
        {"crl", "create",
         "keygate --audit station.jsonl crl create --ca-key "
         "'pkcs11:token=ca;object=ca' --ca-cert ca.pem --days 7 --out ca.crl"},
        {"bundle", "check",
         "keygate bundle check --cert cert.pem --key key.pem --chain "
         "chain.pem --for acm"},
        {"bundle", "export",
         "keygate bundle export --key 'pkcs11:token=ci;object=api' --cert "
         "api.pem --chain chain.pem --out bundle/"},
        {"bundle", "fallback",
         "keygate bundle fallback --subject CN=api.example.com --out "
         "bundle/"},
        {"bundle", "assemble",
         "keygate bundle assemble --cert cert.pem --key key.pem --chain "
         "chain.pem --out bundle/"},
        {"truststore", "lint", "keygate truststore lint truststore.pem"},
        {"truststore", "merge",
         "keygate truststore merge old.pem new.pem --out truststore.pem"},
        {"truststore", "remove",
         "keygate truststore remove truststore.pem --fingerprint AB:CD:... "
         "--out truststore.pem --force"},
        {"mtls", "check",
         "keygate mtls check --truststore truststore.pem --cert client.pem"},
        {"chain", "verify",
         "keygate chain verify --truststore roots.pem --cert api.pem "
         "--untrusted chain.pem --purpose server --host api.example.com"},
        {"audit", "verify", "keygate audit verify station.jsonl"},
        {"audit", "show", "keygate --json audit show station.jsonl --revoked"},
};

const char *cli_example(const char *group, const char *verb)
{
	size_t i;

	for (i = 0; i < sizeof(examples) / sizeof(examples[0]); i++)
		if (strcmp(examples[i].group, group) == 0 &&
		    strcmp(examples[i].verb, verb) == 0)
			return examples[i].example;
	return NULL;
}

void cli_help_cmd(const struct cli_cmd *cmd)
{
	int i;

	printf("usage: keygate %s %s %s\n\n%s\n", cmd->group, cmd->verb,
	       cmd->synopsis, cmd->summary);
	if (cmd->opts[0].name != NULL)
		printf("\noptions:\n");
	for (i = 0; cmd->opts[i].name != NULL; i++) {
		char lhs[48];

		snprintf(lhs, sizeof(lhs), "--%s%s%s", cmd->opts[i].name,
		         cmd->opts[i].arg == CLI_VALUE ? " " : "",
		         cmd->opts[i].arg == CLI_VALUE ? cmd->opts[i].meta
		                                       : "");
		printf("  %-28s %s\n", lhs, cmd->opts[i].help);
	}
	if (cmd->details != NULL)
		printf("\n%s", cmd->details);
	if (cli_example(cmd->group, cmd->verb) != NULL)
		printf("\nexample:\n  %s\n",
		       cli_example(cmd->group, cmd->verb));
	printf("\nglobal options: --json --quiet --verbose --module PATH "
	       "--pin-source SRC --at TIME --audit FILE\n");
}
