/* Truststores, path validation and the mTLS decision. */
#include "engine/eng_trust.h"
#include "common/kg_time.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "engine/eng.h"
#include "engine/eng_pem.h"

#define MAX_PATH 4 /* API Gateway: at most four certificates on a path */

#define ERR_(code, in, idx, subj, hint, ...)                                  \
	eng_finding_add(f, code, ENG_SEV_ERROR, in, idx, subj, hint,          \
	                __VA_ARGS__)
#define WARN_(code, in, idx, subj, hint, ...)                                 \
	eng_finding_add(f, code, ENG_SEV_WARNING, in, idx, subj, hint,        \
	                __VA_ARGS__)

enum kg_code eng_certs_parse(const unsigned char *buf, size_t len,
                             const char *name, STACK_OF(X509) * *out,
                             struct eng_findings *f, struct kg_err *err)
{
	struct eng_pem_scan s;
	STACK_OF(X509) *sk = sk_X509_new_null();
	size_t i;

	*out = NULL;
	if (sk == NULL || !eng_pem_scan(buf, len, &s)) {
		sk_X509_free(sk);
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	}
	if (s.binary || s.n == 0) {
		/* one DER certificate, as openssl reads it */
		const unsigned char *p = buf;
		X509 *x = len ? d2i_X509(NULL, &p, (long)len) : NULL;

		if (x != NULL && p == buf + len) {
			sk_X509_push(sk, x);
		} else {
			X509_free(x);
			if (f == NULL) {
				eng_pem_scan_free(&s);
				sk_X509_free(sk);
				ERR_clear_error();
				return kg_err_set(err, KG_REFUSED,
				                  "'%s' holds no certificate "
				                  "(neither PEM nor DER)",
				                  name);
			}
			ERR_("pem-invalid", name, -1, NULL, NULL, "%s is %s",
			     name, len == 0 ? "empty" : "neither PEM nor DER");
		}
	}
	for (i = 0; i < s.n; i++) {
		const struct eng_pem_block *b = &s.blocks[i];
		const unsigned char *p = b->der;
		X509 *x = NULL;

		if (strcmp(b->label, "CERTIFICATE") == 0 ||
		    strcmp(b->label, "TRUSTED CERTIFICATE") == 0)
			x = b->bad ? NULL
			           : (strcmp(b->label, "CERTIFICATE") == 0
			                      ? d2i_X509(NULL, &p,
			                                 (long)b->der_len)
			                      : d2i_X509_AUX(
			                                NULL, &p,
			                                (long)b->der_len));
		if (x != NULL && p != b->der + b->der_len) {
			/* bytes after the certificate inside its block */
			X509_free(x);
			x = NULL;
		}
		if (x == NULL) {
			if (f == NULL) {
				/* b points into s: read it before s is freed
				 */
				int line = b->begin_line;

				eng_pem_scan_free(&s);
				sk_X509_pop_free(sk, X509_free);
				ERR_clear_error();
				return kg_err_set(
				        err, KG_REFUSED,
				        "'%s' block %zu (line %d) is "
				        "not a valid certificate",
				        name, i, line);
			}
			ERR_("pem-invalid", name, (int)i, NULL, NULL,
			     "%s block %zu (line %d) is not a valid "
			     "certificate",
			     name, i, b->begin_line);
			continue;
		}
		sk_X509_push(sk, x);
	}
	ERR_clear_error();
	eng_pem_scan_free(&s);
	*out = sk;
	return KG_OK;
}

/* ---- algorithm policy ------------------------------------------------ */

const char *eng_weak_signature(const X509 *x)
{
	int md = NID_undef, pk = NID_undef, bits = 0;
	uint32_t flags = 0;

	if (!X509_get_signature_info((X509 *)x, &md, &pk, &bits, &flags)) {
		ERR_clear_error();
		return "an unknown signature algorithm";
	}
	if (md == NID_md5 || md == NID_md4 || md == NID_md2 ||
	    md == NID_sha1 || md == NID_sha224 ||
	    (md != NID_undef && bits > 0 && bits < 128))
		return OBJ_nid2ln(X509_get_signature_nid(x));
	return NULL;
}

