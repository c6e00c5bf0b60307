/* vmm-ova: reads an OVA package for the helper, inside the sandbox
 * (lib/sandbox.h): as the unprivileged sandbox user, in the package's
 * private directory, under resource limits. A package is a user's tar and
 * XML; libarchive and libxml2 read it here, never in the root helper.
 *   vmm-ova PACKAGE DISK
 * writes the first disk the OVF names to DISK and prints, as one JSON
 * object on stdout, {"name", "vcpus", "memory_mb", "disk_format",
 * "disk_capacity", "disks", "firmware", "nics": [{"name", "network",
 * "model"}]} (exit 0)
 * or {"error": {"status", "code", "message"}} (exit 1). */
#include <jansson.h>
#include <stdio.h>

#include "ova.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: vmm-ova PACKAGE DISK\n");
        return 2;
    }
    struct ovf_info info;
    struct err err = { 0 };
    json_t *answer;
    int rc = ova_extract(argv[1], argv[2], &info, &err);
    if (rc < 0)
        answer = json_pack("{s:{s:i, s:s, s:s}}", "error", "status", err.status, "code", err.code,
                           "message", err.message);
    else
        answer = json_pack("{s:s%, s:I, s:I, s:s}", "name", info.name, strnlen(info.name, sizeof info.name),
                           "vcpus", (json_int_t)info.vcpus, "memory_mb", (json_int_t)info.memory_mb,
                           "disk_format", info.disk_format);
    /* A name cut inside a UTF-8 sequence is not a JSON string: go without. */
    if (!answer && rc == 0)
        answer = json_pack("{s:s, s:I, s:I, s:s}", "name", "", "vcpus", (json_int_t)info.vcpus,
                           "memory_mb", (json_int_t)info.memory_mb, "disk_format", info.disk_format);
    if (answer && rc == 0) {
        json_t *nics = json_array();
        for (int i = 0; i < info.n_nics && i < OVF_MAX_NICS; i++) {
            json_t *nic = json_pack("{s:s, s:s, s:s}", "name", info.nics[i].name, "network",
                                    info.nics[i].network, "model", info.nics[i].model);
            /* A text cut inside a UTF-8 sequence: that NIC without names. */
            json_array_append_new(nics, nic ? nic : json_pack("{s:s, s:s, s:s}", "name", "",
                                                              "network", "", "model", ""));
        }
        json_object_set_new(answer, "nics", nics);
        json_object_set_new(answer, "nic_count", json_integer(info.n_nics));
        json_object_set_new(answer, "disks", json_integer(info.n_disks));
        json_object_set_new(answer, "disk_capacity", json_integer(info.disk_capacity));
        json_object_set_new(answer, "firmware", json_string(info.firmware));
    }
    if (!answer || json_dumpf(answer, stdout, JSON_COMPACT) < 0)
        return 1;
    json_decref(answer);
    return rc < 0 ? 1 : 0;
}
