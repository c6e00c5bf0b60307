/* Reconciling the database with libvirt, which is the truth about what
 * exists: reports domains of ours without a row, rows without a domain,
 * and domains we do not manage; and resolves the rows a creation left
 * behind, so that none stays stuck in `creating`. Domains are never
 * deleted here: an orphan is reported for an admin to look at. */
#ifndef VMM_RECONCILE_H
#define VMM_RECONCILE_H

#include <jansson.h>

#include "http.h"

/* {orphan_domains: [{domain, vm_id}], missing_domains: [{vm_id, name,
 * domain}], unmanaged_domains: [{domain}]}, or NULL with err set. */
json_t *reconcile_report(struct err *err);

/* Resolves what no one else will (at helper start and on an admin's
 * demand): a vm.create job still queued after [helper]
 * queued_job_expire_s was never taken up and is failed; a row in
 * `creating` without a live job is adopted when its domain exists (its
 * state is libvirt's) and otherwise removed with its half-made disk, so
 * its quota is free again (its job, if any, keeps the reason). Returns
 * {expired_jobs: [id], adopted: [{vm_id, state}], removed: [{vm_id,
 * name, domain}]}, or NULL with err set (libvirt not answering: rows are
 * then left as they are). */
json_t *reconcile_resolve(struct err *err);

/* At helper start, in a thread of its own: resolves, then logs the report. */
void reconcile_start(void);

#endif
