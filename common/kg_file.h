/* kg_file: reading inputs with a size cap, writing outputs atomically. */
#ifndef KG_FILE_H
#define KG_FILE_H

#include <stddef.h>
#include <sys/types.h>

#include "common/kg_err.h"

/* Inputs larger than this are refused: room for a 100 000-certificate
 * truststore (~50 MiB), not for anything that is not certificates or keys. */
#define KG_FILE_MAX (256u * 1024 * 1024)

/*
 * Reads all of path ("-" is stdin), at most KG_FILE_MAX bytes. On success
 * *buf is new (NUL-terminated, caller frees with free()) and *len its
 * length. An unreadable path is KG_E_USAGE.
 */
enum kg_code kg_file_read(const char *path, unsigned char **buf, size_t *len,
                          struct kg_err *err);

/*
 * Writes data to path through a temporary file in the same directory:
 * written, fsync'ed, then put in place, so a reader sees the whole file or
 * none. mode is applied before any byte is written (0600 for keys).
 * Without force an existing path is not replaced (KG_E_RUNTIME). On any
 * failure nothing is left behind.
 */
enum kg_code kg_file_write_atomic(const char *path, const void *data,
                                  size_t len, mode_t mode, int force,
                                  struct kg_err *err);

/* Like kg_file_write_atomic, but checks only: can path be written? */
enum kg_code kg_file_check_writable(const char *path, int force,
                                    struct kg_err *err);

#endif
