#include "graphics.h"

#include <glib.h>
#include <string.h>

#include "config.h"

/* QEMU's keymaps (pc-bios/keymaps), which libvirt passes on as they are. */
const char *const graphics_types[] = { "vnc", "spice", NULL };

const char *const graphics_keymaps[] = {
    "ar", "bepo", "cz", "da", "de", "de-ch", "en-gb", "en-us", "es", "et", "fi", "fo", "fr",
    "fr-be", "fr-ca", "fr-ch", "hr", "hu", "is", "it", "ja", "lt", "lv", "mk", "nl", "no", "pl",
    "pt", "pt-br", "ru", "sl", "sv", "th", "tr", NULL,
};

bool graphics_type_valid(const char *type)
{
    for (int i = 0; type && graphics_types[i]; i++)
        if (!strcmp(graphics_types[i], type))
            return true;
    return false;
}

bool graphics_keymap_valid(const char *keymap)
{
    for (int i = 0; keymap && graphics_keymaps[i]; i++)
        if (!strcmp(graphics_keymaps[i], keymap))
            return true;
    return false;
}

bool graphics_listen_allowed(const char *address)
{
    if (!address)
        return false;
    if (!strcmp(address, GRAPHICS_LOOPBACK))
        return true;
    gchar **allowed = g_strsplit(config_str("console", "allowed_listen", ""), ",", -1);
    bool ok = false;
    for (gchar **a = allowed; *a && !ok; a++)
        ok = **a && !strcmp(g_strstrip(*a), address);
    g_strfreev(allowed);
    return ok;
}

int graphics_ticket_s(void)
{
    long long s = config_int("console", "spice_ticket_s", 60);
    return s >= 10 && s <= 3600 ? (int)s : 60;
}
