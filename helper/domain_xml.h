/* Domain XML for our guests, built with libxml2's tree API: values are
 * set as text or attributes, never pasted into markup. */
#ifndef VMM_DOMAIN_XML_H
#define VMM_DOMAIN_XML_H

#include <libxml/tree.h>
#include <stdbool.h>

#define VMM_XML_NS "https://vmmanager.example/xmlns/vm/1"
#define VMM_XML_PREFIX "vmm"

/* A disk added after create (issue 17): a volume of the managed pool. */
struct disk_spec {
    const char *path;           /* inside a managed pool */
    const char *format;         /* "qcow2" or "raw" */
    const char *target;         /* "vdb", "sdb", ... */
    const char *bus;            /* "virtio", "scsi" or "sata" */
    const char *cache;          /* NULL or "default": QEMU's own */
};

#define DOMAIN_MAX_NICS 8
#define DOMAIN_MEMORY_SLOTS 8

/* One NIC of a guest (issue 12: VMs pick their networks). */
struct domain_nic {
    const char *network;        /* libvirt network name */
    const char *mac;            /* "52:54:00:..", or NULL: libvirt picks one */
    const char *model;          /* "virtio", "e1000", "rtl8139"; NULL: virtio (issue 17) */
    bool link_down;             /* the cable pulled: <link state='down'/> */
    /* <bandwidth> (issue 17): KiB/s and KiB; an average of 0: no limit
     * that way (a peak or burst then means nothing). */
    unsigned in_average, in_peak, in_burst, out_average, out_peak, out_burst;
    unsigned vlan;              /* <vlan><tag id/>; 0: untagged */
};

struct domain_spec {
    const char *name;           /* generated: vmm-<uuid prefix> */
    const char *uuid;           /* NULL: libvirt picks one */
    const char *title;          /* the user's name for it, UTF-8 */
    const char *description;
    long long vm_id;
    long long owner_id;
    const char *instance;       /* which portal installation owns it */
    int vcpus;
    long long memory_mb;
    const char *arch;           /* "x86_64" or "aarch64" */
    const char *domain_type;    /* "kvm" or "qemu" (TCG) */
    const char *cpu_model;      /* "host-passthrough", "host-model", or a model name */
    const char *disk_path;      /* inside a managed pool */
    const char *disk_format;    /* "qcow2" or "raw" */
    const char *cdrom_path;     /* NULL: an empty CD-ROM drive */
    const char *seed_path;      /* issue 18: an install seed in a second CD-ROM drive (sdz); NULL: none */
    const char *kernel;         /* issue 18: direct kernel boot (a preseeded Debian installer), */
    const char *initrd;         /*   inside a managed directory; NULL: boot from the devices */
    const char *cmdline;
    const char *network;        /* libvirt network name, when nics is empty; NULL and no nics: no NIC (the accelerator probe) */
    struct domain_nic nics[DOMAIN_MAX_NICS];   /* in order; n_nics 0: one NIC on network */
    int n_nics;
    const char *boot[3];        /* "hd", "cdrom", "network"; NULL-terminated */
    const char *vnc_password;   /* NULL: none; SPICE's too until a .vv sets a one-time one */
    const char *graphics;       /* "vnc" (NULL too) or "spice" (issue 20) */
    const char *listen;         /* NULL: 127.0.0.1 */
    const char *password_valid_to;   /* NULL: always; UTC "YYYY-MM-DDTHH:MM:SS" (issue 19:
                                        a past time locks a console until a one-time password) */
    const char *keymap;         /* NULL: QEMU's default */
    const char *serial_log;     /* file the serial console is copied to, or NULL */
    const char *firmware_rom;   /* aarch64: a raw firmware image run at reset instead of
                                   UEFI (the accelerator probe), or NULL */
    /* --- issue 17: hardware --- */
    const struct disk_spec *extra_disks;   /* after vda, in this order */
    int n_extra_disks;
    int max_vcpus;              /* 0: vcpus (no room to hot-add) */
    int sockets, cores, threads;   /* 0: libvirt's default topology */
    /* Room for memory hot-add (DIMMs): above memory_mb, a <maxMemory> with
     * DOMAIN_MEMORY_SLOTS slots and one NUMA cell holding memory_mb (QEMU
     * plugs DIMMs into a NUMA node). 0: memory_mb, no room. */
    long long max_memory_mb;
};

/* One <disk> element as text (free with g_free), for attaching and
 * detaching; NULL for a disk that cannot be expressed. */
