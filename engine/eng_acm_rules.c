/* The ACM import gate: every rule on a certificate, its key and chain. */
#include "engine/eng_gate.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/kg_pub.h"
#include "common/kg_time.h"
#include "engine/eng.h"
#include "engine/eng_acm.h"
#include "engine/eng_mtls_domain.h"
#include "engine/eng_pem.h"
#include "engine/eng_trust.h"

/* ---- inputs ---------------------------------------------------------- */

/*
 * Lexical checks common to every input; returns 0 when the input is not
 * PEM at all (then there is nothing more to check in it).
 */
static int lexical(const struct eng_input *in, const struct eng_pem_scan *s,
                   int is_chain, struct eng_findings *f)
{
	static const char fix[] = "keygate bundle assemble writes clean PEM";

	if (in->len == 0) {
		eng_finding_add(f, "pem-invalid", in->name, -1, NULL, NULL,
		                "%s is empty", in->name);
		return 0;
	}
	if (s->binary || s->n == 0) {
		eng_finding_add(
		        f, "pem-invalid", in->name, -1, NULL,
		        "ACM takes PEM only: convert DER with openssl x509 "
		        "-inform DER -in FILE -out FILE.pem",
		        "%s is not PEM (%s)", in->name,
		        s->binary
		                ? "binary data: DER or not a certificate file"
		                : "no -----BEGIN line");
		return 0;
	}
	if (s->trailing_ws_line)
		eng_finding_add(f, "pem-whitespace", in->name, -1, NULL, fix,
		                "%s line %d has trailing blanks (ACM "
		                "misreports this as "
		                "\"more than one certificate\")",
		                in->name, s->trailing_ws_line);
	if (s->outside_text_line)
		eng_finding_add(f, "pem-whitespace", in->name, -1, NULL, fix,
		                "%s line %d: text outside the PEM blocks",
		                in->name, s->outside_text_line);
	if (s->unterminated_line)
		eng_finding_add(f, "pem-invalid", in->name, -1, NULL, NULL,
		                "%s line %d: a PEM block with no END line",
		                in->name, s->unterminated_line);
	if (is_chain && s->blank_between_line)
		eng_finding_add(f, "chain-blank-lines", in->name, -1, NULL,
		                fix,
		                "%s line %d: blank line between PEM blocks",
		                in->name, s->blank_between_line);
	return 1;
}

/* Every CERTIFICATE block of s, in order; other blocks are findings. */
static STACK_OF(X509) * certs_of(const struct eng_input *in,
                                 const struct eng_pem_scan *s,
                                 struct eng_findings *f)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	size_t i;

	for (i = 0; sk != NULL && i < s->n; i++) {
		const struct eng_pem_block *b = &s->blocks[i];
		const unsigned char *p = b->der;
		X509 *x;

		if (strcmp(b->label, "CERTIFICATE") != 0) {
			eng_finding_add(
			        f, "pem-invalid", in->name, (int)i, NULL, NULL,
			        "%s block %zu is '%s', not a CERTIFICATE",
			        in->name, i, b->label);
			continue;
		}
		x = b->bad ? NULL : d2i_X509(NULL, &p, (long)b->der_len);
		if (x == NULL || p != b->der + b->der_len) {
			X509_free(x);
			eng_finding_add(
			        f, "pem-invalid", in->name, (int)i, NULL, NULL,
			        "%s block %zu (line %d) is not a valid "
			        "certificate",
			        in->name, i, b->begin_line);
			ERR_clear_error();
			continue;
		}
		sk_X509_push(sk, x);
	}
	return sk;
}

/*
 * Self-signed as ACM means it: its own names and key, whatever its key
 * usage says. X509_check_issued(x, x) would also demand keyCertSign, and
 * so call a self-signed server or client certificate chain-missing.
 */
int eng_self_issued(X509 *x)
{
	int r = X509_self_signed(x, 1);

	ERR_clear_error();
	return r == 1;
}

/* ---- certificate rules ----------------------------------------------- */

