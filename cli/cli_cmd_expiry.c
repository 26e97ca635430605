/* cert expiry: which certificates expire within a window, from files,
 * directories and tokens. */
#include "cli/cli.h"
#include "common/kg_time.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/pem.h>

#include "common/kg_file.h"
#include "common/kg_json.h"
#include "engine/eng.h"
#include "engine/eng_trust.h"

/* options, beside their handlers (the table in cli_main.c) */
const struct cli_opt cli_opts_expiry[] = {
        {"within", CLI_VALUE, "T", "the window: 30d (default), 12h, 2w"},
        CLI_OPT_END};

struct exp_item {
	X509 *x;
	char *source;
	int index;
	time_t not_after;
};

struct exp_list {
	struct exp_item *v;
	size_t n, cap;
};

/* Adds x; out of memory is an error, never a certificate left out */
static enum kg_code exp_add(struct exp_list *l, X509 *x, const char *src,
                            int idx, struct kg_err *err)
{
	struct exp_item *nv = l->v;
	struct eng_expiry ex;

	if (l->n == l->cap) {
		/* doubling: a file of 100 000 certificates is not 100 000
		 * reallocations */
		size_t cap = l->cap ? l->cap * 2 : 64;

		nv = realloc(l->v, cap * sizeof(*nv));
		if (nv == NULL)
			return kg_err_set(err, KG_E_RUNTIME, "out of memory");
		l->v = nv;
		l->cap = cap;
	}
	nv[l->n].source = strdup(src);
	if (nv[l->n].source == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	nv[l->n].x = x;
	X509_up_ref(x);
	nv[l->n].index = idx;
	eng_expiry_of(x, 0, 0, &ex);
	nv[l->n].not_after = ex.not_after;
	l->n++;
	return KG_OK;
}

static enum kg_code exp_file(struct exp_list *l, const char *path, int quiet,
                             struct kg_err *err)
{
	STACK_OF(X509) *sk = NULL;
	enum kg_code rc = cli_read_certs(NULL, path, "a certificate file",
	                                 KG_CAP_TRUSTSTORE, &sk, err);
	int i;

	if (rc != KG_OK)
		return quiet ? KG_OK : rc; /* in a directory: not a cert */
	for (i = 0; rc == KG_OK && i < sk_X509_num(sk); i++)
		rc = exp_add(l, sk_X509_value(sk, i), path, i, err);
	sk_X509_pop_free(sk, X509_free);
	return rc;
}

static enum kg_code exp_dir(struct exp_list *l, const char *dir, int depth,
                            struct kg_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	enum kg_code rc = KG_OK;

	if (d == NULL)
		return kg_err_set(err, KG_E_USAGE, "cannot read '%s': %s", dir,
		                  strerror(errno));
	while (rc == KG_OK && (e = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode) && depth < 8)
			rc = exp_dir(l, path, depth + 1, err);
		else if (S_ISREG(st.st_mode))
			rc = exp_file(l, path, 1, err);
	}
	closedir(d);
	return rc;
}

static enum kg_code exp_token(struct cli_ctx *c, struct exp_list *l,
                              const char *uri, struct kg_err *err)
{
	struct hsm_token *t = NULL;
	struct hsm_cert *cs = NULL;
	size_t n = 0, i;
	enum kg_code rc;

	rc = hsm_token_open(uri, &c->hconf, HSM_NO_LOGIN, &t, err);
	if (rc == KG_OK)
		rc = hsm_cert_list(t, uri, &cs, &n, err);
	for (i = 0; rc == KG_OK && i < n; i++) {
		STACK_OF(X509) *one = NULL;

		/* a token object that does not decode is not a certificate
		 * to report on */
		if (cs[i].der == NULL ||
		    eng_certs_parse(cs[i].der, cs[i].der_len, cs[i].uri, &one,
		                    NULL, err) != KG_OK ||
		    sk_X509_num(one) != 1) {
			sk_X509_pop_free(one, X509_free);
			continue;
		}
		rc = exp_add(l, sk_X509_value(one, 0), cs[i].uri, 0, err);
		sk_X509_pop_free(one, X509_free);
	}
	hsm_cert_free_array(cs, n);
	hsm_token_close(t);
	return rc;
}

