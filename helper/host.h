/* What this host offers guests: CPUs, memory, accelerator, architectures
 * and machine types, from libvirt's capabilities. */
#ifndef VMM_HOST_H
#define VMM_HOST_H

#include <jansson.h>

#include "http.h"

/* {hostname, cpus, memory_mb, accel, arches: [{arch, emulator, machines}],
 * libvirt_version}, or NULL with err set. */
json_t *host_info(struct err *err);

/* The CPU models libvirt offers guests of arch under the accelerator they
 * get (virConnectGetDomainCapabilities on our machine type): {arch,
 * accel, host_passthrough, host_model, maximum (whether libvirt supports
 * each mode), models: [{name, usable, vendor}]}; NULL with err set (503
 * accel_pending while the accelerator is being decided). */
json_t *host_cpu_models(const char *arch, struct err *err);

#endif
