#include "engine/eng_pem.h"

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

struct body {
	char *b64;
	size_t len, cap;
};

static int body_add(struct body *b, const char *s, size_t n)
{
	size_t i;

	if (b->len + n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 4096) + n;
		char *nb = OPENSSL_realloc(b->b64, cap);

		if (nb == NULL)
			return 0;
		b->b64 = nb;
		b->cap = cap;
	}
	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			b->b64[b->len++] = s[i];
	b->b64[b->len] = '\0';
	return 1;
}

/* Base64 to bytes with OpenSSL; NULL if it is not base64. */
static unsigned char *decode(const struct body *b, size_t *outlen)
{
	EVP_ENCODE_CTX *ctx = EVP_ENCODE_CTX_new();
	unsigned char *out;
	int n = 0, m = 0, ok;

	*outlen = 0;
	if (ctx == NULL || b->len == 0) {
		EVP_ENCODE_CTX_free(ctx);
		return NULL;
	}
	out = OPENSSL_malloc(b->len / 4 * 3 + 4);
	EVP_DecodeInit(ctx);
	ok = out != NULL &&
	     EVP_DecodeUpdate(ctx, out, &n, (unsigned char *)b->b64,
	                      (int)b->len) >= 0 &&
	     EVP_DecodeFinal(ctx, out + n, &m) == 1 && n + m > 0;
	EVP_ENCODE_CTX_free(ctx);
	if (!ok) {
		OPENSSL_free(out);
		return NULL;
	}
	*outlen = (size_t)(n + m);
	return out;
}

static int is_blank(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return 0;
	return 1;
}

/* "-----BEGIN X-----" or "-----END X-----": copies X into label. */
static int marker(const char *s, size_t n, const char *kind, char *label,
                  size_t cap)
{
	size_t k = strlen(kind), l;

	if (n < 10 + k || memcmp(s, "-----", 5) != 0 ||
	    memcmp(s + 5, kind, k) != 0 || memcmp(s + n - 5, "-----", 5) != 0)
		return 0;
	l = n - 10 - k;
	if (l >= cap)
		l = cap - 1;
	memcpy(label, s + 5 + k, l);
	label[l] = '\0';
	return 1;
}

static struct eng_pem_block *new_block(struct eng_pem_scan *s)
{
	struct eng_pem_block *nb =
	        OPENSSL_realloc(s->blocks, (s->n + 1) * sizeof(*nb));

	if (nb == NULL)
		return NULL;
	s->blocks = nb;
	memset(&nb[s->n], 0, sizeof(nb[s->n]));
	return &nb[s->n++];
}

int eng_pem_scan(const unsigned char *buf, size_t len, struct eng_pem_scan *s)
{
	const char *p = (const char *)buf, *end = p + len;
	struct eng_pem_block *cur = NULL;
	struct body body = {0};
	int line = 0, in_headers = 0, pending_blank = 0;

	memset(s, 0, sizeof(*s));
	if (memchr(buf, '\0', len) != NULL) {
		s->binary = 1;
		return 1;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char label[64];

		line++;
		if (n > 0 && p[n - 1] == '\r') {
			n--;
			s->crlf = 1;
		}
		if (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t') &&
		    !s->trailing_ws_line)
			s->trailing_ws_line = line;
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (cur == NULL) {
			if (marker(p, n, "BEGIN ", label, sizeof(label))) {
				if (pending_blank && s->n > 0 &&
				    !s->blank_between_line)
					s->blank_between_line = pending_blank;
				pending_blank = 0;
				cur = new_block(s);
				if (cur == NULL)
					goto oom;
				memcpy(cur->label, label, sizeof(label));
				cur->begin_line = line;
				cur->encrypted =
				        strcmp(label,
				               "ENCRYPTED PRIVATE KEY") == 0;
				in_headers = 1;
				body.len = 0;
			} else if (is_blank(p, n)) {
				if (s->n > 0 && !pending_blank)
					pending_blank = line;
			} else if (!s->outside_text_line) {
				s->outside_text_line = line;
			}
		} else if (marker(p, n, "END ", label, sizeof(label))) {
			if (strcmp(label, cur->label) != 0 || cur->bad)
				cur->bad = 1;
			else if ((cur->der = decode(&body, &cur->der_len)) ==
			         NULL)
				cur->bad = 1;
			cur = NULL;
		} else if (marker(p, n, "BEGIN ", label, sizeof(label))) {
			cur->bad = 1; /* nested BEGIN */
		} else if (in_headers && memchr(p, ':', n) != NULL) {
			if (n >= 22 &&
			    memcmp(p, "Proc-Type: 4,ENCRYPTED", 22) == 0)
				cur->encrypted = 1;
		} else if (is_blank(p, n)) {
			in_headers = 0; /* the blank line after headers */
		} else {
			in_headers = 0;
			if (!body_add(&body, p, n))
				goto oom;
		}
		p = nl ? nl + 1 : end;
	}
	if (cur != NULL) {
		cur->bad = 1;
		s->unterminated_line = cur->begin_line;
	}
	OPENSSL_free(body.b64);
	return 1;
oom:
	OPENSSL_free(body.b64);
	eng_pem_scan_free(s);
	return 0;
}

void eng_pem_scan_free(struct eng_pem_scan *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		OPENSSL_free(s->blocks[i].der);
	OPENSSL_free(s->blocks);
	memset(s, 0, sizeof(*s));
}
