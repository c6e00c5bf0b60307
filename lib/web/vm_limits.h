/* The sizes a VM may have, set by an admin (GET/PATCH /settings): vCPUs,
 * memory and the main disk, each between a least and a most. Unset, they
 * are [limits] in the configuration, else the user guide's 1-16 vCPUs,
 * 512 MiB-32 GiB and 10-500 GiB. The API enforces them when a VM is
 * created or changed; the create form's min and max follow them. */
#ifndef VMM_VM_LIMITS_H
#define VMM_VM_LIMITS_H

#include <jansson.h>

#include "http.h"

struct vm_limits {
    long long min_vcpus, max_vcpus;
    long long min_memory_mb, max_memory_mb;
    long long min_disk_gb, max_disk_gb;
};

/* The limits now in force; 0 or -1 (database). */
int vm_limits_get(struct vm_limits *out);
/* Stores every limit; 0 or -1 (database). */
int vm_limits_set(const struct vm_limits *limits);
/* {"vm_min_vcpus": 1, ..., "vm_max_disk_gb": 500}: the names the API uses. */
json_t *vm_limits_json(const struct vm_limits *limits);
/* The limits with those of input (the API's names) that it carries in
 * place; 400 out_of_range naming the field when a least exceeds its most
 * (0 or -1). */
int vm_limits_merge(struct req *r, json_t *input, struct vm_limits *limits);
/* 400 out_of_range naming the limit when a size is outside the limits in
 * force (503 when the database fails); a size below 0 is not checked (not
 * given). 0 or -1. */
int vm_limits_enforce(struct req *r, long long vcpus, long long memory_mb, long long disk_gb);

/* The API's names of the six limits, for field tables. */
#define VM_LIMIT_FIELDS                                                   \
    { "vm_min_vcpus", FIELD_INT, false, 1, 1024, NULL },                  \
    { "vm_max_vcpus", FIELD_INT, false, 1, 1024, NULL },                  \
    { "vm_min_memory_mb", FIELD_INT, false, 64, 16777216, NULL },         \
    { "vm_max_memory_mb", FIELD_INT, false, 64, 16777216, NULL },         \
    { "vm_min_disk_gb", FIELD_INT, false, 1, 65536, NULL },               \
    { "vm_max_disk_gb", FIELD_INT, false, 1, 65536, NULL }

#endif
