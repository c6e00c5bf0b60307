/* vmm-user: account administration from the shell.
 *   vmm-user ensure-admin NAME   (password on stdin, one line)
 * creates NAME as an enabled admin, or resets an existing NAME to that. */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "login_throttle.h"
#include "password.h"
#include "user.h"

static int read_password(char *buf, size_t size)
{
    if (!fgets(buf, (int)size, stdin))
        return -1;
    buf[strcspn(buf, "\r\n")] = '\0';
    size_t n = strlen(buf);
    if (n < PASSWORD_MIN_LEN || n > PASSWORD_MAX_LEN) {
        fprintf(stderr, "vmm-user: the password must be %d to %d characters\n",
                PASSWORD_MIN_LEN, PASSWORD_MAX_LEN);
        return -1;
    }
    return 0;
}

static int ensure_admin(const char *name)
{
    char password[PASSWORD_MAX_LEN + 2], hash[PASSWORD_HASH_MAX];
    if (!username_valid(name)) {
        fprintf(stderr, "vmm-user: %s is not a valid user name\n", name);
        return 1;
    }
    if (read_password(password, sizeof password) < 0)
        return 1;
    char why[PASSWORD_REASON_MAX];
    if (!password_strong(password, name, NULL, why)) {
        fprintf(stderr, "vmm-user: %s\n", why);
        return 1;
    }
    if (password_hash(password, hash) < 0)
        return 1;
    int rc = db_exec("INSERT INTO users (username, password_hash, role, enabled) "
                     "VALUES (?, ?, 'admin', 1) ON DUPLICATE KEY UPDATE "
                     "password_hash = VALUES(password_hash), role = 'admin', enabled = 1, "
                     "failed_logins = 0, locked_until = NULL, updated_at = UTC_TIMESTAMP()",
                     DB_TEXT(name), DB_TEXT(hash));
    /* The way back in: no wrong passwords counted against the new one. */
    if (rc < 0 || login_throttle_forget(name) < 0)
        return 1;
    printf("vmm-user: %s is an enabled admin\n", name);
    return 0;
}

int main(int argc, char **argv)
{
    log_init("vmm-user");
    if (argc != 3 || strcmp(argv[1], "ensure-admin") != 0) {
        fprintf(stderr, "usage: vmm-user ensure-admin NAME  (password on stdin)\n");
        return 2;
    }
    if (config_load() < 0 || db_connect() < 0)
        return 1;
    int rc = ensure_admin(argv[2]);
    db_close();
    return rc;
}
