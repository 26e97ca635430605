/* Subject DNs and subjectAltName lists, from the command line. */
#include "engine/eng.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/objects.h>

#include "common/kg_hex.h"

/* The longest dotted OID taken as an attribute type (OpenSSL prints at
 * most 80 characters of one). */
#define MAX_OID_TEXT 64

#define DN_EXAMPLE "(example: CN=api.example.com,O=Example)"

/* ---- DNS names and addresses ----------------------------------------- */

int eng_is_dns_name(const char *s, int allow_wildcard)
{
	size_t len = strlen(s), label = 0, i;

	if (allow_wildcard && strncmp(s, "*.", 2) == 0) {
		s += 2;
		len -= 2;
	}
	if (len == 0 || len > 253)
		return 0;
	if (s[len - 1] == '.') /* no absolute names in certificates */
		return 0;
	for (i = 0; i <= len; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (label == 0 || label > 63 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!(isalnum((unsigned char)c) || c == '-'))
			return 0;
		if (label == 0 && c == '-')
			return 0;
		label++;
	}
	return 1;
}

int eng_is_domain(const char *s)
{
	return strchr(s, '.') != NULL && eng_is_dns_name(s, 1) &&
	       !eng_is_ip(s);
}

int eng_is_ip(const char *s)
{
	ASN1_OCTET_STRING *ip = a2i_IPADDRESS(s);

	ERR_clear_error();
	if (ip == NULL)
		return 0;
	ASN1_OCTET_STRING_free(ip);
	return 1;
}

/* ---- splitting with escapes ------------------------------------------ */

/*
 * Copies s[0..n) into a new string, resolving escapes and trimming
 * unescaped blanks at both ends; *outlen is its length, which is more than
 * strlen() when an escape made a NUL. Returns NULL on a dangling
 * backslash.
 */
static char *unescape(const char *s, size_t n, size_t *outlen)
{
	char *o = malloc(n + 1);
	size_t i, j = 0, keep = 0; /* keep: length up to last escaped char */

	if (o == NULL)
		return NULL;
	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	for (i = 0; i < n; i++) {
		if (s[i] == '\\') {
			if (i + 1 >= n) {
				free(o);
				return NULL;
			}
			if (i + 2 < n && kg_hexval(s[i + 1]) >= 0 &&
			    kg_hexval(s[i + 2]) >= 0) {
				o[j++] = (char)(kg_hexval(s[i + 1]) * 16 +
				                kg_hexval(s[i + 2]));
				i += 2;
			} else {
				o[j++] = s[++i];
			}
			keep = j;
		} else {
			o[j++] = s[i];
		}
	}
	while (j > keep && (o[j - 1] == ' ' || o[j - 1] == '\t'))
		j--;
	o[j] = '\0';
	*outlen = j;
	return o;
}

/*
 * Length of the well-formed UTF-8 sequence at s (at most n bytes), or 0:
 * no overlong forms, no surrogates, nothing above U+10FFFF.
 */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len, i;
	unsigned long cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

int eng_text_ok(const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		k = utf8_seq(u + i, n - i);
		if (k == 0)
			return 0;
		/* C0 controls and NUL, DEL, C1 controls (U+0080..U+009F) */
		if ((k == 1 && (u[i] < 0x20 || u[i] == 0x7f)) ||
		    (k == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0))
			return 0;
		i += k;
	}
	return 1;
}

const char *eng_text_shown(const char *s, char *out, size_t cap)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, j = 0, n = strlen(s), k;

	if (cap == 0)
		return "";
	while (i < n && j + 5 < cap) {
		k = utf8_seq(u + i, n - i);
		if (k == 1 && u[i] >= 0x20 && u[i] != 0x7f && u[i] != '\\') {
			out[j++] = (char)u[i++];
		} else if (k > 1 &&
		           !(k == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0)) {
			if (j + k >= cap)
				break;
			memcpy(out + j, u + i, k);
			j += k;
			i += k;
		} else {
			/* a control byte, a backslash or invalid UTF-8 */
			j += (size_t)snprintf(out + j, cap - j, "\\x%02x",
			                      u[i++]);
		}
	}
	if (i < n && j + 4 < cap)
		j += (size_t)snprintf(out + j, cap - j, "...");
	out[j < cap ? j : cap - 1] = '\0';
	return out;
}

