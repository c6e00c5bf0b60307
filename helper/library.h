/* The template library re-judged: an earlier version accepted images that
 * refer to files outside themselves (a vmdk extent, a qcow2 data file or
 * backing file elsewhere). At start the helper inspects every ready
 * template again, in the sandbox, by the rules of an upload
 * (image_inspect); one that fails them is set aside: status 'quarantined'
 * with the reason, not usable for VMs nor downloadable, until an admin
 * deletes it. */
#ifndef VMM_HELPER_LIBRARY_H
#define VMM_HELPER_LIBRARY_H

#include <stdbool.h>

#include "http.h"

/* Starts the re-inspection in a thread of its own: the helper answers
 * meanwhile. */
void library_recheck_start(void);
/* The re-inspection itself (what the thread runs); returns how many
 * templates it quarantined. */
int library_recheck(void);

/* Whether the template stored as file_name may make a VM: ready, not
 * quarantined. false with err set (409 template_quarantined, wrong_state). */
bool library_template_ready(const char *file_name, struct err *err);

/* Where template file_name is: in the directory of the storage pool an
 * administrator imported it into (pool_dir, issue 12), else (NULL or "")
 * in the helper's own templates pool. g_free it. */
char *library_template_path(const char *file_name, const char *pool_dir);

#endif