char *domain_xml_disk(const struct disk_spec *disk);
/* The CD-ROM drive (sda, or the SCSI one on aarch64) holding path, or
 * empty for NULL, for virDomainUpdateDeviceFlags. */
char *domain_xml_cdrom(const char *arch, const char *path);

/* One <interface> element as text (free with g_free), for attaching,
 * updating and detaching (issue 17); NULL for a NIC that cannot be
 * expressed (no network or MAC, an unknown model). */
char *domain_xml_nic(const struct domain_nic *nic);

/* A DIMM of size_mb for NUMA node 0 (memory hot-add, issue 17), as text
 * (free with g_free); NULL for a size that is not a positive multiple of
 * 128 MiB (x86's memory block: the guest onlines whole blocks). */
char *domain_xml_dimm(long long size_mb);

/* The machine type guests of arch get ("q35", "virt"), NULL for an arch
 * we do not run. */
const char *domain_xml_machine(const char *arch);

/* The install seed's drive holding path (issue 18), as in a built domain,
 * for virDomainDetachDeviceFlags. */
char *domain_xml_seed(const char *arch, const char *path);

/* doc as UTF-8 text (free with g_free); frees doc. */
char *xml_doc_string(xmlDocPtr doc);

/* Returns the domain XML (free with g_free), or NULL for a spec that
 * cannot be expressed (unknown arch, boot device, ...). */
char *domain_xml_build(const struct domain_spec *spec);

/* Reads our metadata back from a domain's XML (or from the <vmm:vm>
 * element alone): 0, or -1 when the domain is not one of ours. instance
 * (NULL to skip) receives a strdup'd copy or NULL. */
int domain_xml_owner(const char *xml, long long *vm_id, long long *owner_id, char **instance);

/* The port of QEMU's VNC websocket in a running domain's live XML
 * (graphics type='vnc' websocket='N'), or -1 when it has none. */
int domain_xml_websocket_port(const char *xml);

/* Issue 19: the domain XML xml with its VNC graphics listening on listen
 * (127.0.0.1 or a host's address), with passwd (NULL: the one it has)
 * good until valid_to (NULL: always), as a whole document for a
 * migration's destination or persistent XML. NULL when it has no VNC
 * graphics or xml cannot be read. */
char *domain_xml_graphics_moved(const char *xml, const char *listen, const char *passwd,
                                const char *valid_to);

/* The live <graphics type='type'> element of a running domain with
 * passwd and passwdValidTo (UTC, "YYYY-MM-DDTHH:MM:SS") set, as text for
 * virDomainUpdateDeviceFlags; its port and listen address in *port and
 * *listen (g_free). NULL when the domain has no such graphics listening. */
char *domain_xml_graphics_password(const char *xml, const char *type, const char *passwd,
                                   const char *valid_to, int *port, char **listen);

/* A live VNC password change (issue 20): the <graphics type='vnc'> element
 * of the domain's persistent (inactive) XML with passwd set (and no
 * expiry), as text for virDomainUpdateDeviceFlags with AFFECT_LIVE and
 * AFFECT_CONFIG. The inactive element, not the live one: its automatic
 * ports (autoport, websocket='-1') are what libvirt accepts for the
 * running domain and what the config must keep (the live element's ports
 * would be written into it). NULL when there is no VNC graphics. */
char *domain_xml_vnc_password(const char *inactive_xml, const char *passwd);

/* Snapshots (issue 16): what keeps a domain (its inactive XML) from
 * internal snapshots. SNAPSHOT_RAW_DISK: a writable disk that is not
 * qcow2; SNAPSHOT_UEFI: UEFI firmware, whose raw pflash NVRAM rules out
 * a snapshot with memory only; -1: unreadable XML. */
enum { SNAPSHOT_OK = 0, SNAPSHOT_RAW_DISK = 1, SNAPSHOT_UEFI = 2 };
int domain_xml_snapshot_blocker(const char *xml);

/* Backups (issue 16): a writable file disk of a domain (readonly ones and
 * CD-ROMs aside), as its XML names it. */
struct domain_disk {
    char target[9];     /* vda, sdb, ... */
    char *file;         /* the source file (g_free) */
    bool qcow2;         /* else raw: no bitmap, so full backups only */
};
#define DOMAIN_MAX_DISKS 16
/* The domain's disks into out (up to max): how many, or -1 for unreadable
 * XML. Free each file with g_free. */
int domain_xml_disks(const char *xml, struct domain_disk *out, int max);

#endif
