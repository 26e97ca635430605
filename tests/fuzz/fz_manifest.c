/*
 * csr create --manifest (cli/cli_cmd_manifest.c): the JSON Lines manifest
 * reader. Its line parser (parse_line, read_manifest) is static, so this
 * drives the nearest public entry point, cli_csr_manifest: the input is
 * written to a scratch file given as --manifest, and --out-dir names that
 * same file, so every line is read and checked (label, type, subject
 * through eng_dn_parse, san through eng_san_parse, duplicate labels) and
 * the command then stops at "not a directory" before any token is opened.
 */
#include "tests/fuzz/fz.h"

#include "cli/cli.h"

static const struct cli_opt opts[] = {
        {"token", CLI_VALUE, "URI", ""},  {"out-dir", CLI_VALUE, "DIR", ""},
        {"manifest", CLI_VALUE, "F", ""}, {"jobs", CLI_VALUE, "N", ""},
        {"digest", CLI_VALUE, "D", ""},   {"force", CLI_FLAG, NULL, ""},
        {"key", CLI_VALUE, "KEY", ""},    {"subject", CLI_VALUE, "DN", ""},
        {"out", CLI_VALUE, "FILE", ""},   CLI_OPT_END,
};

static const struct cli_cmd cmd = {
        "csr", "create", cli_csr_manifest, "", "", opts, 0, 0, NULL,
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/*
	 * cli_fail prints one line per run on stderr. libFuzzer took its
	 * own copy of the stream at start-up and the sanitizers write to
	 * descriptor 2, so only the command's messages go.
	 */
	FILE *devnull = fopen("/dev/null", "w");

	if (devnull != NULL)
		stderr = devnull;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *path = fz_scratch("manifest", data, size);
	struct cli_ctx c;
	struct cli_args a;

	memset(&c, 0, sizeof(c));
	memset(&a, 0, sizeof(a));
	c.quiet = 1;
	c.now = FZ_AT;
	a.val[0] = "pkcs11:token=fuzz"; /* --token */
	a.set[0] = 1;
	a.val[1] = path; /* --out-dir: a file, so it stops before the token */
	a.set[1] = 1;
	a.val[2] = path; /* --manifest */
	a.set[2] = 1;
	a.val[3] = "1"; /* --jobs */
	a.set[3] = 1;
	if (cli_csr_manifest(&c, &cmd, &a) == KG_OK)
		abort(); /* it cannot have made keys */
	json_decref(c.warnings);
	return 0;
}
