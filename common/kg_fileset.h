/*
 * kg_fileset: several files put in place all or none (a bundle's
 * certificate, key and chain). Each is staged beside its path and
 * fsync'ed; then each existing file that --force replaces is kept as a
 * hard link (PATH.kgold.PID.XXXXXX) until every new file is in place. If
 * one rename fails, the files already replaced get their old contents
 * back and the new ones that had no predecessor go: the directory is as
 * it was.
 */
#ifndef KG_FILESET_H
#define KG_FILESET_H

#include <stddef.h>
#include <sys/types.h>

#include "common/kg_err.h"

#define KG_FILESET_MAX 4

struct kg_fileset {
	size_t n;
	int force;
	struct {
		const char *path; /* borrowed */
		const void *data; /* borrowed */
		size_t len;
		mode_t mode;
		char *tmp; /* staged */
		char *old; /* the replaced file, kept until commit ends */
		int placed;
	} f[KG_FILESET_MAX];
};

/* Checks every path, then stages every file. On failure nothing stays. */
enum kg_code kg_fileset_stage(struct kg_fileset *s, struct kg_err *err);

/* Puts every staged file in place, or none (see above). */
enum kg_code kg_fileset_commit(struct kg_fileset *s, struct kg_err *err);

/* Removes what is staged and not committed; frees. Always call it. */
void kg_fileset_clear(struct kg_fileset *s);

#endif
