/* kg_file: reading inputs with a size cap, writing outputs atomically. */
#ifndef KG_FILE_H
#define KG_FILE_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/kg_err.h"

/* Staged files are named PATH.kgtmp.PID.XXXXXX (see kg_tmp.h). */
#define KG_TMP_MARK ".kgtmp."

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

/*
 * kg_file_write_atomic in two steps, for batches that write many files
 * and put them in place later (after an audit record is on disk):
 * kg_file_stage writes data to a new temporary file beside path (*tmp:
 * free()), fsync'ed if sync; kg_file_commit renames it to path, refusing
 * to replace an existing file without force, and removes it on failure;
 * kg_file_discard removes a staged file that will not be committed.
 * Files staged without sync must be made durable with kg_file_sync_fs
 * (one syncfs for a whole run) before they are committed.
 */
enum kg_code kg_file_stage(const char *path, const void *data, size_t len,
                           mode_t mode, int sync, char **tmp,
                           struct kg_err *err);
enum kg_code kg_file_sync_fs(const char *dir, struct kg_err *err);
enum kg_code kg_file_commit(const char *tmp, const char *path, int force,
                            struct kg_err *err);
void kg_file_discard(const char *tmp);

/* Blocks SIGINT, SIGTERM and SIGHUP in this thread; *old restores. */
void kg_file_hold_signals(sigset_t *old);

/*
 * An output directory: made with mode if missing; an existing one must be
 * a directory this process can write into. KG_E_RUNTIME, one message,
 * otherwise.
 */
enum kg_code kg_file_out_dir(const char *dir, mode_t mode, struct kg_err *err);

/* Like kg_file_write_atomic, but checks only: can path be written? */
enum kg_code kg_file_check_writable(const char *path, int force,
                                    struct kg_err *err);

/*
 * Caps for inputs by their job (kg_file_read_max). ACM's own limits bound
 * the gate's inputs (cli/cli_cmd_bundle.c reads those with kg_file_read_head).
 */
/* a truststore or a file of certificates: 100 000 CAs are ~50 MiB */
#define KG_CAP_TRUSTSTORE (64u * 1024 * 1024)
#define KG_CAP_CRL        (64u * 1024 * 1024)
/* a manifest: 200 000 lines of 160 bytes */
#define KG_CAP_MANIFEST (32u * 1024 * 1024)
/* a certificate, request or key, or one with its short chain */
#define KG_CAP_CERT (1u * 1024 * 1024)

/*
 * kg_file_read with a cap of max bytes: an input holding more is refused
 * (KG_E_USAGE, one message naming it, the cap and what: "a truststore")
 * as soon as its byte max+1 is read, or before reading when it is a
 * regular file that large. Memory is the input's, never more than max+1.
 */
enum kg_code kg_file_read_max(const char *path, size_t max, const char *what,
                              unsigned char **buf, size_t *len,
                              struct kg_err *err);

/*
 * The first max bytes of path, for inputs whose size is itself a finding:
 * nothing more is read. *more is 0 when that is the whole input; else the
 * input's size when it is a regular file, or SIZE_MAX (a stream: larger
 * than max, by how much unknown). Otherwise as kg_file_read.
 */
enum kg_code kg_file_read_head(const char *path, size_t max,
                               unsigned char **buf, size_t *len, size_t *more,
                               struct kg_err *err);

#endif
