/*
 * csr create --token URI --manifest FILE --out-dir DIR: keygen + CSR for a
 * fleet. One JSON object per line:
 *
 *   {"label": "dev-001", "type": "ec:p256", "subject": "CN=dev-001.example",
 *    "san": "DNS:dev-001.example"}
 *
 * type defaults to rsa:2048; san is a LIST string or an array of entries.
 * Every line is checked before the token makes anything; a bad line is
 * reported (line, label, reason) and the batch goes on; exit 1 at the end
 * if any failed. Keys are made and requests signed by up to --jobs
 * read-write sessions at once; DIR/LABEL.csr come out in manifest order.
 */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "common/kg_file.h"
#include "common/kg_json.h"
#include "engine/eng.h"

/*
 * At most this many lines in one manifest (and KG_CAP_MANIFEST bytes):
 * each costs an item of its own, half a KiB before its key and request.
 */
#define MF_MAX_LINES 200000

struct mf_item {
	size_t line; /* 1-based, in the manifest */
	char *label, *type;
	X509_NAME *subject;
	GENERAL_NAMES *san;
	struct hsm_keygen g;
	char *uri; /* the new key's */
	unsigned char id[64];
	size_t id_len;
	struct cli_staged st; /* DIR/LABEL.csr on its way */
};

struct mf_batch {
	struct cli_batch b;
	struct mf_item *items;
	struct hsm_token **tok; /* one read-write session per worker */
	const EVP_MD *md;
	int pss; /* --sig-alg rsa-pss */
};

