/* tus uploads, the file side. vmm-uploads keeps the protocol and the rows
 * and writes each chunk into [uploads] dir/parts/<id>, which the helper
 * makes for it (parts/ is 0700, the programs' user's; the lock file
 * <id>.lock beside it). When the last byte is in, upload.finish starts the
 * import job (import.c), which first takes the file out of parts/ into
 * root's dir/import/ (upload_take), then checks and stores it. */
#ifndef VMM_HELPER_UPLOAD_H
#define VMM_HELPER_UPLOAD_H

#include "ops.h"

int upload_op_create(struct op_call *call);   /* {upload_id} */
int upload_op_finish(struct op_call *call);   /* {upload_id}: all bytes in -> {job_id} */
int upload_op_delete(struct op_call *call);   /* {upload_id} */

/* The part file of an upload; free() it. */
char *upload_part_path(long long id);
/* Moves the complete part (length bytes, one link, a regular file) into
 * root's dir/import/ and makes it root's: its new path (g_free), or NULL
 * with err set. From here on the programs' user cannot reach it by name. */
char *upload_take(long long id, long long length, struct err *err);
/* Removes an upload's part, lock and taken files (not its row). */
void upload_files_remove(long long id);
/* Removes expired uploads (files and rows) that no request holds. */
void upload_expire(void);
/* At start: uploads whose import a previous helper left unfinished are
 * removed, and expired ones; then a thread repeats the expiry. */
void upload_startup(void);

#endif
