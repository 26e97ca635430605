/* The ACM import gate and the export verdict. */
#include "engine/eng_gate.h"
#include "common/kg_time.h"

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

#include "common/kg_file.h"
#include "common/kg_pub.h"
#include "engine/eng.h"
#include "engine/eng_pem.h"

#define ACM_CERT_MAX  32768
#define ACM_KEY_MAX   5120
#define ACM_CHAIN_MAX 2097152

enum kg_code eng_target_parse(const char *s, enum eng_target *out,
                              struct kg_err *err)
{
	if (s == NULL || strcmp(s, "acm-integrated") == 0)
		*out = ENG_TARGET_ACM_INTEGRATED;
	else if (strcmp(s, "acm") == 0)
		*out = ENG_TARGET_ACM;
	else
		return kg_err_set(err, KG_E_USAGE,
		                  "unknown target '%s': use acm-integrated "
		                  "(RSA 1024/2048) or acm",
		                  s);
	return KG_OK;
}

const char *eng_target_name(enum eng_target t)
{
	return t == ENG_TARGET_ACM ? "acm" : "acm-integrated";
}

const char *eng_key_acm_alg(const EVP_PKEY *k)
{
	static const char *const nist[] = {"P-256", "P-384", "P-521"};
	char group[64];
	size_t glen = 0, i;
	const char *name;
	int nid;

	if (EVP_PKEY_is_a(k, "RSA") || EVP_PKEY_is_a(k, "KG-RSA"))
		return "RSA";
	if (!(EVP_PKEY_is_a(k, "EC") || EVP_PKEY_is_a(k, "KG-EC")) ||
	    !EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME,
	                                    group, sizeof(group), &glen)) {
		ERR_clear_error();
		return NULL;
	}
	nid = OBJ_sn2nid(group);
	name = nid != NID_undef ? EC_curve_nid2nist(nid) : NULL;
	for (i = 0; name != NULL && i < sizeof(nist) / sizeof(nist[0]); i++)
		if (strcmp(name, nist[i]) == 0)
			return nist[i];
	return NULL;
}

int eng_key_algorithm_ok(enum eng_target t, const char *alg, int bits)
{
	if (alg == NULL)
		return 0;
	if (strcmp(alg, "RSA") == 0)
		return bits == 1024 || bits == 2048 ||
		       (t == ENG_TARGET_ACM && (bits == 3072 || bits == 4096));
	return t == ENG_TARGET_ACM &&
	       (strcmp(alg, "P-256") == 0 || strcmp(alg, "P-384") == 0 ||
	        strcmp(alg, "P-521") == 0);
}

const char eng_fallback_hint[] =
        "keys that must stay on the HSM never leave it; for an importable "
        "key use the software fallback: keygate bundle fallback --subject "
        "DN --out DIR";

struct eng_export_verdict eng_export_verdict(enum eng_target t,
                                             const char *alg, int bits,
                                             int sensitive, int extractable)
{
	struct eng_export_verdict v = {NULL, NULL, NULL};

	if (sensitive != 0 || extractable != 1) {
		v.code = "key-not-exportable";
		v.state = sensitive != 0 && extractable != 1
		                  ? "sensitive and not extractable"
		          : sensitive != 0 ? "sensitive"
		                           : "not extractable";
		v.reason = sensitive != 0 && extractable != 1
		                   ? "the key is sensitive and not extractable"
		           : sensitive != 0 ? "the key is sensitive"
		                            : "the key is not extractable";
	} else if (!eng_key_algorithm_ok(t, alg, bits)) {
		v.code = "key-algorithm";
		v.reason = t == ENG_TARGET_ACM
		                   ? "ACM takes RSA 1024-4096 and EC "
		                     "P-256/384/521 only"
		                   : "services integrated with ACM take RSA "
		                     "1024 and 2048 only";
	}
	return v;
}

