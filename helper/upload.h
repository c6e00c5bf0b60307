/* tus uploads, the file side: vmm-uploads keeps the protocol and the rows;
 * the helper (root) owns the files. nginx writes each PATCH body to a
 * temporary file (0600, its worker's user) in [uploads] dir/incoming; the
 * helper appends it to dir/parts/<id> with copy_file_range, or renames a
 * first chunk into place, after checking its checksum. When the last byte
 * is in, an import job makes the ISO or template (import.c). */
#ifndef VMM_HELPER_UPLOAD_H
#define VMM_HELPER_UPLOAD_H

#include "ops.h"

int upload_op_create(struct op_call *call);   /* {upload_id} */
int upload_op_append(struct op_call *call);   /* {upload_id, offset, chunk, checksum_*} */
int upload_op_delete(struct op_call *call);   /* {upload_id} */

/* The part file of an upload; free() it. */
char *upload_part_path(long long id);
/* Removes an upload's part and lock files (not its row). */
void upload_files_remove(long long id);
/* Removes expired uploads (files and rows) that no request holds. */
void upload_expire(void);
/* At start: uploads whose import a previous helper left unfinished are
 * removed, and expired ones; then a thread repeats the expiry. */
void upload_startup(void);

#endif
