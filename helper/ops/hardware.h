/* Hardware changed after create (issue 17): disks added, grown and
 * removed, the CD-ROM's ISO, vCPUs and memory, live where the guest allows
 * it. The program writes the row (quota checked in its transaction) and
 * names only ids; these ops make libvirt follow, live and in the stored
 * definition, and put nothing in either unless both can have it. */
#ifndef VMM_HELPER_OPS_HARDWARE_H
#define VMM_HELPER_OPS_HARDWARE_H

#include <libvirt/libvirt.h>
#include <stdbool.h>

#include "../domain_xml.h"
#include "../ops.h"

/* The op table of this resource ({NULL}-terminated); ops.c looks names
 * up here after its own. */
extern const struct op hardware_ops[];

/* At start: registers for libvirt's device-removed events (call before
 * the first connection) and settles disks a previous helper left half
 * added or half removed. */
void hardware_init(void);

/* Fills spec's extra disks, vCPU maximum and topology from the VM's rows;
 * the returned holder owns what spec points at (free it after building). */
struct hardware_spec;
struct hardware_spec *hardware_spec_fill(long long vm_id, const char *domain_name,
                                         struct domain_spec *spec);
void hardware_spec_free(struct hardware_spec *hw);

/* Deletes the volumes of the VM's extra disks (for vm.delete with its
 * disks); 0, or -1 with err set. */
int hardware_delete_volumes(virConnectPtr conn, long long vm_id, struct err *err);

/* Whether libvirt's last error is its tc command failing: a kernel that
 * cannot shape a NIC's bandwidth (no sch_sfq or act_police). */
bool hw_error_is_tc(void);

#endif
