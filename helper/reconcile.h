/* Reconciling the database with libvirt, which is the truth about what
 * exists: reports domains of ours without a row, rows without a domain,
 * and domains we do not manage. It reports; it never deletes. */
#ifndef VMM_RECONCILE_H
#define VMM_RECONCILE_H

#include <jansson.h>

#include "http.h"

/* {orphan_domains: [{domain, vm_id}], missing_domains: [{vm_id, name,
 * domain}], unmanaged_domains: [{domain}]}, or NULL with err set. */
json_t *reconcile_report(struct err *err);

#endif
