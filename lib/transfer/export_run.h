/* Runs one claimed export job: streams the rows from PostgreSQL with COPY ... TO
 * STDOUT on a connection of its own (memory stays flat whatever the size), writes CSV
 * or XLSX to a temporary name under SB_TRANSFER_DIR, and renames it into place only
 * when complete, so a half-written file is never published. Progress (and the lease)
 * is recorded on the process's main connection as it goes. */
#ifndef SB_EXPORT_RUN_H
#define SB_EXPORT_RUN_H

#include "transfer/export_store.h"

struct arena;

struct export_result {
	long long rows, bytes;
	double seconds;
	long peak_rss_kib; /* of this process, after the job */
};

/* Runs job for owner. Returns 0 when published; -1 when it failed (the job is failed
 * with a message for the user) or the lease was lost (the job is left alone). */
int export_run(struct arena *a, const struct export_job *job, const char *owner, long lease_seconds,
	       struct export_result *out);

/* Decodes one field of COPY's text format in place (\N was handled by the caller):
 * backslash escapes become their bytes. Returns the new length. */
size_t export_copy_unescape(char *s, size_t n);

#endif
