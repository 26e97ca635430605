/*
 * keygate's policy on top of OpenSSL's: algorithm floors, RFC 5280 and
 * web PKI rules on a built path, CRLs, notAfter inclusive.
 */
#include "engine/eng_trust.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>

#include "engine/eng.h"
#include "engine/eng_policy.h"

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

/* ---- keygate's policy on top of OpenSSL's path ----------------------- */

/* RFC 5280 says "inclusive" for notAfter; OpenSSL treats it as exclusive. */
int eng_verify_cb(int ok, X509_STORE_CTX *ctx)
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
int eng_rfc5280_rules(STACK_OF(X509) * path, char *why, size_t cap)
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
int eng_webpki_rules(STACK_OF(X509) * path, char *why, size_t cap)
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
int eng_crl_rules(STACK_OF(X509_CRL) * crls, char *why, size_t cap)
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