const char *eng_weak_key(const X509 *x)
{
	EVP_PKEY *k = X509_get0_pubkey(x);
	int bits;

	if (k == NULL)
		return "an unreadable key";
	bits = EVP_PKEY_get_bits(k);
	if (EVP_PKEY_is_a(k, "RSA") || EVP_PKEY_is_a(k, "RSA-PSS"))
		return bits < 2048 ? "an RSA key below 2048 bits" : NULL;
	if (EVP_PKEY_is_a(k, "EC"))
		return bits < 256 ? "an EC key below 256 bits" : NULL;
	return "a key type other than RSA or EC";
}

/* ---- lint ------------------------------------------------------------ */

/*
 * The lint works on indexes, not pairwise scans, so that a 100 000
 * certificate truststore takes seconds: certificates sorted by subject
 * name hash (issuer lookup, subject conflicts) and by SHA-256
 * (duplicates), and each path length computed once.
 */
struct ts_ent {
	X509 *x;
	int idx;
	unsigned long subj, iss; /* X509_NAME hashes */
	unsigned char fp[32];
	int issuer; /* index of the verified issuer, -1 none, -2 unknown */
	int named;  /* an issuer matched by name but not by signature */
	int len;    /* certificates from it to its root, 0 = not yet */
};

static int by_subj(const void *a, const void *b)
{
	const struct ts_ent *const *x = a, *const *y = b;

	if ((*x)->subj != (*y)->subj)
		return (*x)->subj < (*y)->subj ? -1 : 1;
	return (*x)->idx - (*y)->idx;
}

static int by_fp(const void *a, const void *b)
{
	const struct ts_ent *const *x = a, *const *y = b;
	int c = memcmp((*x)->fp, (*y)->fp, 32);

	return c ? c : (*x)->idx - (*y)->idx;
}

/* First position in the subject-sorted index with subject hash h. */
static size_t subj_lower(struct ts_ent **s, size_t n, unsigned long h)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s[mid]->subj < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The certificate that issued e and whose key verifies its signature. */
static int ts_issuer(struct ts_ent *e, struct ts_ent **s, size_t n)
{
	size_t k;

	if (e->issuer != -2)
		return e->issuer;
	e->issuer = -1;
	for (k = subj_lower(s, n, e->iss); k < n && s[k]->subj == e->iss;
	     k++) {
		X509 *c = s[k]->x;

		if (s[k] == e || X509_check_issued(c, e->x) != X509_V_OK)
			continue;
		e->named = 1;
		if (X509_verify(e->x, X509_get0_pubkey(c)) == 1) {
			e->issuer = s[k]->idx;
			break;
		}
	}
	ERR_clear_error();
	return e->issuer;
}

/* Certificates from e up to its root (or as far as the file goes). */
static int ts_len(struct ts_ent *v, struct ts_ent *e, struct ts_ent **s,
                  size_t n)
{
	struct ts_ent *cur = e;
	int steps = 0, up, total;

	/* walk up to a known length, a root, or a break (bounded: cycles) */
	while (cur->len == 0 && steps <= (int)n) {
		if (X509_check_issued(cur->x, cur->x) == X509_V_OK ||
		    (up = ts_issuer(cur, s, n)) < 0) {
			cur->len = 1;
			break;
		}
		cur = &v[up];
		steps++;
	}
	total = cur->len ? cur->len + steps : steps;
	/* fill in the lengths on the way */
	for (cur = e; cur->len == 0 && steps > 0; steps--) {
		cur->len = total--;
		cur = &v[cur->issuer];
	}
	return e->len ? e->len : total;
}

/* the subject of x, printed on first use in this iteration */
#define SUBJ()                                                                \
	(subj[0] ? subj : (eng_subject_str(x, subj, sizeof(subj)), subj))

void eng_ts_lint(STACK_OF(X509) * certs, const char *name, time_t at,
                 struct eng_findings *f)
{
	int n = sk_X509_num(certs), i;
	struct ts_ent *v = NULL, **s = NULL, **d = NULL;
	EVP_MD *sha256 = NULL;
	char subj[512], when[KG_TIME_LEN];
	size_t k;

