/* The automated-install form (issue 18): the `install` object of a VM
 * create, checked, and rendered as the installer's own file: cloud-init
 * user-data (merged into the user's own), an Anaconda ks.cfg or a Debian
 * preseed.cfg. The password is turned into a crypt(3) SHA-512 hash at
 * once (the one format cloud-init, Anaconda and debian-installer all
 * take); the plain text is never kept. */
#ifndef VMM_INSTALL_FORM_H
#define VMM_INSTALL_FORM_H

#include <jansson.h>
#include <stdbool.h>

#include "http.h"
#include "input.h"
#include "user.h"

struct install_form {
    char type[16];           /* "cloud-init", "kickstart" or "preseed" */
    char *hostname;
    char *user;              /* NULL: no account of our own */
    char *password_hash;     /* NULL: no password */
    char **ssh_keys;         /* NULL-terminated, each checked as an OpenSSH public key */
    char **packages;
    char **commands;
    char *user_data;         /* the user's own #cloud-config, or NULL */
    bool wait_after_install; /* an ISO install: stay stopped once installed */
};

/* The fields of `install` (for the route's table and saved configs). */
extern const struct field install_fields[];

/* Checks install (already validated against install_fields) and fills
 * form. 0, or -1 with a 4xx in err naming the field (install.<name>). */
int install_form_read(json_t *install, struct install_form *form, struct err *err);
/* The same for an install that may come from a saved config (config_id
 * > 0, which user must be allowed to use): the request's install, if any,
 * overrides the saved fields; a saved password is its hash. */
int install_form_resolve(json_t *install, long long config_id, const struct user *user,
                         struct install_form *form, struct err *err);
/* What a saved config keeps of install: its fields, the password as
 * form's hash (new reference). */
json_t *install_config_body(json_t *install, const struct install_form *form);
void install_form_clear(struct install_form *form);

/* The rendered file for form's type (g_free it), or NULL with a 4xx in
 * err: user-data that is not YAML or not #cloud-config, or that cannot be
 * merged with the form's fields. */
char *install_form_render(const struct install_form *form, struct err *err);

/* Whether line is an OpenSSH public key ("type base64 [comment]") whose
 * key libssh can read; also used for keys in the user's own user-data. */
bool install_ssh_key_valid(const char *line);

#endif