static int has_domain(X509 *x)
{
	GENERAL_NAMES *g =
	        X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	int i, found = 0;
	GENERAL_NAMES *cn = NULL;

	for (i = 0; g != NULL && i < sk_GENERAL_NAME_num(g); i++) {
		int t = sk_GENERAL_NAME_value(g, i)->type;

		if (t == GEN_DNS || t == GEN_IPADD)
			found = 1;
	}
	GENERAL_NAMES_free(g);
	if (!found &&
	    eng_san_from_cn(X509_get_subject_name(x), &cn, NULL) == KG_OK &&
	    cn != NULL)
		found = 1;
	GENERAL_NAMES_free(cn);
	return found;
}

static void cert_rules(const struct eng_acm_req *r, X509 *x,
                       struct eng_findings *f)
{
	const char *in = r->cert.name;
	char subj[512], when[64];
	time_t at = r->at;
	uint32_t xku;

	eng_subject_str(x, subj, sizeof(subj));
	if (X509_get_version(x) != X509_VERSION_3)
		eng_finding_add(
		        f, "cert-not-v3", in, 0, subj, "reissue as X.509 v3",
		        "the certificate is X.509 v%ld; ACM takes v3 only",
		        X509_get_version(x) + 1);
	kg_time_str(at, when);
	if (X509_cmp_time(X509_get0_notAfter(x), &at) < 0)
		eng_finding_add(f, "cert-expired", in, 0, subj,
		                "renew the certificate",
		                "the certificate expired before %s", when);
	if (X509_cmp_time(X509_get0_notBefore(x), &at) > 0)
		eng_finding_add(f, "cert-not-yet-valid", in, 0, subj,
		                "import it once it is valid, or check the "
		                "issuer's clock",
		                "the certificate is not valid yet at %s",
		                when);
	xku = X509_get_extended_key_usage(x);
	if ((X509_get_extension_flags(x) & EXFLAG_XKUSAGE) &&
	    !(xku & (XKU_SSL_SERVER | XKU_SSL_CLIENT | XKU_ANYEKU)))
		eng_finding_add(
		        f, "cert-purpose", in, 0, subj,
		        "reissue with extendedKeyUsage serverAuth (and "
		        "clientAuth if needed)",
		        "its extended key usage allows no TLS use");
	if (!has_domain(x))
		eng_finding_add(
		        f, "cert-no-domain", in, 0, subj,
		        "reissue with the domain in subjectAltName (DNS:...)",
		        "no DNS name or IP address in subjectAltName and no "
		        "CN "
		        "that is a domain name");
}

/* ---- key rules ------------------------------------------------------- */

static EVP_PKEY *key_input(const struct eng_input *in,
                           const struct eng_pem_scan *s,
                           struct eng_findings *f)
{
	const struct eng_pem_block *kb = NULL;
	EVP_PKEY *k = NULL;
	struct kg_err e;
	size_t i, nkeys = 0;

	for (i = 0; i < s->n; i++) {
		if (strstr(s->blocks[i].label, "PRIVATE KEY") != NULL) {
			if (nkeys++ == 0)
				kb = &s->blocks[i];
		} else {
			eng_finding_add(
			        f, "pem-invalid", in->name, (int)i, NULL, NULL,
			        "%s block %zu is '%s', not a private key",
			        in->name, i, s->blocks[i].label);
		}
	}
	if (kb == NULL) {
		eng_finding_add(f, "pem-invalid", in->name, -1, NULL, NULL,
		                "%s holds no private key", in->name);
		return NULL;
	}
	if (nkeys > 1)
		eng_finding_add(f, "pem-invalid", in->name, -1, NULL, NULL,
		                "%s holds %zu private keys; give exactly one",
		                in->name, nkeys);
	if (kb->encrypted) {
		char hint[600];

		snprintf(hint, sizeof(hint),
		         "keygate key decrypt %s --out key-plain.pem",
		         in->name);
		eng_finding_add(f, "key-encrypted", in->name, -1, NULL, hint,
		                "the private key is encrypted; ACM needs it "
		                "unencrypted");
		return NULL;
	}
	if (kb->bad || eng_key_load(kb->der, kb->der_len, in->name, NULL, &k,
	                            &e) != KG_OK) {
		eng_finding_add(
		        f, "pem-invalid", in->name, -1, NULL, NULL,
		        "%s: the private key block (line %d) does not parse",
		        in->name, kb->begin_line);
		return NULL;
	}
	return k;
}