	kg_time_str(at, when);
	if (n == 0) {
		ERR_("ts-empty", name, -1, NULL,
		     "a truststore holds the CA certificates, issuing CA to "
		     "root",
		     "%s holds no certificate", name);
		return;
	}
	v = OPENSSL_zalloc((size_t)n * sizeof(*v));
	s = OPENSSL_malloc((size_t)n * sizeof(*s));
	d = OPENSSL_malloc((size_t)n * sizeof(*d));
	/* fetched once: EVP_sha256() would fetch again for every certificate
	 */
	sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
	if (v == NULL || s == NULL || d == NULL || sha256 == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		unsigned int fl;

		v[i].x = sk_X509_value(certs, i);
		v[i].idx = i;
		v[i].subj = X509_NAME_hash_ex(X509_get_subject_name(v[i].x),
		                              NULL, NULL, NULL);
		v[i].iss = X509_NAME_hash_ex(X509_get_issuer_name(v[i].x),
		                             NULL, NULL, NULL);
		X509_digest(v[i].x, sha256, v[i].fp, &fl);
		v[i].issuer = -2;
		s[i] = d[i] = &v[i];
	}
	qsort(s, (size_t)n, sizeof(*s), by_subj);
	qsort(d, (size_t)n, sizeof(*d), by_fp);
	/* duplicates: the later copies, naming the first */
	for (k = 1; k < (size_t)n; k++) {
		size_t first = k - 1;

		while (first > 0 &&
		       memcmp(d[first - 1]->fp, d[k]->fp, 32) == 0)
			first--;
		if (memcmp(d[first]->fp, d[k]->fp, 32) != 0)
			continue;
		eng_subject_str(d[k]->x, subj, sizeof(subj));
		WARN_("ts-duplicate", name, d[k]->idx, subj,
		      "keygate truststore merge removes duplicates",
		      "the same certificate as index %d", d[first]->idx);
	}
	/* one subject, different issuers: within a subject hash group */
	for (k = 1; k < (size_t)n; k++) {
		size_t j;

		for (j = subj_lower(s, (size_t)n, s[k]->subj); j < k; j++) {
			if (memcmp(s[j]->fp, s[k]->fp, 32) == 0)
				continue; /* a duplicate, reported above */
			if (X509_NAME_cmp(X509_get_subject_name(s[j]->x),
			                  X509_get_subject_name(s[k]->x)) ==
			            0 &&
			    X509_NAME_cmp(X509_get_issuer_name(s[j]->x),
			                  X509_get_issuer_name(s[k]->x)) !=
			            0) {
				eng_subject_str(s[k]->x, subj, sizeof(subj));
				WARN_("ts-subject-conflict", name, s[k]->idx,
				      subj,
				      "clients may be matched to the wrong CA",
				      "index %d has the same subject and "
				      "another issuer",
				      s[j]->idx);
				break;
			}
		}
	}
	for (i = 0; i < n; i++) {
		X509 *x = v[i].x;
		const char *weak;
		int len;

		subj[0] = '\0'; /* printed only when a finding needs it */
		if (X509_cmp_time(X509_get0_notAfter(x), &at) < 0)
			ERR_("ts-expired", name, i, SUBJ(),
			     "replace it with the CA's current certificate",
			     "expired before %s", when);
		if (X509_cmp_time(X509_get0_notBefore(x), &at) > 0)
			ERR_("ts-not-yet-valid", name, i, SUBJ(), NULL,
			     "not valid yet at %s", when);
		if ((weak = eng_weak_signature(x)) != NULL)
			ERR_("ts-weak-signature", name, i, SUBJ(),
			     "API Gateway takes SHA-256 or stronger",
			     "signed with %s", weak);
		if ((weak = eng_weak_key(x)) != NULL)
			ERR_("ts-weak-key", name, i, SUBJ(),
			     "API Gateway takes RSA 2048+ and EC 256+",
			     "it has %s", weak);
		if (X509_check_ca(x) == 0)
			WARN_("ts-not-ca", name, i, SUBJ(),
			      "a truststore holds CA certificates (a "
			      "self-signed client certificate is the "
			      "exception)",
			      "not a CA certificate");
		/* chaining inside the file, and the length up to the root */
		if (X509_check_issued(x, x) == X509_V_OK) {
			if (X509_verify(x, X509_get0_pubkey(x)) != 1)
				ERR_("ts-signature", name, i, SUBJ(), NULL,
				     "its self-signature does not verify");
			ERR_clear_error();
			continue;
		}
		if (ts_issuer(&v[i], s, (size_t)n) < 0) {
			char *iname = eng_name_str(X509_get_issuer_name(x));

			if (v[i].named)
				ERR_("ts-signature", name, i, SUBJ(), NULL,
				     "its signature does not verify with the "
				     "key of its issuer '%s'",
				     iname ? iname : "");
			else
				ERR_("ts-chain-incomplete", name, i, SUBJ(),
				     "add the issuer's certificate, up to the "
				     "root",
				     "its issuer '%s' is not in the "
				     "truststore",
				     iname ? iname : "");
			OPENSSL_free(iname);
			continue;
		}
		len = ts_len(v, &v[i], s, (size_t)n);
		if (len > MAX_PATH)
			ERR_("ts-chain-too-long", name, i, SUBJ(),
			     "API Gateway takes at most 4 certificates from a "
			     "client certificate's issuer to the root",
			     "%d certificates from it to its root", len);
	}
out:
	EVP_MD_free(sha256);
	OPENSSL_free(v);
	OPENSSL_free(s);
	OPENSSL_free(d);
}

