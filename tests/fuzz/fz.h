/*
 * What the libFuzzer targets of tests/fuzz share: the entry point's
 * prototype, a fixed clock, splitting one input into several files, a
 * NUL-terminated copy, and a scratch file for parsers that take a path.
 */
#ifndef FZ_H
#define FZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* 2027-01-01T00:00:00Z: inside the seed certificates' validity. */
#define FZ_AT ((time_t)1798761600)

/*
 * Inputs that stand for several files hold them one after another, each
 * separated from the next by this line. The corpus seeds are built so.
 */
#define FZ_SEP     "@@@@\n"
#define FZ_SEP_LEN 5

struct fz_part {
	const unsigned char *buf; /* NULL: not given */
	size_t len;
};

/*
 * Splits data at FZ_SEP into up to max parts; parts past the last one in
 * data are left "not given" (buf NULL). The last part keeps any further
 * separators. Returns the number of parts found (>= 1).
 */
static inline size_t fz_split(const uint8_t *data, size_t size,
                              struct fz_part *parts, size_t max)
{
	size_t n = 0, i;

	for (i = 0; i < max; i++) {
		parts[i].buf = NULL;
		parts[i].len = 0;
	}
	while (n < max) {
		const unsigned char *s =
		        n + 1 < max ? memmem(data, size, FZ_SEP, FZ_SEP_LEN)
		                    : NULL;

		/* never a NULL buf for a part that is there, even empty */
		parts[n].buf = size ? data : (const unsigned char *)"";
		if (s == NULL) {
			parts[n++].len = size;
			break;
		}
		parts[n++].len = (size_t)(s - data);
		size -= (size_t)(s - data) + FZ_SEP_LEN;
		data = s + FZ_SEP_LEN;
	}
	return n;
}

/* A NUL-terminated copy of len bytes (embedded NULs cut it short). */
static inline char *fz_str(const void *buf, size_t len)
{
	char *s = malloc(len + 1);

	if (s == NULL)
		abort();
	if (len)
		memcpy(s, buf, len);
	s[len] = '\0';
	return s;
}

/* The scratch file's path: "" until fz_scratch made it. */
static inline char *fz_scratch_path(void)
{
	static char path[512];

	return path;
}

static inline void fz_scratch_cleanup(void)
{
	if (fz_scratch_path()[0] != '\0')
		unlink(fz_scratch_path());
}

/*
 * For parsers that take a path: a scratch file of this process, rewritten
 * with data on every call and removed at exit. It goes in $KG_FZ_SCRATCH
 * (ci/fuzz.sh sets it), else /dev/shm (no disk write per run), else /tmp.
 */
static inline const char *fz_scratch(const char *tag, const void *data,
                                     size_t len)
{
	char *path = fz_scratch_path();
	FILE *fp;

	if (path[0] == '\0') {
		const char *dir = getenv("KG_FZ_SCRATCH");

		if (dir == NULL || dir[0] == '\0')
			dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm"
			                                    : "/tmp";
		snprintf(path, 512, "%s/kg-fz-%s-%ld", dir, tag,
		         (long)getpid());
		atexit(fz_scratch_cleanup);
	}
	fp = fopen(path, "wb");
	if (fp == NULL || (len && fwrite(data, 1, len, fp) != len) ||
	    fclose(fp) != 0) {
		perror(path);
		abort();
	}
	return path;
}

#endif