static void key_rules(const struct eng_acm_req *r, EVP_PKEY *k, X509 *leaf,
                      struct eng_findings *f)
{
	const char *in = r->key.buf ? r->key.name : "token key";
	char desc[64], subj[512] = "";

	eng_key_describe(k, desc, sizeof(desc));
	if (leaf != NULL)
		eng_subject_str(leaf, subj, sizeof(subj));
	if (!eng_key_algorithm_ok(r->target, eng_key_acm_alg(k),
	                          EVP_PKEY_get_bits(k)))
		eng_finding_add(
		        f, "key-algorithm", in, -1, leaf ? subj : NULL,
		        r->target == ENG_TARGET_ACM
		                ? "use RSA 1024-4096 or EC P-256/384/521"
		                : "integrated services (CloudFront, ELB, API "
		                  "Gateway) take RSA 1024 or 2048: keygate "
		                  "bundle "
		                  "fallback --type rsa:2048; or --for acm if "
		                  "the "
		                  "certificate stays in ACM",
		        "%s is not accepted for %s", desc,
		        eng_target_name(r->target));
	if (leaf != NULL) {
		if (EVP_PKEY_eq(X509_get0_pubkey(leaf), k) != 1)
			eng_finding_add(
			        f, "key-mismatch", in, -1, subj,
			        "give the key the certificate was issued for",
			        "the private key is not the certificate's "
			        "key");
	}
	ERR_clear_error();
}

/* ---- chain rules ----------------------------------------------------- */

static void chain_rules(const struct eng_acm_req *r, X509 *leaf,
                        STACK_OF(X509) * chain, struct eng_findings *f)
{
	const char *in = r->chain.name;
	int n = sk_X509_num(chain), i, j, npath = 0, gap = 0;
	int *role, *path;
	X509 *cur = leaf;
	char subj[512], isub[512];
	char *iname;

	role = OPENSSL_zalloc((size_t)(n + 1) *
	                      sizeof(int)); /* 1 path 2 leaf */
	path = OPENSSL_zalloc((size_t)(n + 1) * sizeof(int));
	if (role == NULL || path == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if (X509_cmp(sk_X509_value(chain, i), leaf) == 0) {
			role[i] = 2;
			eng_subject_str(leaf, subj, sizeof(subj));
			eng_finding_add(f, "chain-contains-leaf", in, i, subj,
			                "the chain holds the issuers only",
			                "chain certificate %d is the "
			                "certificate itself",
			                i);
		}
	}
	/* the path from the leaf up, with OpenSSL's issuer check */
	while (!eng_self_issued(cur)) {
		int next = -1;

		for (i = 0; i < n && next < 0; i++)
			if (role[i] == 0 &&
			    X509_check_issued(sk_X509_value(chain, i), cur) ==
			            X509_V_OK)
				next = i;
		if (next < 0)
			break;
		role[next] = 1;
		path[npath++] = next;
		eng_subject_str(cur, subj, sizeof(subj));
		if (X509_verify(cur, X509_get0_pubkey(sk_X509_value(
		                             chain, next))) != 1) {
			eng_subject_str(sk_X509_value(chain, next), isub,
			                sizeof(isub));
			eng_finding_add(
			        f, "chain-signature", in, next, subj,
			        "the chain certificate with this name is not "
			        "the "
			        "one that signed it: get the issuer's current "
			        "certificate",
			        "the signature of '%s' does not verify with "
			        "the "
			        "key of chain certificate %d '%s'",
			        subj, next, isub);
		}
		cur = sk_X509_value(chain, next);
	}
	ERR_clear_error();
	if (npath == 0) {
		gap = 1;
		iname = eng_name_str(X509_get_issuer_name(leaf));
		eng_subject_str(leaf, subj, sizeof(subj));
		eng_finding_add(
		        f, "chain-incomplete", in, -1, subj,
		        "add the issuing CA certificate to the chain",
		        "the certificate's issuer '%s' is not in the chain",
		        iname ? iname : "");
		OPENSSL_free(iname);
	}
	for (i = 0; i < n; i++) {
		X509 *c = sk_X509_value(chain, i);
		int linked = 0;

		if (role[i] != 0)
			continue;
		if (gap) {
			/*
			 * a broken path is incomplete, not unrelated: keep
			 * certificates linked by name to another, and a root
			 * that may sit past the missing link
			 */
			linked = eng_self_issued(c) && X509_check_ca(c) > 0;
			for (j = 0; j < n && !linked; j++)
				linked = j != i &&
				         (X509_NAME_cmp(
				                  X509_get_issuer_name(c),
				                  X509_get_subject_name(
				                          sk_X509_value(chain,
				                                        j))) ==
				                  0 ||
				          X509_NAME_cmp(
				                  X509_get_subject_name(c),
				                  X509_get_issuer_name(
				                          sk_X509_value(chain,
				                                        j))) ==
				                  0);
			if (linked)
				continue;
		}
		eng_subject_str(c, subj, sizeof(subj));
		eng_finding_add(
		        f, "chain-unrelated", in, i, subj,
		        "remove it (keygate bundle assemble drops it)",
		        "chain certificate %d is not on the path from the "
		        "certificate up",
		        i);
	}
	/* each certificate issued by the next: path indices ascending */
	for (i = 1; i < npath; i++) {
		if (path[i] < path[i - 1]) {
			eng_subject_str(sk_X509_value(chain, path[i]), subj,
			                sizeof(subj));
			eng_finding_add(
			        f, "chain-order", in, path[i], subj,
			        "order it intermediates first, root last "
			        "(keygate bundle assemble does this)",
			        "chain certificate %d issued certificate %d, "
			        "but "
			        "comes before it",
			        path[i], path[i - 1]);
			break;
		}
	}
out:
	OPENSSL_free(role);
	OPENSSL_free(path);
}