/* ---- keygate's policy on top of OpenSSL's path ----------------------- */

/* RFC 5280 says "inclusive" for notAfter; OpenSSL treats it as exclusive. */
static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
	X509 *x;
	int days = 0, secs = 0;
	time_t at;
	ASN1_TIME *t;

	if (ok || X509_STORE_CTX_get_error(ctx) != X509_V_ERR_CERT_HAS_EXPIRED)
		return ok;
	x = X509_STORE_CTX_get_current_cert(ctx);
	at = X509_VERIFY_PARAM_get_time(X509_STORE_CTX_get0_param(ctx));
	t = ASN1_TIME_set(NULL, at);
	if (x != NULL && t != NULL &&
	    ASN1_TIME_diff(&days, &secs, t, X509_get0_notAfter(x)) &&
	    days == 0 && secs == 0) {
		ASN1_TIME_free(t);
		X509_STORE_CTX_set_error(ctx, X509_V_OK);
		return 1;
	}
	ASN1_TIME_free(t);
	return ok;
}

/* A dNSName as the web PKI allows it: LDH labels, "*" only as a whole
 * leftmost label. */
static int dns_ok(const ASN1_IA5STRING *s)
{
	char buf[256];
	int len = ASN1_STRING_length(s);

	if (len <= 0 || len >= (int)sizeof(buf))
		return 0;
	memcpy(buf, ASN1_STRING_get0_data(s), (size_t)len);
	buf[len] = '\0';
	return memchr(buf, '\0', (size_t)len) == NULL &&
	       eng_is_dns_name(buf, 1);
}

static int email_ok(const ASN1_IA5STRING *s)
{
	const char *p = (const char *)ASN1_STRING_get0_data(s);
	int len = ASN1_STRING_length(s), at = -1, i;

	for (i = 0; i < len; i++) {
		if (p[i] == '@') {
			if (at >= 0)
				return 0;
			at = i;
		} else if (p[i] <= ' ' || p[i] == '<' || p[i] == '>') {
			return 0;
		}
	}
	return at > 0 && at < len - 1;
}

#define FAIL(...)                                                             \
	do {                                                                  \
		snprintf(why, cap, __VA_ARGS__);                              \
		ret = 0;                                                      \
		goto out;                                                     \
	} while (0)