static int exp_cmp(const void *a, const void *b)
{
	const struct exp_item *x = a, *y = b;

	return x->not_after < y->not_after ? -1 : x->not_after > y->not_after;
}

enum kg_code cli_cert_expiry(struct cli_ctx *c, const struct cli_cmd *cmd,
                             struct cli_args *a)
{
	const char *within = cli_opt(cmd, a, "within");
	struct exp_list l = {0};
	struct kg_err err;
	enum kg_code rc = KG_OK;
	long long window;
	json_t *arr = json_array();
	size_t i, expiring = 0;
	int f;

	rc = eng_window_parse(within, &window, &err);
	if (rc != KG_OK)
		kg_err_prefix(&err, "bad --within");
	for (f = 0; rc == KG_OK && f < a->npos; f++) {
		struct stat st;

		if (hsm_is_uri(a->pos[f]))
			rc = exp_token(c, &l, a->pos[f], &err);
		else if (stat(a->pos[f], &st) == 0 && S_ISDIR(st.st_mode))
			rc = exp_dir(&l, a->pos[f], 0, &err);
		else
			rc = exp_file(&l, a->pos[f], 0, &err);
	}
	if (rc != KG_OK)
		goto out;
	if (l.n > 1) /* l.v is NULL when nothing was found */
		qsort(l.v, l.n, sizeof(*l.v), exp_cmp);
	for (i = 0; i < l.n; i++) {
		struct exp_item *e = &l.v[i];
		struct eng_expiry ex;
		char when[KG_TIME_LEN],
		        *subj = eng_name_str(X509_get_subject_name(e->x));
		json_t *o = json_object();

		eng_expiry_of(e->x, c->now, window, &ex);

		expiring += ex.within;
		kg_time_str(ex.not_after, when);
		json_object_set_new(o, "subject", kg_json_str(subj));
		json_object_set_new(o, "not_after", json_string(when));
		json_object_set_new(o, "days_left", json_integer(ex.days));
		json_object_set_new(o, "expired", json_boolean(ex.expired));
		json_object_set_new(o, "within_window",
		                    json_boolean(ex.within));
		json_object_set_new(o, "source", kg_json_str(e->source));
		json_object_set_new(o, "index", json_integer(e->index));
		json_array_append_new(arr, o);
		if (!c->json)
			printf("%6ld days  %s  %-9s %s  (%s [%d])\n", ex.days,
			       when,
			       ex.expired  ? "EXPIRED"
			       : ex.within ? "expiring"
			                   : "",
			       subj ? subj : "", e->source, e->index);
		OPENSSL_free(subj);
	}
	if (c->json) {
		json_t *j = json_object();

		json_object_set_new(j, "verdict",
		                    json_string(expiring ? "fail" : "pass"));
		json_object_set_new(j, "within_seconds", json_integer(window));
		json_object_set_new(j, "expiring",
		                    json_integer((long)expiring));
		json_object_set_new(j, "certificates", arr);
		arr = NULL;
		cli_emit(c, j);
	} else if (l.n == 0) {
		printf("no certificates found\n");
	}
	if (expiring)
		fprintf(stderr,
		        "keygate: cert expiry: %zu certificate%s expire%s "
		        "within the window\n",
		        expiring, expiring == 1 ? "" : "s",
		        expiring == 1 ? "s" : "");
	rc = expiring ? KG_REFUSED : KG_OK;
out:
	json_decref(arr);
	for (i = 0; i < l.n; i++) {
		X509_free(l.v[i].x);
		free(l.v[i].source);
	}
	free(l.v);
	return rc == KG_OK || rc == KG_REFUSED ? rc : cli_fail(c, &err);
}
