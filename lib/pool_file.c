#include "pool_file.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/acl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"

int pool_file_protect(const char *path, bool served)
{
    if (chown(path, 0, 0) < 0 || chmod(path, served ? 0640 : 0600) < 0)
        return -1;
    if (!served)
        return 0;
    const char *reader = config_str("helper", "file_reader", "www-data");
    if (!getpwnam(reader)) {
        log_warn("pool file %s: no user %s to let read it ([helper] file_reader)", path, reader);
        errno = ENOENT;
        return -1;
    }
    char text[256];
    snprintf(text, sizeof text, "u::rw-,u:%s:r--,g::---,m::r--,o::---", reader);
    acl_t acl = acl_from_text(text);
    int rc = acl && acl_set_file(path, ACL_TYPE_ACCESS, acl) == 0 ? 0 : -1;
    if (rc < 0)
        log_warn("pool file %s: the ACL for %s could not be set: %m", path, reader);
    if (acl)
        acl_free(acl);
    return rc;
}