/* RFC 5280 structure, for every purpose. 1 passes; 0 fails with why. */
static int rfc5280_rules(STACK_OF(X509) * path, char *why, size_t cap)
{
	int n = sk_X509_num(path), i, j, ret = 1;
	NAME_CONSTRAINTS *nc = NULL;

	for (i = 0; i < n; i++) {
		X509 *x = sk_X509_value(path, i);
		const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
		BIGNUM *bn = ASN1_INTEGER_to_BN(sn, NULL);
		int idx;

		if (i < n - 1 &&
		    (bn == NULL || BN_is_zero(bn) || BN_is_negative(bn) ||
		     BN_num_bytes(bn) > 20)) {
			BN_free(bn);
			FAIL("serial number of the certificate at depth %d is "
			     "not a positive integer of at most 20 octets",
			     i);
		}
		BN_free(bn);
		for (j = 0; j < X509_get_ext_count(x); j++) {
			X509_EXTENSION *e = X509_get_ext(x, j);
			void *d;

			if (X509V3_EXT_get(e) == NULL)
				continue;
			d = X509V3_EXT_d2i(e);
			if (d == NULL)
				FAIL("the certificate at depth %d has a "
				     "malformed %s extension",
				     i,
				     OBJ_nid2sn(OBJ_obj2nid(
				             X509_EXTENSION_get_object(e))));
			{
				const X509V3_EXT_METHOD *m = X509V3_EXT_get(e);

				if (m->it != NULL)
					ASN1_item_free(d,
					               ASN1_ITEM_ptr(m->it));
				else if (m->ext_free != NULL)
					m->ext_free(d);
			}
		}
		idx = X509_get_ext_by_NID(x, NID_name_constraints, -1);
		if (idx >= 0) {
			if (i == 0 && X509_check_ca(x) == 0)
				FAIL("name constraints in an end-entity "
				     "certificate");
			if (!X509_EXTENSION_get_critical(X509_get_ext(x, idx)))
				FAIL("name constraints at depth %d are not "
				     "critical",
				     i);
			nc = X509_get_ext_d2i(x, NID_name_constraints, NULL,
			                      NULL);
			if (nc != NULL &&
			    sk_GENERAL_SUBTREE_num(nc->permittedSubtrees) <=
			            0 &&
			    sk_GENERAL_SUBTREE_num(nc->excludedSubtrees) <= 0)
				FAIL("name constraints at depth %d are empty",
				     i);
			NAME_CONSTRAINTS_free(nc);
			nc = NULL;
		}
		idx = X509_get_ext_by_NID(x, NID_policy_constraints, -1);
		if (idx >= 0 &&
		    !X509_EXTENSION_get_critical(X509_get_ext(x, idx)))
			FAIL("policy constraints at depth %d are not critical",
			     i);
	}
out:
	NAME_CONSTRAINTS_free(nc);
	ERR_clear_error();
	return ret;
}

