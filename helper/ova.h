/* OVA packages (a tar of an OVF descriptor and disk images), read with
 * libarchive; the OVF with libxml2. Member names are compared, never used
 * as paths. The helper never calls these itself: helper/vmm-ova does, in
 * the sandbox (lib/sandbox.h). */
#ifndef VMM_HELPER_OVA_H
#define VMM_HELPER_OVA_H

#include "http.h"

#define OVF_MAX_NICS 8

struct ovf_nic {
    char name[64];           /* its ElementName ("ethernet0") */
    char network[64];        /* the package's network it is connected to */
    char model[32];          /* its ResourceSubType ("E1000", "VmxNet3", "virtio") */
};

struct ovf_info {
    char name[65];
    long long vcpus;
    long long memory_mb;
    char disk_href[256];     /* the first disk's file in the package */
    char disk_format[16];    /* "vmdk", "qcow2" or "raw" (from the disk's format URI) */
    long long disk_capacity; /* bytes the OVF says the first disk holds (0: not said) */
    int n_disks;             /* Disk elements in the DiskSection */
    char firmware[8];        /* "bios", or "efi" when the package asks for it */
    int n_nics;              /* Ethernet adapters (ResourceType 10), at most OVF_MAX_NICS kept */
    struct ovf_nic nics[OVF_MAX_NICS];
};

/* Reads the OVF of the package at ova (it must have one) and writes its
 * first disk to disk_path. A package whose members leave it (an absolute
 * path, a ".." step) or whose OVF names a disk by a path, not a plain
 * file name, is refused; the disk is a regular member of that name. 0, or -1 with err set (422 for a bad package). */
int ova_extract(const char *ova, const char *disk_path, struct ovf_info *info, struct err *err);
/* Parses an OVF descriptor. 0 or -1 (err set). */
int ovf_parse(const char *xml, size_t len, struct ovf_info *info, struct err *err);

#endif