/* Index of the next unescaped c in s[0..n), or n. */
static size_t next_sep(const char *s, size_t n, const char *seps)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\\') {
			i++;
			continue;
		}
		if (strchr(seps, s[i]) != NULL)
			return i;
	}
	return n;
}

/* ---- DN -------------------------------------------------------------- */

static int attr_nid(const char *name)
{
	static const struct {
		const char *alias;
		int nid;
	} aliases[] = {
	        {"E", NID_pkcs9_emailAddress},
	        {"EMAIL", NID_pkcs9_emailAddress},
	        {"EMAILADDRESS", NID_pkcs9_emailAddress},
	        {"S", NID_stateOrProvinceName},
	        {"SERIALNUMBER", NID_serialNumber},
	        {"STREET", NID_streetAddress},
	        {"UID", NID_userId},
	};
	char up[64];
	size_t i, n = strlen(name);
	int nid;

	if (n == 0 || n >= sizeof(up))
		return NID_undef;
	nid = OBJ_txt2nid(name);
	if (nid != NID_undef)
		return nid;
	for (i = 0; i <= n; i++)
		up[i] = (char)toupper((unsigned char)name[i]);
	for (i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (strcmp(up, aliases[i].alias) == 0)
			return aliases[i].nid;
	return OBJ_txt2nid(up);
}

struct rdn_part {
	/* OBJ_nid2obj's (static) or a dotted OID's (owned) */
	ASN1_OBJECT *obj;
	int type; /* MBSTRING_UTF8, or a #hexstring's string type */
	char *value;
	int join; /* 1: same RDN as the previous part (multi-valued) */
};

/*
 * RFC 4514 2.4: a value written '#' and hex digits is the BER of the
 * value itself (OpenSSL prints attributes it has no name for that way).
 * If raw (the text after '=', blanks trimmed) is one, *val becomes the
 * string's bytes and *type its ASN.1 string type; 0 if raw is not one,
 * -1 if it is but does not hold a string keygate takes.
 */
static int hex_value(const char *raw, size_t n, char **val, size_t *vlen,
                     int *type)
{
	unsigned char *der, *bytes;
	const unsigned char *p;
	ASN1_STRING *str;
	long dlen;
	char *hex;
	int t;

	while (n > 0 && (*raw == ' ' || *raw == '\t'))
		raw++, n--;
	while (n > 0 && (raw[n - 1] == ' ' || raw[n - 1] == '\t'))
		n--;
	if (n < 5 || raw[0] != '#' || (n - 1) % 2 != 0 ||
	    strspn(raw + 1, "0123456789abcdefABCDEF") < n - 1)
		return 0;
	hex = strndup(raw + 1, n - 1);
	der = hex ? OPENSSL_hexstr2buf(hex, &dlen) : NULL;
	free(hex);
	if (der == NULL)
		return -1;
	p = der;
	str = d2i_ASN1_PRINTABLE(NULL, &p, dlen);
	t = str ? ASN1_STRING_type(str) : -1;
	if (str == NULL || p != der + dlen ||
	    (t != V_ASN1_UTF8STRING && t != V_ASN1_PRINTABLESTRING &&
	     t != V_ASN1_IA5STRING)) {
		ASN1_STRING_free(str);
		OPENSSL_free(der);
		ERR_clear_error();
		return -1;
	}
	bytes = malloc((size_t)ASN1_STRING_length(str) + 1);
	if (bytes != NULL) {
		memcpy(bytes, ASN1_STRING_get0_data(str),
		       (size_t)ASN1_STRING_length(str));
		bytes[ASN1_STRING_length(str)] = '\0';
		free(*val);
		*val = (char *)bytes;
		*vlen = (size_t)ASN1_STRING_length(str);
		*type = t;
	}
	ASN1_STRING_free(str);
	OPENSSL_free(der);
	return bytes != NULL ? 1 : -1;
}

/* The attribute's short name, or its dotted OID. */
static const char *oid_name(const ASN1_OBJECT *o, char *buf, int cap)
{
	int nid = OBJ_obj2nid(o);

	if (nid != NID_undef && OBJ_nid2sn(nid) != NULL)
		return OBJ_nid2sn(nid);
	OBJ_obj2txt(buf, cap, o, 1);
	return buf;
}

/*
 * The attribute type named key: a name OpenSSL knows, or a dotted OID
 * written as OpenSSL writes it back (of a length it prints back whole:
 * real ones are far shorter; "2.5..4" reads as 2.5.0.0.4). NULL if none.
 */
static ASN1_OBJECT *attr_obj(const char *key, size_t klen)
{
	int nid = attr_nid(key);
	ASN1_OBJECT *obj = nid != NID_undef ? OBJ_nid2obj(nid) : NULL;

	if (obj == NULL && isdigit((unsigned char)key[0]) &&
	    klen <= MAX_OID_TEXT) {
		char canon[MAX_OID_TEXT + 2];

		obj = OBJ_txt2obj(key, 1);
		if (obj != NULL &&
		    (OBJ_obj2txt(canon, sizeof(canon), obj, 1) != (int)klen ||
		     strcmp(canon, key) != 0)) {
			ASN1_OBJECT_free(obj);
			obj = NULL;
		}
	}
	ERR_clear_error();
	return obj;
}

/*
 * One attribute of the subject, s[pos..end): its type and value, checked
 * (an '=', no dangling escape, a #hexstring that is a string, no NUL or
 * control character, a known type, a value). *out holds them; free with
 * free(out->value) and ASN1_OBJECT_free(out->obj).
 */
static enum kg_code dn_part(const char *dn, const char *s, size_t pos,
                            size_t end, struct rdn_part *out,
                            struct kg_err *err)
{
	size_t eq = next_sep(s + pos, end - pos, "=");
	char *key = NULL, *val = NULL;
	size_t klen = 0, vlen = 0;
	ASN1_OBJECT *obj;
	enum kg_code rc;
	int type;

	if (eq == end - pos) {
		rc = kg_err_set(err, KG_E_USAGE,
		                "bad subject '%s': '%.*s' has no "
		                "'=' " DN_EXAMPLE,
		                dn, (int)(end - pos), s + pos);
		return rc;
	}
	key = unescape(s + pos, eq, &klen);
	val = unescape(s + pos + eq + 1, end - pos - eq - 1, &vlen);
	if (key == NULL || val == NULL) {
		free(key);
		free(val);
		rc = kg_err_set(err, KG_E_USAGE,
		                "bad subject '%s': dangling '\\' in "
		                "'%.*s'",
		                dn, (int)(end - pos), s + pos);
		return rc;
	}
	type = MBSTRING_UTF8;
	if (hex_value(s + pos + eq + 1, end - pos - eq - 1, &val, &vlen,
	              &type) < 0) {
		rc = kg_err_set(err, KG_E_USAGE,
		                "bad subject: the value of %.*s is "
		                "'#' and hex digits, but not the DER "
		                "of a UTF8, Printable or IA5 string "
		                "(write \\# for a leading '#')",
		                (int)klen, key);
		free(key);
		free(val);
		return rc;
	}
	if (!eng_text_ok(key, klen) || !eng_text_ok(val, vlen)) {
		char shown[128];

		rc = kg_err_set(err, KG_E_USAGE,
		                "bad subject: %s holds a NUL, a "
		                "control character or invalid UTF-8 "
		                "(from an escape such as \\00); such "
		                "names are refused",
		                eng_text_shown(key, shown, sizeof(shown)));
		free(key);
		free(val);
		return rc;
	}
	obj = attr_obj(key, klen);
	if (obj == NULL) {
		rc = kg_err_set(err, KG_E_USAGE,
		                "bad subject '%s': unknown attribute "
		                "'%s' (use CN, O, OU, C, ST, L, DC, "
		                "emailAddress or a dotted OID)",
		                dn, key);
		free(key);
		free(val);
		return rc;
	}
	if (*val == '\0') {
		rc = kg_err_set(err, KG_E_USAGE,
		                "bad subject '%s': %s has an empty "
		                "value",
		                dn, key);
		free(key);
		free(val);
		ASN1_OBJECT_free(obj);
		return rc;
	}
	free(key);
	out->obj = obj;
	out->type = type;
	out->value = val;
	return KG_OK;
}

/*
 * parts into name, RDN by RDN: RFC 4514 strings list the most specific
 * RDN first, so they are encoded last-to-first (slash form: as written);
 * within a multi-valued RDN the order is kept.
 */
static enum kg_code dn_emit(const char *dn, const struct rdn_part *parts,
                            size_t nparts, int slash, X509_NAME *name,
                            struct kg_err *err)
{
	size_t *rdn_start = calloc(nparts + 1, sizeof(size_t));
	size_t nrdn = 0, r, i;
	enum kg_code rc = KG_OK;

	if (rdn_start == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	for (i = 0; i < nparts; i++)
		if (!parts[i].join)
			rdn_start[nrdn++] = i;
	rdn_start[nrdn] = nparts;
	for (r = 0; r < nrdn && rc == KG_OK; r++) {
		size_t idx = slash ? r : nrdn - 1 - r, j;

		for (j = rdn_start[idx]; j < rdn_start[idx + 1] && rc == KG_OK;
		     j++) {
			char oname[80];
			unsigned long e;

			if (X509_NAME_add_entry_by_OBJ(
			            name, parts[j].obj, parts[j].type,
			            (unsigned char *)parts[j].value, -1, -1,
			            j == rdn_start[idx] ? 0 : -1))
				continue;
			e = ERR_peek_last_error();
			ERR_clear_error();
			rc = kg_err_set(
			        err, KG_E_USAGE,
			        "bad subject '%s': %s='%s' is not "
			        "allowed (%s)",
			        dn,
			        oid_name(parts[j].obj, oname, sizeof(oname)),
			        parts[j].value,
			        ERR_reason_error_string(e)
			                ? ERR_reason_error_string(e)
			                : "invalid value");
		}
	}
	free(rdn_start);
	return rc;
}

enum kg_code eng_dn_parse(const char *dn, X509_NAME **out, struct kg_err *err)
{
	struct rdn_part *parts = NULL;
	size_t nparts = 0, cap = 0, pos = 0, len, i;
	X509_NAME *name = NULL;
	enum kg_code rc = KG_OK;
	int slash, join = 0;

	const char *s;

	*out = NULL;
	if (dn == NULL)
		return kg_err_set(err, KG_E_USAGE, "no subject " DN_EXAMPLE);
	s = dn;
	len = strlen(s);
	while (len > 0 && isspace((unsigned char)*s))
		s++, len--;
	if (len == 0)
		return kg_err_set(err, KG_E_USAGE,
		                  "empty subject " DN_EXAMPLE);
	if (!eng_text_ok(s, len)) {
		char shown[256];

		return kg_err_set(err, KG_E_USAGE,
		                  "bad subject '%s': control characters and "
		                  "invalid UTF-8 are not allowed",
		                  eng_text_shown(s, shown, sizeof(shown)));
	}
	slash = s[0] == '/';
	if (slash)
		pos = 1;
	while (pos < len) {
		size_t end = pos +
		             next_sep(s + pos, len - pos, slash ? "/+" : ",+");
		struct rdn_part part;

		rc = dn_part(dn, s, pos, end, &part, err);
		if (rc != KG_OK)
			goto out;
		if (nparts == cap) {
			struct rdn_part *np;

			cap = cap ? cap * 2 : 8;
			np = realloc(parts, cap * sizeof(*parts));
			if (np == NULL) {
				free(part.value);
				ASN1_OBJECT_free(part.obj);
				rc = kg_err_set(err, KG_E_RUNTIME,
				                "out of memory");
				goto out;
			}
			parts = np;
		}
		part.join = join;
		parts[nparts] = part;
		nparts++;
		join = end < len && s[end] == '+';
		pos = end + 1;
		if (end < len && end + 1 == len) {
			rc = kg_err_set(err, KG_E_USAGE,
			                "bad subject '%s': ends with a "
			                "separator " DN_EXAMPLE,
			                dn);
			goto out;
		}
	}
	if (nparts == 0) {
		rc = kg_err_set(err, KG_E_USAGE, "empty subject " DN_EXAMPLE);
		goto out;
	}
	name = X509_NAME_new();
	if (name == NULL) {
		rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
		goto out;
	}
	rc = dn_emit(dn, parts, nparts, slash, name, err);
	if (rc != KG_OK)
		goto out;
	*out = name;
	name = NULL;
out:
	for (i = 0; i < nparts; i++) {
		free(parts[i].value);
		ASN1_OBJECT_free(parts[i].obj); /* a no-op for static ones */
	}
	free(parts);
	X509_NAME_free(name);
	return rc;
}

/* ---- SAN ------------------------------------------------------------- */

static int valid_email(const char *s)
{
	const char *at = strchr(s, '@');

	return at != NULL && at != s && strchr(at + 1, '@') == NULL &&
	       eng_is_dns_name(at + 1, 0) && strpbrk(s, " \t<>") == NULL;
}

static int valid_uri(const char *s)
{
	const char *p = s;

	if (!isalpha((unsigned char)*p))
		return 0;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' ||
	       *p == '.')
		p++;
	return *p == ':' && p[1] != '\0' && strpbrk(s, " \t\"<>") == NULL;
}

static GENERAL_NAME *gn_string(int type, const char *v)
{
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_IA5STRING *ia5 = ASN1_IA5STRING_new();

	if (gn == NULL || ia5 == NULL ||
	    !ASN1_STRING_set(ia5, v, (int)strlen(v))) {
		GENERAL_NAME_free(gn);
		ASN1_IA5STRING_free(ia5);
		return NULL;
	}
	GENERAL_NAME_set0_value(gn, type, ia5);
	return gn;
}

static GENERAL_NAME *gn_ip(const char *v)
{
	GENERAL_NAME *gn;
	ASN1_OCTET_STRING *ip = a2i_IPADDRESS(v);

	ERR_clear_error();
	if (ip == NULL)
		return NULL;
	gn = GENERAL_NAME_new();
	if (gn == NULL) {
		ASN1_OCTET_STRING_free(ip);
		return NULL;
	}
	GENERAL_NAME_set0_value(gn, GEN_IPADD, ip);
	return gn;
}

#define SAN_EXAMPLE "(example: DNS:api.example.com,IP:10.0.0.1)"

enum kg_code eng_san_parse(const char *list, GENERAL_NAMES **out,
                           struct kg_err *err)
{
	GENERAL_NAMES *names = NULL;
	size_t pos = 0, len;
	enum kg_code rc = KG_OK;

	*out = NULL;
	if (list == NULL || *list == '\0')
		return kg_err_set(err, KG_E_USAGE,
		                  "empty subjectAltName list " SAN_EXAMPLE);
	len = strlen(list);
	if (!eng_text_ok(list, len)) {
		char shown[256];

		return kg_err_set(
		        err, KG_E_USAGE,
		        "bad subjectAltName list '%s': control characters and "
		        "invalid UTF-8 are not allowed",
		        eng_text_shown(list, shown, sizeof(shown)));
	}
	names = GENERAL_NAMES_new();
	if (names == NULL)
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	while (pos <= len) {
		size_t end = pos + next_sep(list + pos, len - pos, ",");
		size_t ilen = 0;
		char *item = unescape(list + pos, end - pos, &ilen), *v;
		GENERAL_NAME *gn = NULL;
		const char *what = NULL;

		if (item != NULL && !eng_text_ok(item, ilen)) {
			char shown[256];

			rc = kg_err_set(
			        err, KG_E_USAGE,
			        "bad subjectAltName entry '%s': NUL, control "
			        "characters and invalid UTF-8 are not "
			        "allowed",
			        eng_text_shown(item, shown, sizeof(shown)));
			free(item);
			goto out;
		}

		if (item == NULL || *item == '\0') {
			rc = kg_err_set(err, KG_E_USAGE,
			                "bad subjectAltName list '%s': empty "
			                "entry " SAN_EXAMPLE,
			                list);
			free(item);
			goto out;
		}
		v = strchr(item, ':');
		if (v != NULL && !eng_is_ip(item) &&
		    strspn(item, "abcdefghijklmnopqrstuvwxyz"
		                 "ABCDEFGHIJKLMNOPQRSTUVWXYZ") ==
		            (size_t)(v - item)) {
			*v++ = '\0';
			if (strcasecmp(item, "DNS") == 0) {
				what = "DNS name";
				if (eng_is_dns_name(v, 1))
					gn = gn_string(GEN_DNS, v);
			} else if (strcasecmp(item, "IP") == 0) {
				what = "IP address";
				gn = gn_ip(v);
			} else if (strcasecmp(item, "email") == 0) {
				what = "e-mail address";
				if (valid_email(v))
					gn = gn_string(GEN_EMAIL, v);
			} else if (strcasecmp(item, "URI") == 0) {
				what = "URI";
				if (valid_uri(v))
					gn = gn_string(GEN_URI, v);
			} else {
				rc = kg_err_set(err, KG_E_USAGE,
				                "bad subjectAltName list "
				                "'%s': unknown type "
				                "'%s' (use DNS, IP, email or "
				                "URI)",
				                list, item);
				free(item);
				goto out;
			}
		} else if (eng_is_ip(item)) {
			what = "IP address";
			v = item;
			gn = gn_ip(item);
		} else {
			what = "DNS name";
			v = item;
			if (eng_is_dns_name(item, 1))
				gn = gn_string(GEN_DNS, item);
		}
		if (gn == NULL) {
			rc = kg_err_set(err, KG_E_USAGE,
			                "bad subjectAltName list '%s': '%s' "
			                "is not a valid "
			                "%s",
			                list, v, what);
			free(item);
			goto out;
		}
		free(item);
		if (!sk_GENERAL_NAME_push(names, gn)) {
			GENERAL_NAME_free(gn);
			rc = kg_err_set(err, KG_E_RUNTIME, "out of memory");
			goto out;
		}
		pos = end + 1;
	}
	*out = names;
	names = NULL;
out:
	GENERAL_NAMES_free(names);
	return rc;
}

enum kg_code eng_san_from_cn(const X509_NAME *subject, GENERAL_NAMES **out,
                             struct kg_err *err)
{
	int loc = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
	unsigned char *utf8 = NULL;
	GENERAL_NAME *gn = NULL;
	int n;

	*out = NULL;
	if (loc < 0)
		return KG_OK;
	n = ASN1_STRING_to_UTF8(
	        &utf8,
	        X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, loc)));
	if (n <= 0 || memchr(utf8, '\0', (size_t)n) != NULL) {
		OPENSSL_free(utf8);
		return KG_OK;
	}
	if (eng_is_ip((char *)utf8))
		gn = gn_ip((char *)utf8);
	else if (eng_is_domain((char *)utf8))
		gn = gn_string(GEN_DNS, (char *)utf8);
	OPENSSL_free(utf8);
	if (gn == NULL)
		return KG_OK;
	*out = GENERAL_NAMES_new();
	if (*out == NULL || !sk_GENERAL_NAME_push(*out, gn)) {
		GENERAL_NAME_free(gn);
		GENERAL_NAMES_free(*out);
		*out = NULL;
		return kg_err_set(err, KG_E_RUNTIME, "out of memory");
	}
	return KG_OK;
}