/* Does a CN look like an IP address (dotted digits, 0x hex, or IPv6)? */
static int ip_like(const unsigned char *p, int len)
{
	int i, colon = 0, digits_dots = 1;

	if (len >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
		return 1;
	for (i = 0; i < len; i++) {
		if (p[i] == ':')
			colon = 1;
		else if (!((p[i] >= '0' && p[i] <= '9') || p[i] == '.'))
			digits_dots = 0;
	}
	return colon || (digits_dots && len > 0);
}

/*
 * CABF BR 7.1.4.3: a CN, if present, repeats a subjectAltName value. It
 * is compared with the entries of its own kind only: an IP-looking CN with
 * the canonical text of the IP entries (RFC 5952 for IPv6, as inet_ntop
 * writes it), a DNS-looking CN byte for byte with the DNS entries -- when
 * there are DNS entries and none is a wildcard, which could not be judged.
 */
static int cn_in_san(X509 *leaf, GENERAL_NAMES *san)
{
	X509_NAME *nm = X509_get_subject_name(leaf);
	int loc = -1, j;

	while ((loc = X509_NAME_get_index_by_NID(nm, NID_commonName, loc)) >=
	       0) {
		const ASN1_STRING *cn =
		        X509_NAME_ENTRY_get_data(X509_NAME_get_entry(nm, loc));
		const unsigned char *cp = ASN1_STRING_get0_data(cn);
		int cl = ASN1_STRING_length(cn), is_ip = ip_like(cp, cl);
		int found = 0, judged = 0, wildcard = 0;

		for (j = 0; san != NULL && j < sk_GENERAL_NAME_num(san); j++) {
			GENERAL_NAME *g = sk_GENERAL_NAME_value(san, j);
			char ip[INET6_ADDRSTRLEN];
			int il;

			if (g->type == GEN_DNS && !is_ip) {
				const ASN1_STRING *d = g->d.dNSName;

				judged = 1;
				wildcard |= ASN1_STRING_length(d) > 0 &&
				            ASN1_STRING_get0_data(d)[0] == '*';
				found |= ASN1_STRING_length(d) == cl &&
				         memcmp(ASN1_STRING_get0_data(d), cp,
				                (size_t)cl) == 0;
			} else if (g->type == GEN_IPADD && is_ip) {
				il = ASN1_STRING_length(g->d.iPAddress);
				judged = 1;
				if ((il == 4 || il == 16) &&
				    inet_ntop(il == 4 ? AF_INET : AF_INET6,
				              ASN1_STRING_get0_data(
				                      g->d.iPAddress),
				              ip, sizeof(ip)) != NULL)
					found |= strlen(ip) == (size_t)cl &&
					         memcmp(ip, cp, (size_t)cl) ==
					                 0;
			}
		}
		if (judged && !found && !wildcard)
			return 0;
	}
	return 1;
}

/* The web PKI's rules for a TLS server certificate's path. */
static int webpki_rules(STACK_OF(X509) * path, char *why, size_t cap)
{
	int n = sk_X509_num(path), i, j, ret = 1, idx;
	X509 *leaf = sk_X509_value(path, 0);
	GENERAL_NAMES *san = NULL;
	EXTENDED_KEY_USAGE *eku = NULL;
	AUTHORITY_KEYID *aki = NULL;

	for (i = 0; i < n; i++) {
		X509 *x = sk_X509_value(path, i);
		EVP_PKEY *k = X509_get0_pubkey(x);
		int bits = k ? EVP_PKEY_get_bits(k) : 0;

		if (k == NULL)
			FAIL("unreadable key at depth %d", i);
		if (EVP_PKEY_is_a(k, "RSA")) {
			if (bits < 2048 || bits % 8 != 0)
				FAIL("RSA-%d key at depth %d (the web PKI "
				     "takes 2048+ in whole bytes)",
				     bits, i);
		} else if (EVP_PKEY_is_a(k, "EC")) {
			char g[64];
			size_t gl;

			if (!EVP_PKEY_get_utf8_string_param(
			            k, OSSL_PKEY_PARAM_GROUP_NAME, g,
			            sizeof(g), &gl) ||
			    (strcmp(g, "prime256v1") != 0 &&
			     strcmp(g, "secp384r1") != 0 &&
			     strcmp(g, "secp521r1") != 0))
				FAIL("EC key at depth %d is not on P-256, "
				     "P-384 "
				     "or P-521",
				     i);
		} else {
			FAIL("a %s key at depth %d (the web PKI takes RSA "
			     "and EC)",
			     EVP_PKEY_get0_type_name(k), i);
		}
		aki = X509_get_ext_d2i(x, NID_authority_key_identifier, NULL,
		                       NULL);
		if (aki != NULL && aki->keyid == NULL)
			FAIL("authority key identifier at depth %d has no "
			     "keyIdentifier",
			     i);
		AUTHORITY_KEYID_free(aki);
		aki = NULL;
		if (i == n - 1 && i > 0 &&
		    X509_get_ext_by_NID(x, NID_ext_key_usage, -1) >= 0)
			FAIL("the root has an extended key usage");
	}
	if (X509_get_version(leaf) != X509_VERSION_3)
		FAIL("the end-entity certificate is not X.509 v3");
	if (X509_get_extension_flags(leaf) & EXFLAG_CA)
		FAIL("the end-entity certificate is a CA (basicConstraints "
		     "cA)");
	idx = X509_get_ext_by_NID(leaf, NID_ext_key_usage, -1);
	if (idx < 0)
		FAIL("the end-entity certificate has no extended key usage");
	if (X509_EXTENSION_get_critical(X509_get_ext(leaf, idx)))
		FAIL("the end-entity certificate's extended key usage is "
		     "critical");
	eku = X509_get_ext_d2i(leaf, NID_ext_key_usage, NULL, NULL);
	for (j = 0; eku != NULL && j < sk_ASN1_OBJECT_num(eku); j++)
		if (OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, j)) ==
		    NID_anyExtendedKeyUsage)
			FAIL("the end-entity certificate allows any extended "
			     "key usage");
	idx = X509_get_ext_by_NID(leaf, NID_subject_alt_name, -1);
	if (idx < 0)
		FAIL("the end-entity certificate has no subjectAltName");
	if (X509_EXTENSION_get_critical(X509_get_ext(leaf, idx)) &&
	    X509_NAME_entry_count(X509_get_subject_name(leaf)) > 0)
		FAIL("subjectAltName is critical while the subject is not "
		     "empty");
	san = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	for (j = 0; san != NULL && j < sk_GENERAL_NAME_num(san); j++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(san, j);

		if (g->type == GEN_DNS && !dns_ok(g->d.dNSName))
			FAIL("subjectAltName holds an invalid DNS name");
		if (g->type == GEN_EMAIL && !email_ok(g->d.rfc822Name))
			FAIL("subjectAltName holds an invalid e-mail address");
	}
	if (!cn_in_san(leaf, san))
		FAIL("the end-entity certificate's CN is not one of its "
		     "subjectAltName entries");
