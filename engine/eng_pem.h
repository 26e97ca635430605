/*
 * eng_pem: a PEM lexer that says where a file departs from clean PEM, for
 * the gate's findings. Base64 and DER are decoded with OpenSSL.
 */
#ifndef ENG_PEM_H
#define ENG_PEM_H

#include <stddef.h>

struct eng_pem_block {
	char label[64]; /* "CERTIFICATE", "PRIVATE KEY", ... */
	int begin_line; /* 1-based */
	int encrypted;  /* Proc-Type: 4,ENCRYPTED, or ENCRYPTED PRIVATE KEY */
	int bad;        /* nested BEGIN, END mismatch, bad base64 */
	unsigned char *der; /* decoded body (OPENSSL_free), NULL if bad */
	size_t der_len;
};

struct eng_pem_scan {
	struct eng_pem_block *blocks;
	size_t n;
	int binary;             /* NUL bytes: not text at all */
	int trailing_ws_line;   /* first line with trailing blanks, or 0 */
	int outside_text_line;  /* first line of text outside blocks, or 0 */
	int blank_between_line; /* first blank line between two blocks, or 0 */
	int unterminated_line;  /* a BEGIN with no END, or 0 */
	int crlf;               /* CRLF line ends seen (allowed) */
};

/* Scans buf. Returns 0 only when out of memory. Free with _free. */
int eng_pem_scan(const unsigned char *buf, size_t len, struct eng_pem_scan *s);
void eng_pem_scan_free(struct eng_pem_scan *s);

#endif