int eng_export_check(struct eng_findings *f, enum eng_target t,
                     const char *alg, int bits, int sensitive, int extractable,
                     const char *input)
{
	struct eng_export_verdict v =
	        eng_export_verdict(t, alg, bits, sensitive, extractable);

	if (v.code == NULL || strcmp(v.code, "key-not-exportable") != 0)
		return 0;
	eng_finding_add(f, v.code, input, -1, NULL, eng_fallback_hint,
	                "the token key is %s; it cannot leave the token",
	                v.state);
	return 1;
}

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
static int self_issued(X509 *x)
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
	while (!self_issued(cur)) {
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
			linked = self_issued(c) && X509_check_ca(c) > 0;
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

static void size_rule(const struct eng_input *in, size_t max, const char *what,
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

enum kg_code eng_input_read(const char *path, enum eng_input_kind kind,
                            struct eng_input *to, unsigned char **buf,
                            struct kg_err *err)
{
	size_t max = kind == ENG_IN_KEY     ? ACM_KEY_MAX
	             : kind == ENG_IN_CHAIN ? ACM_CHAIN_MAX
	                                    : ACM_CERT_MAX;
	size_t len = 0, more = 0;
	enum kg_code rc;

	memset(to, 0, sizeof(*to));
	to->name = path;
	*buf = NULL;
	if (path == NULL)
		return KG_OK;
	rc = kg_file_read_head(path, max * ENG_ACM_READ_FACTOR, buf, &len,
	                       &more, err);
	if (rc != KG_OK)
		return rc;
	to->buf = *buf;
	to->len = len;
	to->size = more;
	return KG_OK;
}

enum kg_code eng_acm_check(const struct eng_acm_req *r, struct eng_findings *f,
                           struct kg_err *err)
{
	struct eng_pem_scan sc = {0}, sk = {0}, sch = {0}, so = {0};
	STACK_OF(X509) *certs = NULL, *chain = NULL, *olds = NULL;
	X509 *leaf = NULL;
	EVP_PKEY *key = NULL;
	enum kg_code rc = KG_OK;
	char subj[512];

	if (r->cert.buf == NULL)
		return kg_err_set(err, KG_E_USAGE, "no certificate given");
	if (!eng_pem_scan(r->cert.buf, r->cert.len, &sc) ||
	    (r->key.buf && !eng_pem_scan(r->key.buf, r->key.len, &sk)) ||
	    (r->chain.buf &&
	     !eng_pem_scan(r->chain.buf, r->chain.len, &sch)) ||
	    (r->old.buf && !eng_pem_scan(r->old.buf, r->old.len, &so))) {
		rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
		goto out;
	}
	/* the certificate */
	size_rule(&r->cert, ACM_CERT_MAX, "certificate", f);
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
		size_rule(&r->key, ACM_KEY_MAX, "private key", f);
		if (lexical(&r->key, &sk, 0, f))
			key = key_input(&r->key, &sk, f);
	}
	if (key != NULL || r->key_pub != NULL)
		key_rules(r, key ? key : r->key_pub, leaf, f);
	/* the chain */
	if (r->chain.buf != NULL) {
		size_rule(&r->chain, ACM_CHAIN_MAX, "chain", f);
		if (lexical(&r->chain, &sch, 1, f))
			chain = certs_of(&r->chain, &sch, f);
	}
	if (leaf != NULL) {
		eng_subject_str(leaf, subj, sizeof(subj));
		if (self_issued(leaf)) {
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
		size_rule(&r->old, ACM_CERT_MAX, "certificate it replaces", f);
	if (r->old.buf != NULL && leaf != NULL) {
		olds = lexical(&r->old, &so, 0, f) ? certs_of(&r->old, &so, f)
		                                   : NULL;
		if (olds != NULL && sk_X509_num(olds) > 0)
			reimport_rules(r, leaf, sk_X509_value(olds, 0), f);
	}
out:
	ERR_clear_error();
	sk_X509_pop_free(certs, X509_free);
	sk_X509_pop_free(chain, X509_free);
	sk_X509_pop_free(olds, X509_free);
	EVP_PKEY_free(key);
	eng_pem_scan_free(&sc);
	eng_pem_scan_free(&sk);
	eng_pem_scan_free(&sch);
	eng_pem_scan_free(&so);
	return rc;
}

/* ---- assemble -------------------------------------------------------- */

enum kg_code eng_pem_private(EVP_PKEY *k, char **out, size_t *len,
                             struct kg_err *err)
{
	BIO *b = BIO_new(BIO_s_secmem());

	*out = NULL;
	if (b == NULL ||
	    !PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)) {
		BIO_free(b);
		return eng_ossl_err(err, KG_E_RUNTIME,
		                    "cannot write the private key");
	}
	*out = eng_bio_str(b, len);
	BIO_free(b); /* a secure-memory BIO: cleansed on free */
	return *out ? KG_OK : kg_err_set(err, KG_E_RUNTIME, "out of memory");
}

/* Adds the certificates of a lenient scan to pool, skipping duplicates. */
static void pool_add(STACK_OF(X509) * pool, const struct eng_pem_scan *s)
{
	size_t i;
	int j, dup;

	for (i = 0; i < s->n; i++) {
		const struct eng_pem_block *b = &s->blocks[i];
		const unsigned char *p = b->der;
		X509 *x;

		if (b->bad || strcmp(b->label, "CERTIFICATE") != 0)
			continue;
		x = d2i_X509(NULL, &p, (long)b->der_len);
		if (x == NULL)
			continue;
		for (dup = 0, j = 0; j < sk_X509_num(pool) && !dup; j++)
			dup = X509_cmp(sk_X509_value(pool, j), x) == 0;
		if (dup || !sk_X509_push(pool, x))
			X509_free(x);
	}
	ERR_clear_error();
}

static int append_pem(BIO *b, X509 *x)
{
	return PEM_write_bio_X509(b, x);
}

enum kg_code eng_acm_assemble(const struct eng_acm_req *r, char **cert_out,
                              char **key_out, char **chain_out,
                              struct eng_findings *f, struct kg_err *err)
{
	struct eng_pem_scan sc = {0}, sk = {0}, sch = {0};
	STACK_OF(X509) *pool = sk_X509_new_null();
	const struct eng_pem_block *kb = NULL;
	EVP_PKEY *key = NULL;
	X509 *leaf = NULL, *cur;
	BIO *bc = BIO_new(BIO_s_mem()), *bch = BIO_new(BIO_s_mem());
	struct eng_acm_req check = *r;
	char *cert = NULL, *chain = NULL, *kpem = NULL;
	size_t clen = 0, chlen = 0, klen = 0, i;
	enum kg_code rc = KG_OK;
	int j, *used = NULL;

	*cert_out = *key_out = *chain_out = NULL;
	/* what was not read whole is not assembled: only its size-limit */
	check.cert.size = check.key.size = check.chain.size = 0;
	if (r->cert.size || r->key.size || r->chain.size) {
		if (r->cert.size)
			size_rule(&r->cert, ACM_CERT_MAX, "certificate", f);
		if (r->key.size)
			size_rule(&r->key, ACM_KEY_MAX, "private key", f);
		if (r->chain.size)
			size_rule(&r->chain, ACM_CHAIN_MAX, "chain", f);
		goto out;
	}
	if (pool == NULL || bc == NULL || bch == NULL ||
	    !eng_pem_scan(r->cert.buf, r->cert.len, &sc) ||
	    !eng_pem_scan(r->key.buf, r->key.len, &sk) ||
	    (r->chain.buf &&
	     !eng_pem_scan(r->chain.buf, r->chain.len, &sch))) {
		rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
		goto out;
	}
	pool_add(pool, &sc);
	pool_add(pool, &sch);
	for (i = 0; i < sk.n && kb == NULL; i++)
		if (strstr(sk.blocks[i].label, "PRIVATE KEY") != NULL)
			kb = &sk.blocks[i];
	if (kb == NULL || kb->bad) {
		eng_finding_add(f, "pem-invalid", r->key.name, -1, NULL, NULL,
		                "%s holds no readable private key",
		                r->key.name);
		goto out;
	}
	if (kb->encrypted) {
		char hint[600];

		snprintf(hint, sizeof(hint),
		         "keygate key decrypt %s --out key-plain.pem",
		         r->key.name);
		eng_finding_add(f, "key-encrypted", r->key.name, -1, NULL,
		                hint,
		                "the private key is encrypted; ACM needs it "
		                "unencrypted");
		goto out;
	}
	if (eng_key_load(kb->der, kb->der_len, r->key.name, NULL, &key, err) !=
	    KG_OK) {
		eng_finding_add(f, "pem-invalid", r->key.name, -1, NULL, NULL,
		                "%s: the private key does not parse",
		                r->key.name);
		goto out;
	}
	if (sk_X509_num(pool) == 0) {
		eng_finding_add(f, "pem-invalid", r->cert.name, -1, NULL, NULL,
		                "no certificate found in %s%s%s", r->cert.name,
		                r->chain.buf ? " or " : "",
		                r->chain.buf ? r->chain.name : "");
		goto out;
	}
	/* the leaf is the key's certificate; else the first given */
	for (j = 0; j < sk_X509_num(pool) && leaf == NULL; j++)
		if (EVP_PKEY_eq(X509_get0_pubkey(sk_X509_value(pool, j)),
		                key) == 1)
			leaf = sk_X509_value(pool, j);
	if (leaf == NULL)
		leaf = sk_X509_value(pool, 0);
	ERR_clear_error();
	used = OPENSSL_zalloc((size_t)sk_X509_num(pool) * sizeof(int));
	if (used == NULL || !append_pem(bc, leaf)) {
		rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
		goto out;
	}
	for (j = 0; j < sk_X509_num(pool); j++)
		used[j] = sk_X509_value(pool, j) == leaf;
	/* the path leaf -> root; what is not on it is dropped */
	for (cur = leaf; !self_issued(cur);) {
		int next = -1;

		for (j = 0; j < sk_X509_num(pool) && next < 0; j++)
			if (!used[j] &&
			    X509_check_issued(sk_X509_value(pool, j), cur) ==
			            X509_V_OK)
				next = j;
		if (next < 0)
			break;
		used[next] = 1;
		cur = sk_X509_value(pool, next);
		if (!append_pem(bch, cur)) {
			rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
			goto out;
		}
	}
	ERR_clear_error();
	cert = eng_bio_str(bc, &clen);
	chain = eng_bio_str(bch, &chlen);
	rc = eng_pem_private(key, &kpem, &klen, err);
	if (rc != KG_OK || cert == NULL || chain == NULL) {
		if (rc == KG_OK)
			rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
		goto out;
	}
	/* the result must pass the gate itself */
	check.cert.buf = (unsigned char *)cert;
	check.cert.len = clen;
	check.key.buf = (unsigned char *)kpem;
	check.key.len = klen;
	check.chain.buf = chlen ? (unsigned char *)chain : NULL;
	check.chain.len = chlen;
	rc = eng_acm_check(&check, f, err);
	if (rc != KG_OK)
		goto out;
	*cert_out = cert;
	*key_out = kpem;
	*chain_out = chain;
	cert = chain = kpem = NULL;
out:
	OPENSSL_free(cert);
	OPENSSL_free(chain);
	if (kpem != NULL)
		OPENSSL_clear_free(kpem, klen);
	OPENSSL_free(used);
	EVP_PKEY_free(key);
	BIO_free(bc);
	BIO_free(bch);
	sk_X509_pop_free(pool, X509_free);
	eng_pem_scan_free(&sc);
	eng_pem_scan_free(&sk);
	eng_pem_scan_free(&sch);
	return rc;
}