out:
	GENERAL_NAMES_free(san);
	EXTENDED_KEY_USAGE_free(eku);
	AUTHORITY_KEYID_free(aki);
	ERR_clear_error();
	return ret;
}

/* RFC 5280 5.2.3: a conforming CRL carries its number. */
static int crl_rules(STACK_OF(X509_CRL) * crls, char *why, size_t cap)
{
	int i;

	for (i = 0; crls != NULL && i < sk_X509_CRL_num(crls); i++) {
		if (X509_CRL_get_ext_by_NID(sk_X509_CRL_value(crls, i),
		                            NID_crl_number, -1) < 0) {
			snprintf(why, cap, "CRL %d has no CRL number", i);
			return 0;
		}
	}
	return 1;
}

/* ---- path validation ------------------------------------------------- */

void eng_verify_res_free(struct eng_verify_res *res)
{
	sk_X509_pop_free(res->path, X509_free);
	memset(res, 0, sizeof(*res));
}

enum kg_code eng_verify(const struct eng_verify_req *r,
                        struct eng_verify_res *res, struct kg_err *err)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509_VERIFY_PARAM *vp;
	unsigned long flags = r->strict ? X509_V_FLAG_X509_STRICT : 0;
	int i, rv;

	memset(res, 0, sizeof(*res));
	if (store == NULL || ctx == NULL)
		goto oom;
	for (i = 0; i < sk_X509_num(r->trusted); i++)
		if (!X509_STORE_add_cert(store, sk_X509_value(r->trusted, i)))
			goto oom;
	if (!X509_STORE_CTX_init(ctx, store, r->leaf, r->untrusted))
		goto oom;
	vp = X509_STORE_CTX_get0_param(ctx);
	if (r->purpose != ENG_PURPOSE_ANY)
		X509_STORE_CTX_set_purpose(ctx,
		                           r->purpose == ENG_PURPOSE_SERVER
		                                   ? X509_PURPOSE_SSL_SERVER
		                                   : X509_PURPOSE_SSL_CLIENT);
	if (r->host != NULL) {
		if (eng_is_ip(r->host))
			X509_VERIFY_PARAM_set1_ip_asc(vp, r->host);
		else
			X509_VERIFY_PARAM_set1_host(vp, r->host, 0);
	}
	if (r->max_depth >= 0)
		X509_VERIFY_PARAM_set_depth(vp, r->max_depth);
	if (r->crls != NULL) {
		X509_STORE_CTX_set0_crls(ctx, r->crls);
		flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
	}
	if (r->check_time)
		X509_VERIFY_PARAM_set_time(vp, r->at);
	else
		flags |= X509_V_FLAG_NO_CHECK_TIME;
	X509_VERIFY_PARAM_set_flags(vp, flags);
	/* names match subjectAltName only: the CN is no hostname */
	X509_VERIFY_PARAM_set_hostflags(vp,
	                                X509_CHECK_FLAG_NEVER_CHECK_SUBJECT);
	X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
	rv = X509_verify_cert(ctx);
	res->path = X509_STORE_CTX_get1_chain(ctx);
	if (rv == 1 &&
	    ((r->strict &&
	      !rfc5280_rules(res->path, res->reason, sizeof(res->reason))) ||
	     (r->purpose == ENG_PURPOSE_SERVER &&
	      !webpki_rules(res->path, res->reason, sizeof(res->reason))) ||
	     !crl_rules(r->crls, res->reason, sizeof(res->reason)))) {
		res->error = -1; /* keygate's policy */
	} else if (rv == 1) {
		res->ok = 1;
	} else {
		res->error = X509_STORE_CTX_get_error(ctx);
		res->error_depth = X509_STORE_CTX_get_error_depth(ctx);
		snprintf(res->reason, sizeof(res->reason), "%s (at depth %d)",
		         X509_verify_cert_error_string(res->error),
		         res->error_depth);
	}
	ERR_clear_error();
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return KG_OK;
oom:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return kg_err_set(err, KG_E_RUNTIME, "out of memory");
}

/* ---- mTLS ------------------------------------------------------------ */

void eng_mtls_res_free(struct eng_mtls_res *res)
{
	sk_X509_pop_free(res->path, X509_free);
	memset(res, 0, sizeof(*res));
}

