/*
 * kg_tmp: the temporaries a killed keygate left behind. Files are staged
 * as PATH.kgtmp.PID.XXXXXX (kg_file_stage) and renamed into place; a
 * `kill -9` between the two leaves one. A later run that writes into the
 * same directory removes those whose process is gone.
 */
#ifndef KG_TMP_H
#define KG_TMP_H

#include <stddef.h>

/*
 * Called for each stale temporary before it is removed: path is where it
 * was to go, tmp the temporary itself (both borrowed).
 */
typedef void (*kg_tmp_found)(void *arg, const char *path, const char *tmp);

/*
 * Removes from dir every PATH.kgtmp.PID.XXXXXX whose process PID is no
 * longer running (a live process, even an unrelated one that took the
 * pid, keeps its files). Returns how many were removed.
 */
size_t kg_tmp_sweep(const char *dir, kg_tmp_found cb, void *arg);

/* kg_tmp_sweep on the directory that holds path. */
size_t kg_tmp_sweep_for(const char *path, kg_tmp_found cb, void *arg);

/*
 * If name is a staged temporary's file name, its pid (> 0); else 0. On
 * success *base_len is the length of the final file name it stands for.
 */
long kg_tmp_owner(const char *name, size_t *base_len);

#endif
