/* Lifecycle events of the domains: each one syncs the VM's state
 * (vm_state_sync), and the ones worth an alert are recorded in
 * alert_events for the scheduler (scheduler/events.c): a crash (a guest
 * panic libvirt saw, or QEMU dying under it) and a stop nobody asked
 * the portal for (the guest powered itself off, or someone destroyed
 * it behind the portal). A crash also leaves its reason on the VM
 * (vms.stop_reason: guest_panic, qemu_failed) for its page and API. A
 * stop the portal asks for is announced first with lifecycle_expect_stop. */
#ifndef VMM_HELPER_LIFECYCLE_H
#define VMM_HELPER_LIFECYCLE_H

#include <libvirt/libvirt.h>

/* The libvirt lifecycle callback (virt_init). */
void lifecycle_on_event(virDomainPtr dom, int event, int detail);
/* The next stop of this domain is the portal's: no alert. Call before
 * asking libvirt to shut down or destroy it. */
void lifecycle_expect_stop(virDomainPtr dom);

#endif
