/* The helper's libvirt connection: opened lazily, re-opened after libvirtd
 * restarts (its close callback drops it), with libvirt's default event
 * loop running in a thread of its own. */
#ifndef VMM_VIRT_H
#define VMM_VIRT_H

#include <libvirt/libvirt.h>

#include "http.h"

/* Starts the event loop thread. Call once, before virt_conn. */
int virt_init(void);
/* A referenced connection (virConnectClose it when done), or NULL with a
 * 503 libvirt_unavailable in err. */
virConnectPtr virt_conn(struct err *err);

#endif
