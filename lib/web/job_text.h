/* Jobs in words, for the task log, the dashboard and the VM page: what a
 * kind of job is called, in the request's language. */
#ifndef VMM_JOB_TEXT_H
#define VMM_JOB_TEXT_H

#include <stdbool.h>

/* "Verify ISO image" for "iso.verify"; an unknown kind as it is. */
const char *job_kind_label(const char *kind);
/* Whether kind is one the helper runs (for filters). */
bool job_kind_known(const char *kind);
/* The n-th known kind (NULL past the last), for filter menus. */
const char *job_kind_at(int n);

#endif