/* ---- reimport rules -------------------------------------------------- */

/* The lower-cased DNS and IP names of x (and a domain CN) into names. */
static int names_of(X509 *x, char names[][256], int cap)
{
	GENERAL_NAMES *g = X509_get_ext_d2i(x, NID_subject_alt_name, NULL,
	                                    NULL),
	              *cn = NULL;
	int i, n = 0;

	if (g == NULL &&
	    eng_san_from_cn(X509_get_subject_name(x), &cn, NULL) == KG_OK)
		g = cn;
	for (i = 0; g != NULL && i < sk_GENERAL_NAME_num(g) && n < cap; i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(g, i);
		BIO *b;
		char *p;
		long len;

		if (gn->type != GEN_DNS && gn->type != GEN_IPADD)
			continue;
		b = BIO_new(BIO_s_mem());
		if (b == NULL)
			break;
		GENERAL_NAME_print(b, gn);
		len = BIO_get_mem_data(b, &p);
		snprintf(names[n], 256, "%.*s", (int)len, p);
		for (p = names[n]; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		n++;
		BIO_free(b);
	}
	GENERAL_NAMES_free(g);
	return n;
}

static void reimport_rules(const struct eng_acm_req *r, X509 *leaf, X509 *old,
                           struct eng_findings *f)
{
	static char a[64][256], b[64][256];
	EVP_PKEY *pn = X509_get0_pubkey(leaf), *po = X509_get0_pubkey(old);
	char dn[64], dold[64], subj[512];
	uint32_t kun, kuo, xn, xo;
	int na, nb, i, j, common = 0;

	eng_subject_str(leaf, subj, sizeof(subj));
	if (pn != NULL && po != NULL) {
		eng_key_describe(pn, dn, sizeof(dn));
		eng_key_describe(po, dold, sizeof(dold));
		if (strcmp(dn, dold) != 0)
			eng_finding_add(f, "reimport-key-algorithm",
			                r->cert.name, 0, subj,
			                "a reimport keeps the key type and "
			                "size: reissue "
			                "with a "
			                "new key of the old type",
			                "the new certificate's key is %s, the "
			                "old one's "
			                "%s",
			                dn, dold);
	}
	na = names_of(old, a, 64);
	nb = names_of(leaf, b, 64);
	for (i = 0; i < na && !common; i++)
		for (j = 0; j < nb && !common; j++)
			common = strcmp(a[i], b[j]) == 0;
	if (na > 0 && !common)
		eng_finding_add(
		        f, "reimport-domains", r->cert.name, 0, subj,
		        "keep at least one of the old certificate's names",
		        "the new certificate drops every domain name of the "
		        "old "
		        "one (%s ...)",
		        a[0]);
	kuo = X509_get_key_usage(old);
	kun = X509_get_key_usage(leaf);
	if ((X509_get_extension_flags(old) & EXFLAG_KUSAGE) &&
	    (kuo & ~kun) != 0)
		eng_finding_add(
		        f, "reimport-key-usage", r->cert.name, 0, subj,
		        "reissue with every key usage the old certificate had",
		        "the new certificate removes key usages the old one "
		        "had "
		        "(bits 0x%x)",
		        kuo & ~kun);
	xo = X509_get_extended_key_usage(old);
	xn = X509_get_extended_key_usage(leaf);
	if ((X509_get_extension_flags(old) & EXFLAG_XKUSAGE) &&
	    (xo & ~xn) != 0)
		eng_finding_add(
		        f, "reimport-key-usage", r->cert.name, 0, subj,
		        "reissue with every extended key usage the old "
		        "certificate had",
		        "the new certificate removes extended key usages the "
		        "old "
		        "one had");
}

/* ---- the gate -------------------------------------------------------- */

void eng_size_rule(const struct eng_input *in, size_t max, const char *what,
                   struct eng_findings *f)
{
	if (in->size == SIZE_MAX)
		eng_finding_add(f, "size-limit", in->name, -1, NULL, NULL,
		                "the %s is more than %zu bytes (keygate read "
		                "no further "
		                "and checked those); ACM takes at most %zu",
		                what, in->len, max);
	else if (in->size != 0)
		eng_finding_add(
		        f, "size-limit", in->name, -1, NULL, NULL,
		        "the %s is %zu bytes; ACM takes at most %zu (keygate "
		        "read and checked the first %zu)",
		        what, in->size, max, in->len);
	else if (in->len > max)
		eng_finding_add(f, "size-limit", in->name, -1, NULL, NULL,
		                "the %s is %zu bytes; ACM takes at most %zu",
		                what, in->len, max);
}

size_t eng_acm_limit(enum eng_input_kind kind)
{
	return kind == ENG_IN_KEY     ? ENG_ACM_KEY_MAX
	       : kind == ENG_IN_CHAIN ? ENG_ACM_CHAIN_MAX
	                              : ENG_ACM_CERT_MAX;
}

enum kg_code eng_acm_check(const struct eng_acm_req *r, struct eng_findings *f,
                           struct kg_err *err)
{
	struct eng_pem_scan sc = {0}, sk = {0}, sch = {0}, so = {0};
	STACK_OF(X509) *certs = NULL, *chain = NULL, *olds = NULL,
	               *owns = NULL;
	X509 *leaf = NULL;
	EVP_PKEY *key = NULL;
	enum kg_code rc = KG_OK;
	char subj[512];

	if (r->cert.buf == NULL)
		return kg_err_set(err, KG_E_USAGE, "no certificate given");
	if (r->mtls_domain != NULL &&
	    eng_mtls_domain_parse(r->mtls_domain, err) != KG_OK)
		return KG_E_USAGE;
	if (!eng_pem_scan(r->cert.buf, r->cert.len, &sc) ||
	    (r->key.buf && !eng_pem_scan(r->key.buf, r->key.len, &sk)) ||
	    (r->chain.buf &&
	     !eng_pem_scan(r->chain.buf, r->chain.len, &sch)) ||
	    (r->old.buf && !eng_pem_scan(r->old.buf, r->old.len, &so))) {
		rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
		goto out;
	}
	/* the certificate */
	eng_size_rule(&r->cert, ENG_ACM_CERT_MAX, "certificate", f);
	if (lexical(&r->cert, &sc, 0, f)) {
		certs = certs_of(&r->cert, &sc, f);
		if (certs != NULL && sk_X509_num(certs) > 1)
			eng_finding_add(f, "cert-multiple", r->cert.name, 1,
			                NULL,
			                "put only the certificate here and "
			                "its issuers "
			                "in --chain (keygate bundle assemble "
			                "does this)",
			                "%s holds %d certificates; ACM takes "
			                "exactly one",
			                r->cert.name, sk_X509_num(certs));
		if (certs != NULL && sk_X509_num(certs) > 0)
			leaf = sk_X509_value(certs, 0);
		else if (sc.n > 0)
			eng_finding_add(f, "pem-invalid", r->cert.name, -1,
			                NULL, NULL, "%s holds no certificate",
			                r->cert.name);
	}
	if (leaf != NULL)
		cert_rules(r, leaf, f);
	/* the key */
	if (r->key.buf != NULL) {
		eng_size_rule(&r->key, ENG_ACM_KEY_MAX, "private key", f);
		if (lexical(&r->key, &sk, 0, f))
			key = key_input(&r->key, &sk, f);
	}
	if (key != NULL || r->key_pub != NULL)
		key_rules(r, key ? key : r->key_pub, leaf, f);
	/* the chain */
	if (r->chain.buf != NULL) {
		eng_size_rule(&r->chain, ENG_ACM_CHAIN_MAX, "chain", f);
		if (lexical(&r->chain, &sch, 1, f))
			chain = certs_of(&r->chain, &sch, f);
	}
	if (leaf != NULL) {
		eng_subject_str(leaf, subj, sizeof(subj));
		if (eng_self_issued(leaf)) {
			if (X509_verify(leaf, X509_get0_pubkey(leaf)) != 1)
				eng_finding_add(f, "chain-signature",
				                r->cert.name, 0, subj, NULL,
				                "the self-signed "
				                "certificate's signature "
				                "does not verify");
			if (chain != NULL && sk_X509_num(chain) > 0)
				chain_rules(r, leaf, chain, f);
		} else if (chain == NULL || sk_X509_num(chain) == 0) {
			if (r->chain.buf == NULL || sch.n == 0)
				eng_finding_add(
				        f, "chain-missing", r->cert.name, 0,
				        subj,
				        "give --chain with the issuing CA's "
				        "certificates, intermediates first",
				        "the certificate is not self-signed "
				        "and "
				        "no chain is given");
		} else {
			chain_rules(r, leaf, chain, f);
		}
		ERR_clear_error();
	}
	/* a reimport */
	if (r->old.buf != NULL && r->old.size != 0)
		eng_size_rule(&r->old, ENG_ACM_CERT_MAX,
		              "certificate it replaces", f);
	if (r->old.buf != NULL && leaf != NULL) {
		olds = lexical(&r->old, &so, 0, f) ? certs_of(&r->old, &so, f)
		                                   : NULL;
		if (olds != NULL && sk_X509_num(olds) > 0)
			reimport_rules(r, leaf, sk_X509_value(olds, 0), f);
	}
	/* an mTLS custom domain: API Gateway's rules (eng_mtls_domain.c) */
	if (r->mtls_domain != NULL && leaf != NULL) {
		struct eng_mtls_domain_req m = {0};

		/* already in ACM, not imported: PEM or DER, its layout free */
		if (r->ownership.buf != NULL) {
			size_t had = f->n;

			rc = eng_certs_parse(r->ownership.buf,
			                     r->ownership.len,
			                     r->ownership.name, &owns, f, err);
			if (rc != KG_OK)
				goto out;
			if (sk_X509_num(owns) < 1 && f->n == had)
				eng_finding_add(f, "pem-invalid",
				                r->ownership.name, -1, NULL,
				                NULL,
				                "%s holds no certificate",
				                r->ownership.name);
		}
		m.domain = r->mtls_domain;
		m.cert = leaf;
		m.cert_name = r->cert.name;
		m.old = olds != NULL && sk_X509_num(olds) > 0
		                ? sk_X509_value(olds, 0)
		                : NULL;
		m.ownership = owns != NULL && sk_X509_num(owns) > 0
		                      ? sk_X509_value(owns, 0)
		                      : NULL;
		m.ownership_name = r->ownership.name;
		m.ownership_given = r->ownership.buf != NULL;
		m.at = r->at;
		eng_mtls_domain_rules(&m, f);
	}
out:
	ERR_clear_error();
	sk_X509_pop_free(certs, X509_free);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(olds, X509_free);
	sk_X509_pop_free(owns, X509_free);
	EVP_PKEY_free(key);
	eng_pem_scan_free(&sc);
	eng_pem_scan_free(&sk);
	eng_pem_scan_free(&sch);
	eng_pem_scan_free(&so);
	return rc;
}
