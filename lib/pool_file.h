/* Who may read an image file in the helper's pool. Nothing there is
 * world-readable: a file is root's, mode 0640 or 0600, and QEMU gets at
 * it through libvirt, which hands each disk (backing files and CD-ROMs
 * too) to its own user while a guest uses it. A template is also sent
 * to its downloaders by nginx (X-Accel-Redirect), so it carries an ACL
 * entry for nginx's user ([helper] file_reader, www-data): an ACL
 * survives libvirt's chown, a group would not. */
#ifndef VMM_POOL_FILE_H
#define VMM_POOL_FILE_H

#include <stdbool.h>

/* root:root; served: 0640 with "user:<file_reader>:r" in its ACL (the
 * owning group gets nothing), else 0600. 0 or -1 (errno set). */
int pool_file_protect(const char *path, bool served);

#endif