/* A bad line: what is wrong with it, as the item's failure. */
static void item_error(struct mf_item *it, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
static void item_error(struct mf_item *it, const char *fmt, ...)
{
	struct kg_err err;
	char msg[sizeof(err.msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kg_err_set(&err, KG_REFUSED, "%s", msg);
	cli_staged_fail(&it->st, &err);
}

/* A label names a file too: no '/', not hidden, not empty. */
static int label_ok(const char *l)
{
	return l[0] != '\0' && l[0] != '.' && strchr(l, '/') == NULL &&
	       strlen(l) <= 128;
}

/* The "san" member: a LIST string or an array of entries, joined. */
static char *san_string(json_t *v)
{
	size_t i, len = 0;
	json_t *e;
	char *s;

	if (json_is_string(v))
		return strdup(json_string_value(v));
	if (!json_is_array(v))
		return NULL;
	json_array_foreach(v, i, e)
	{
		if (!json_is_string(e))
			return NULL;
		len += strlen(json_string_value(e)) + 1;
	}
	s = calloc(len + 1, 1);
	json_array_foreach(v, i, e)
	{
		if (s == NULL)
			break;
		if (i > 0)
			strcat(s, ",");
		strcat(s, json_string_value(e));
	}
	return s;
}

/* One manifest line into it; a bad line sets it->st.rc and why. */
static void parse_line(struct mf_item *it, const char *text, const char *outd)
{
	static const char *const known[] = {"label", "type", "subject", "san"};
	json_error_t je;
	json_t *o = json_loads(text, JSON_REJECT_DUPLICATES, &je), *v;
	const char *key;
	struct kg_err err;
	char *san = NULL;
	size_t k;

	if (!json_is_object(o)) {
		item_error(it,
		           "not a JSON object (%s); one object per line: "
		           "{\"label\":...,\"type\":...,\"subject\":...,"
		           "\"san\":...}",
		           o == NULL ? je.text : "another JSON value");
		goto out;
	}
	json_object_foreach(o, key, v)
	{
		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (strcmp(key, known[k]) == 0)
				break;
		if (k == sizeof(known) / sizeof(known[0])) {
			item_error(it,
			           "unknown member \"%s\": a line has label, "
			           "type, subject and san",
			           key);
			goto out;
		}
	}
	v = json_object_get(o, "label");
	if (!json_is_string(v) || !label_ok(json_string_value(v))) {
		item_error(
		        it,
		        "%s: give \"label\", a string without '/' that does "
		        "not start with '.'",
		        v == NULL ? "no label" : "bad label");
		goto out;
	}
	it->label = strdup(json_string_value(v));
	v = json_object_get(o, "type");
	it->type = strdup(v == NULL           ? "rsa:2048"
	                  : json_is_string(v) ? json_string_value(v)
	                                      : "(not a string)");
	v = json_object_get(o, "subject");
	if (!json_is_string(v)) {
		item_error(it, "%s: give \"subject\", a DN string",
		           v == NULL ? "no subject" : "bad subject");
		goto out;
	}
	if (it->label == NULL || it->type == NULL ||
	    asprintf(&it->st.outp, "%s/%s.csr", outd, it->label) < 0) {
		it->st.outp = NULL;
		item_error(it, "out of memory");
		goto out;
	}
	if (cli_key_type(it->type, &it->g, &err) != KG_OK ||
	    eng_dn_parse(json_string_value(v), &it->subject, &err) != KG_OK) {
		cli_staged_fail(&it->st, &err);
		it->st.rc = KG_REFUSED; /* a bad item, not a bad command */
		goto out;
	}
	v = json_object_get(o, "san");
	if (v != NULL && (san = san_string(v)) == NULL) {
		item_error(
		        it,
		        "bad san: give a LIST string (\"DNS:a,IP:10.0.0.1\") "
		        "or an array of entries");
		goto out;
	}
	if (san != NULL && cli_san(san, "\"san\"", &it->san, &err) != KG_OK) {
		cli_staged_fail(&it->st, &err);
		it->st.rc = KG_REFUSED;
	}
	it->g.label = it->label;
out:
	free(san);
	json_decref(o);
}

/*
 * KEYGATE_DEBUG_COUNTS=1: the label comparisons of a check, on stderr, so
 * that tests/integration/t_scale.sh fails if one turns quadratic again.
 */
static unsigned long label_cmps;

static void debug_counts(const char *what)
{
	const char *e = getenv("KEYGATE_DEBUG_COUNTS");

	if (e != NULL && *e != '\0' && strcmp(e, "0") != 0)
		fprintf(stderr, "keygate: debug: %s: compare=%lu\n", what,
		        label_cmps);
	label_cmps = 0;
}

/* Manifest items by label, then line: a label's first line comes first. */
static int item_by_label(const void *a, const void *b)
{
	const struct mf_item *x = *(struct mf_item *const *)a,
	                     *y = *(struct mf_item *const *)b;
	int c;

	label_cmps++;
	c = strcmp(x->label, y->label);
	if (c != 0)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

/*
 * Two lines for one label: the later ones are bad, each naming the first.
 * Sorted, not compared pairwise (100 000 lines took 52 s that way).
 */
static enum kg_code dup_labels(struct mf_item *items, size_t m,
                               struct kg_err *err)
{
	struct mf_item **by = malloc((m ? m : 1) * sizeof(*by));
	size_t i, k = 0, first = 0;

	if (by == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	for (i = 0; i < m; i++)
		if (items[i].label != NULL)
			by[k++] = &items[i];
	qsort(by, k, sizeof(*by), item_by_label);
	for (i = 1; i < k; i++) {
		char what[64];

		label_cmps++;
		if (strcmp(by[first]->label, by[i]->label) != 0) {
			first = i;
			continue;
		}
		if (by[i]->st.rc != KG_OK)
			continue; /* a bad line already */
		snprintf(what, sizeof(what), "%zu", by[first]->line);
		item_error(by[i], "the label is on line %s already", what);
	}
	free(by);
	debug_counts("manifest labels");
	return KG_OK;
}

/* A line that is more than blanks. */
static int has_text(const char *p, const char *end)
{
	for (; p < end; p++)
		if (*p != ' ' && *p != '\t' && *p != '\r')
			return 1;
	return 0;
}

/* The manifest's lines (blank ones skipped), each parsed and checked. */
static enum kg_code read_manifest(const char *path, const char *outd,
                                  struct mf_item **out, size_t *n,
                                  struct kg_err *err)
{
	unsigned char *buf = NULL;
	struct mf_item *items;
	size_t len = 0, lines = 0, m = 0, line = 0;
	char *p, *nl, *end;
	enum kg_code rc;

	*out = NULL;
	*n = 0;
	rc = kg_file_read_max(path, KG_CAP_MANIFEST, "a manifest", &buf, &len,
	                      err);
	if (rc != KG_OK)
		return rc;
	/* an item per line with text: blank lines cost nothing */
	end = (char *)buf + len;
	for (p = (char *)buf; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		lines += has_text(p, nl);
	}
	if (lines > MF_MAX_LINES) {
		free(buf);
		return kg_err_set(err, KG_E_USAGE,
		                  "'%s' has %zu manifest lines; keygate takes "
		                  "at most %d in one run: split it",
		                  path, lines, MF_MAX_LINES);
	}
	items = calloc(lines ? lines : 1, sizeof(*items));
	if (items == NULL) {
		free(buf);
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	}
	for (p = (char *)buf; p != NULL && *p != '\0';
	     p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl = '\0';
		line++;
		if (strspn(p, " \t\r") == strlen(p))
			continue;
		if (m == lines)
			break; /* a NUL inside a line: no more text */
		items[m].line = line;
		parse_line(&items[m], p, outd);
		m++;
	}
	free(buf);
	if (m == 0) {
		free(items);
		return kg_err_set(err, KG_E_USAGE,
		                  "'%s' holds no manifest line (JSON Lines: "
		                  "label, type, subject, san)",
		                  path);
	}
	*out = items;
	*n = m;
	return dup_labels(items, m, err);
}

/* Token keys by label, then by their place in the list. */
static int key_by_label(const void *a, const void *b)
{
	const struct hsm_key_info *x = *(struct hsm_key_info *const *)a,
	                          *y = *(struct hsm_key_info *const *)b;
	int c;

	label_cmps++;
	c = strcmp(x->label, y->label);
	if (c != 0)
		return c;
	return x < y ? -1 : x > y;
}

/*
 * Every line whose label a key on the token has already is bad, naming
 * that key (the first in the token's list): the keys sorted by label, a
 * binary search per line.
 */
static void token_labels(struct mf_item *items, size_t m,
                         struct hsm_key_info *have, size_t nhave,
                         const char *token)
{
	struct hsm_key_info **by = malloc((nhave ? nhave : 1) * sizeof(*by));
	size_t i, k = 0;

	for (i = 0; by != NULL && i < nhave; i++)
		if (have[i].label != NULL)
			by[k++] = &have[i];
	if (by != NULL)
		qsort(by, k, sizeof(*by), key_by_label);
	for (i = 0; i < m; i++) {
		struct mf_item *it = &items[i];
		size_t lo = 0, hi = k;

		it->g.label_checked = by != NULL;
		if (it->st.rc != KG_OK || by == NULL)
			continue;
		while (lo < hi) { /* the first key with a label >= it's */
			size_t mid = lo + (hi - lo) / 2;

			label_cmps++;
			if (strcmp(by[mid]->label, it->label) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		label_cmps += lo < k;
		if (lo == k || strcmp(by[lo]->label, it->label) != 0)
			continue;
		item_error(it,
		           "a key labelled '%s' exists on token '%s': %s; "
		           "choose another label or use --force to replace it",
		           it->label, token, by[lo]->uri);
	}
	free(by);
	debug_counts("token labels");
}

/* On a worker thread: the key on the token, its request, staged. */
static void mf_work(void *ctx, int worker, size_t i)
{
	struct mf_batch *mb = ctx;
	struct mf_item *it = &mb->items[i];
	struct cli_staged *st = &it->st;
	struct hsm_token *t = mb->tok[worker];
	struct hsm_key_info info = {0};
	struct hsm_key *k = NULL;
	struct eng_request r = {0};
	EVP_PKEY *pkey = NULL;
	X509_REQ *req = NULL;
	struct kg_err err;
	enum kg_code rc;

	if (st->rc != KG_OK)
		return; /* a bad line: reported, nothing made */
	it->g.force = mb->b.force;
	rc = mb->b.force ? KG_OK : kg_file_check_writable(st->outp, 0, &err);
	if (rc == KG_OK)
		rc = hsm_key_gen_open(t, &it->g, &info, &k, &err);
	if (rc == KG_OK) {
		cli_keygen_extra(mb->b.c, &info, hsm_token_label(t));
		cli_keygen_retired(mb->b.c, t, &info);
		it->uri = info.uri;
		info.uri = NULL;
		it->id_len = info.id_len;
		memcpy(it->id, info.id, info.id_len);
	}
	if (rc == KG_OK)
		rc = hsm_key_pkey(k, &pkey, &err);
	if (rc == KG_OK) {
		r.subject = it->subject;
		r.san = it->san;
		r.md = mb->md;
		r.pss = mb->pss;
		rc = eng_csr_build(&r, pkey, &req, &err);
	}
	if (rc == KG_OK)
		rc = eng_pem_req(req, &st->pem, &st->plen, &err);
	if (rc == KG_OK)
		rc = kg_file_stage(st->outp, st->pem, st->plen, 0644, 0,
		                   &st->tmp, &err); /* synced by the run */
	if (rc != KG_OK && it->uri != NULL)
		kg_err_prefix(&err,
		              "key '%s' is on the token but its request "
		              "is not",
		              it->label);
	if (rc != KG_OK)
		cli_staged_fail(st, &err);
	if (mb->b.c->audit != NULL && it->uri != NULL) {
		/* the key exists now: on record whatever became of the CSR */
		cli_audit_keygen(&st->rec[st->nrec++].r, t, it->id, it->id_len,
		                 it->uri, it->type);
	}
	if (mb->b.c->audit != NULL && rc == KG_OK) {
		struct cli_audit_rec *ar = &st->rec[st->nrec++];
		struct kg_audit_rec *a = &ar->r;

		ar->subject = eng_name_str(it->subject);
		*a = st->rec[0].r;
		a->op = "csr";
		a->detail = NULL;
		a->subject = ar->subject;
		a->out = st->pem;
		a->out_len = st->plen;
		a->out_path = st->outp;
	}
	EVP_PKEY_free(pkey);
	hsm_key_free(k);
	X509_REQ_free(req);
	hsm_key_info_clear(&info);
}

static struct cli_staged *mf_at(void *ctx, size_t i)
{
	return &((struct mf_batch *)ctx)->items[i].st;
}

/* After its commit: the key and its request, or the line and why. */
static void mf_report(struct cli_batch *b, size_t i)
{
	struct mf_item *it = &((struct mf_batch *)b->ctx)->items[i];
	json_t *j = json_object();
	char what[200];

	json_object_set_new(j, "line", json_integer((long)it->line));
	json_object_set_new(j, "label", kg_json_str(it->label));
	if (it->st.rc == KG_OK) {
		json_object_set_new(j, "uri", kg_json_str(it->uri));
		json_object_set_new(j, "csr", kg_json_str(it->st.outp));
	} else {
		json_object_set_new(j, "key", kg_json_str(it->uri));
	}
	snprintf(what, sizeof(what), "line %zu%s%s%s", it->line,
	         it->label ? " ('" : "", it->label ? it->label : "",
	         it->label ? "')" : "");
	cli_batch_item(b, &it->st, j, what);
}

enum kg_code cli_csr_manifest(struct cli_ctx *c, const struct cli_cmd *cmd,
                              struct cli_args *a)
{
	const char *tok = cli_opt(cmd, a, "token");
	const char *outd = cli_opt(cmd, a, "out-dir");
	struct hsm_token *t = NULL;
	struct mf_batch mb;
	struct cli_batch *b = &mb.b;
	struct kg_err err;
	enum kg_code rc = KG_OK;
	struct hsm_key_info *have = NULL;
	size_t i, nhave = 0;
	int jobs = 1;

	memset(&mb, 0, sizeof(mb));
	if (tok == NULL || outd == NULL || cli_opt(cmd, a, "key") != NULL ||
	    cli_opt(cmd, a, "subject") != NULL || cli_opt(cmd, a, "out"))
		rc = kg_err_set(&err, KG_E_USAGE,
		                "csr create --manifest FILE needs --token URI "
		                "and --out-dir DIR, and takes no --key, "
		                "--subject or --out (see keygate csr create "
		                "--help)");
	if (rc == KG_OK)
		rc = cli_jobs(cli_opt(cmd, a, "jobs"), &jobs, &err);
	if (rc == KG_OK)
		rc = eng_digest(cli_opt(cmd, a, "digest"), &mb.md, &err);
	if (rc == KG_OK)
		rc = eng_sig_alg_parse(cli_opt(cmd, a, "sig-alg"), &mb.pss,
		                       &err);
	if (rc == KG_OK)
		rc = read_manifest(cli_opt(cmd, a, "manifest"), outd,
		                   &mb.items, &b->n, &err);
	/* a PSS signature needs an RSA key: such a line is bad before
	 * anything is made */
	for (i = 0; rc == KG_OK && mb.pss && i < b->n; i++)
		if (mb.items[i].st.rc == KG_OK &&
		    mb.items[i].g.type != HSM_KEY_RSA)
			item_error(&mb.items[i],
			           "--sig-alg rsa-pss needs an RSA key, not "
			           "%s",
			           mb.items[i].type);
	if (rc == KG_OK)
		rc = kg_file_out_dir(outd, 0755, &err);
	if (rc == KG_OK)
		rc = hsm_token_open(tok, &c->hconf, HSM_LOGIN_USER | HSM_RW,
		                    &t, &err);
	jobs = cli_jobs_for(jobs, b->n);
	if (rc == KG_OK) {
		mb.tok = calloc((size_t)jobs, sizeof(*mb.tok));
		if (mb.tok == NULL)
			rc = kg_err_set(&err, KG_E_RUNTIME, "out of memory");
	}
	if (rc != KG_OK)
		goto out;
	/* the labels already on the token, in one search, not one per key;
	 * a search that fails stops the batch before any key is made */
	if (!cli_flag(cmd, a, "force")) {
		rc = hsm_key_list(t, NULL, &have, &nhave, &err);
		if (rc != KG_OK)
			goto out;
		token_labels(mb.items, b->n, have, nhave, hsm_token_label(t));
		hsm_key_info_free_array(have, nhave);
	}
	/* as many read-write sessions as the token gives, at least one */
	mb.tok[b->jobs++] = t;
	while (b->jobs < jobs &&
	       hsm_token_fork(t, &mb.tok[b->jobs], &err) == KG_OK)
		b->jobs++;
	b->c = c;
	b->outd = outd;
	b->force = cli_flag(cmd, a, "force");
	b->ctx = &mb;
	b->at = mf_at;
	b->work = mf_work;
	b->report = mf_report;
	rc = cli_batch_run(b, &err);
	if (rc == KG_OK) {
		json_t *j = NULL;

		if (c->json)
			json_object_set_new(j = json_object(), "generated",
			                    json_integer((long)b->ok));
		else
			printf("generated %zu key%s and request%s on token "
			       "'%s' into %s",
			       b->ok, b->ok == 1 ? "" : "s",
			       b->ok == 1 ? "" : "s", hsm_token_label(t),
			       outd);
		cli_batch_report(b, j, "keys");
	}
out:
	for (i = 1; i < (size_t)b->jobs; i++)
		hsm_token_close(mb.tok[i]);
	free(mb.tok);
	hsm_token_close(t);
	for (i = 0; mb.items != NULL && i < b->n; i++) {
		struct mf_item *it = &mb.items[i];

		free(it->label);
		free(it->type);
		free(it->uri);
		cli_staged_clear(&it->st);
		X509_NAME_free(it->subject);
		GENERAL_NAMES_free(it->san);
	}
	free(mb.items);
	json_decref(b->fails);
	json_decref(b->done);
	if (rc != KG_OK)
		return cli_fail(c, &err);
	return b->nfail ? KG_REFUSED : KG_OK;
}