enum kg_code eng_mtls_check(STACK_OF(X509) * truststore, STACK_OF(X509) * sent,
                            time_t at, struct eng_mtls_res *res,
                            struct kg_err *err)
{
	struct eng_verify_req vr = {0};
	struct eng_verify_res v;
	STACK_OF(X509) *chain = NULL;
	enum kg_code rc;
	int i;

	memset(res, 0, sizeof(*res));
	if (sk_X509_num(sent) < 1)
		return kg_err_set(err, KG_E_USAGE, "no client certificate");
	chain = sk_X509_new_null();
	for (i = 1; chain != NULL && i < sk_X509_num(sent); i++)
		sk_X509_push(chain, sk_X509_value(sent, i));
	vr.trusted = truststore;
	vr.untrusted = chain;
	vr.leaf = sk_X509_value(sent, 0);
	vr.max_depth = -1;
	vr.check_time = 1;
	vr.at = at;
	rc = eng_verify(&vr, &v, err);
	sk_X509_free(chain);
	if (rc != KG_OK)
		return rc;
	res->path = v.path;
	v.path = NULL;
	res->status = 403;
	if (!v.ok) {
		switch (v.error) {
		case X509_V_ERR_CERT_HAS_EXPIRED:
			res->reason = "expired";
			break;
		case X509_V_ERR_CERT_NOT_YET_VALID:
			res->reason = "not-yet-valid";
			break;
		case X509_V_ERR_CERT_SIGNATURE_FAILURE:
		case X509_V_ERR_UNABLE_TO_DECRYPT_CERT_SIGNATURE:
			res->reason = "bad-signature";
			break;
		default:
			res->reason = "untrusted";
			break;
		}
		snprintf(res->detail, sizeof(res->detail), "%s", v.reason);
		return KG_OK;
	}
	/* API Gateway's policy on the path OpenSSL built */
	for (i = 0; i < sk_X509_num(res->path); i++) {
		X509 *x = sk_X509_value(res->path, i);
		const char *weak = eng_weak_signature(x);

		if (weak == NULL)
			weak = eng_weak_key(x);
		if (weak != NULL) {
			char subj[160];

			eng_subject_str(x, subj, sizeof(subj));
			res->reason = "unsupported-algorithm";
			snprintf(res->detail, sizeof(res->detail),
			         "%s (path position %d) uses %s", subj, i,
			         weak);
			return KG_OK;
		}
	}
	if (sk_X509_num(res->path) > MAX_PATH) {
		res->reason = "chain-too-long";
		snprintf(res->detail, sizeof(res->detail),
		         "%d certificates on the path; API Gateway takes at "
		         "most %d",
		         sk_X509_num(res->path), MAX_PATH);
		return KG_OK;
	}
	res->allow = 1;
	res->status = 200;
	return KG_OK;
}

enum kg_code eng_crls_parse(const unsigned char *buf, size_t len,
                            const char *name, STACK_OF(X509_CRL) * *out,
                            struct kg_err *err)
{
	struct eng_pem_scan s;
	STACK_OF(X509_CRL) *sk = sk_X509_CRL_new_null();
	enum kg_code rc = KG_OK;
	size_t i;

	*out = NULL;
	if (sk == NULL || !eng_pem_scan(buf, len, &s)) {
		sk_X509_CRL_free(sk);
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	}
	for (i = 0; i < s.n && rc == KG_OK; i++) {
		const unsigned char *p = s.blocks[i].der;
		X509_CRL *c = NULL;

		if (!s.blocks[i].bad &&
		    strcmp(s.blocks[i].label, "X509 CRL") == 0)
			c = d2i_X509_CRL(NULL, &p, (long)s.blocks[i].der_len);
		if (c == NULL || !sk_X509_CRL_push(sk, c)) {
			X509_CRL_free(c);
			rc = kg_err_set(
			        err, KG_REFUSED,
			        "'%s' block %zu is not a valid X509 CRL", name,
			        i);
		}
	}
	if (rc == KG_OK && sk_X509_CRL_num(sk) == 0)
		rc = kg_err_set(err, KG_REFUSED, "'%s' holds no X509 CRL",
		                name);
	eng_pem_scan_free(&s);
	ERR_clear_error();
	if (rc != KG_OK) {
		sk_X509_CRL_pop_free(sk, X509_CRL_free);
		return rc;
	}
	*out = sk;
	return KG_OK;
}
