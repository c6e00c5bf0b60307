/* What this host offers guests: CPUs, memory, accelerator, architectures
 * and machine types, from libvirt's capabilities. */
#ifndef VMM_HOST_H
#define VMM_HOST_H

#include <jansson.h>

#include "http.h"

/* {hostname, cpus, memory_mb, accel, arches: [{arch, emulator, machines}],
 * libvirt_version}, or NULL with err set. */
json_t *host_info(struct err *err);

#endif
