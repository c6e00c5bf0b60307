/* A VM's graphics (issue 20): VNC, which the browser console reaches
 * through nginx, or SPICE, opened with remote-viewer from a .vv file; the
 * address QEMU listens on and the keymap. Both the programs (to refuse
 * bad input with a 4xx) and the helper (never to define anything else)
 * check with these. */
#ifndef VMM_GRAPHICS_H
#define VMM_GRAPHICS_H

#include <stdbool.h>

#define GRAPHICS_LOOPBACK "127.0.0.1"
/* Issue 19: a console password valid to this time is locked (a VM on
 * another host listens on that host's address; each console opened gets a
 * one-time password of this length, VNC's longest). */
#define GRAPHICS_LOCKED "1970-01-01T00:00:01"
#define GRAPHICS_VNC_TICKET_LEN 8

/* The values of the API's fields graphics and console_keymap. */
extern const char *const graphics_types[];
extern const char *const graphics_keymaps[];

/* "vnc" or "spice". */
bool graphics_type_valid(const char *type);
/* One of QEMU's keymaps ("en-us", "de", "fr-ch", ...). */
bool graphics_keymap_valid(const char *keymap);
/* 127.0.0.1, or an address an admin allowed in [console] allowed_listen
 * (comma separated). */
bool graphics_listen_allowed(const char *address);
/* The seconds a SPICE one-time password is good for ([console] spice_ticket_s). */
int graphics_ticket_s(void);

#endif
