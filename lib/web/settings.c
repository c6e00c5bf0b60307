#include "settings.h"

#include <string.h>

#include "config.h"
#include "db.h"

bool settings_registration_open(void)
{
    bool fallback = config_bool("auth", "registration", false);
    struct db_rows *rows = db_query("SELECT value FROM settings WHERE name = 'registration'");
    const char *value = db_cell(rows, 0, 0);
    bool open = value ? !strcmp(value, "true") : fallback;
    db_rows_free(rows);
    return open;
}

int settings_set_registration(bool open)
{
    return db_exec("INSERT INTO settings (name, value) VALUES ('registration', ?) "
                   "ON DUPLICATE KEY UPDATE value = VALUES(value), updated_at = UTC_TIMESTAMP()",
                   DB_TEXT(open ? "true" : "false"));
}
