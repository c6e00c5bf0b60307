#include "install_form.h"

#include <crypt.h>
#include <glib.h>
#include <libssh/libssh.h>
#include <string.h>

#include "db.h"
#include "i18n.h"
#include "rbac.h"
#include "yaml_doc.h"

static const char *const install_types[] = { "cloud-init", "kickstart", "preseed", NULL };
static const char *const after_choices[] = { "start", "wait", NULL };

const struct field install_fields[] = {
    { "type", FIELD_ENUM, true, 0, 0, install_types },
    { "hostname", FIELD_STRING, true, 1, 63, NULL },
    { "user", FIELD_STRING, false, 1, 32, NULL },
    { "password", FIELD_STRING, false, 1, 256, NULL },
    { "ssh_keys", FIELD_ARRAY, false, 0, 16, NULL },
    { "packages", FIELD_STRING_LIST, false, 0, 100, NULL },
    { "commands", FIELD_STRING_LIST, false, 0, 50, NULL },
    { "user_data", FIELD_TEXT, false, 0, 65536, NULL },
    { "after_install", FIELD_ENUM, false, 0, 0, after_choices },
    { NULL },
};

/* RFC 1123 host name: dot-separated labels of letters, digits and inner
 * hyphens. */
static bool hostname_valid(const char *name)
{
    gchar **labels = g_strsplit(name, ".", -1);
    bool ok = labels[0] != NULL;
    for (gchar **l = labels; ok && *l; l++) {
        size_t n = strlen(*l);
        ok = n >= 1 && n <= 63 && (*l)[0] != '-' && (*l)[n - 1] != '-';
        for (size_t i = 0; ok && i < n; i++)
            ok = g_ascii_isalnum((*l)[i]) || (*l)[i] == '-';
    }
    g_strfreev(labels);
    return ok;
}

/* A login name every installer and useradd accept. */
static bool user_valid(const char *name)
{
    if (!(g_ascii_islower(name[0]) || name[0] == '_') || !strcmp(name, "root"))
        return false;
    for (const char *c = name; *c; c++)
        if (!(g_ascii_islower(*c) || g_ascii_isdigit(*c) || *c == '_' || *c == '-'))
            return false;
    return true;
}

/* Debian and RPM package names (and a dnf group, @name). */
static bool package_valid(const char *name)
{
    const char *c = name[0] == '@' ? name + 1 : name;
    if (!g_ascii_isalnum(*c))
        return false;
    for (; *c; c++)
        if (!(g_ascii_isalnum(*c) || strchr(".+-_:", *c)))
            return false;
    return true;
}

bool install_ssh_key_valid(const char *line)
{
    gchar **parts = g_strsplit_set(line, " \t", 3);
    bool ok = false;
    if (parts[0] && parts[1] && *parts[1]) {
        enum ssh_keytypes_e type = ssh_key_type_from_name(parts[0]);
        ssh_key key = NULL;
        ok = type != SSH_KEYTYPE_UNKNOWN && ssh_pki_import_pubkey_base64(parts[1], type, &key) == SSH_OK &&
             ssh_key_type(key) == type;
        ssh_key_free(key);
    }
    for (const char *c = line; ok && *c; c++)
        ok = (unsigned char)*c >= 0x20 && *c != 0x7f;
    g_strfreev(parts);
    return ok && g_utf8_validate(line, -1, NULL);
}

static char **string_list(json_t *list)
{
    size_t n = json_array_size(list), i;
    char **out = g_new0(char *, n + 1);
    json_t *item;
    json_array_foreach(list, i, item)
        out[i] = g_strdup(json_string_value(item));
    return out;
}

static char *hash_password(const char *password)
{
    char *salt = crypt_gensalt_ra("$6$", 0, NULL, 0);
    void *data = NULL;
    int size = 0;
    const char *hash = salt ? crypt_ra(password, salt, &data, &size) : NULL;
    char *out = hash && hash[0] == '$' ? g_strdup(hash) : NULL;
    free(data);
    free(salt);
    return out;
}

static int form_read(json_t *install, const char *saved_hash, struct install_form *form,
                     struct err *err);

int install_form_read(json_t *install, struct install_form *form, struct err *err)
{
    return form_read(install, NULL, form, err);
}

/* install's fields, each error named as the client wrote it. */
static int validate(json_t *install, struct err *err)
{
    if (input_validate(install, install_fields, err) == 0)
        return 0;
    if (err->field[0] && strncmp(err->field, "install.", 8)) {
        char field[sizeof err->field + 8];
        snprintf(field, sizeof field, "install.%s", err->field);
        g_strlcpy(err->field, field, sizeof err->field);
    }
    return -1;
}

int install_form_resolve(json_t *install, long long config_id, const struct user *user,
                         struct install_form *form, struct err *err)
{
    memset(form, 0, sizeof *form);
    if (!config_id)
        return validate(install, err) < 0 ? -1 : form_read(install, NULL, form, err);
    struct db_rows *rows = db_query("SELECT owner_id, shared, body FROM install_configs WHERE id = ?",
                                    DB_INT(config_id));
    if (!rows)
        return err_set(err, 503, "database_unavailable", NULL, _("The database is not available."));
    json_t *body = rows->nrows == 1 && (db_cell_int(rows, 0, 1, 0) ||
                                        rbac_may_touch(user, db_cell_int(rows, 0, 0, 0)))
                       ? json_loads(db_cell(rows, 0, 2), 0, NULL)
                       : NULL;
    db_rows_free(rows);
    if (!json_is_object(body)) {
        json_decref(body);
        return err_set(err, 404, "unknown_install_config", "install_config_id",
                       _("There is no such install config."));
    }
    char *hash = g_strdup(json_string_value(json_object_get(body, "password_hash")));
    json_object_del(body, "password_hash");
    if (json_is_object(install))
        json_object_update(body, install);
    if (json_object_get(body, "password")) {   /* a new password replaces the saved one */
        g_free(hash);
        hash = NULL;
    }
    int rc = validate(body, err) < 0 ? -1 : form_read(body, hash, form, err);
    g_free(hash);
    json_decref(body);
    return rc;
}

json_t *install_config_body(json_t *install, const struct install_form *form)
{
    json_t *body = json_deep_copy(install);
    json_object_del(body, "password");
    if (form->password_hash)
        json_object_set_new(body, "password_hash", json_string(form->password_hash));
    return body;
}

static int form_read(json_t *install, const char *saved_hash, struct install_form *form,
                     struct err *err)
{
    memset(form, 0, sizeof *form);
    g_strlcpy(form->type, json_string_value(json_object_get(install, "type")), sizeof form->type);
    form->hostname = g_strdup(json_string_value(json_object_get(install, "hostname")));
    if (!hostname_valid(form->hostname))
        return err_set(err, 422, "invalid_hostname", "install.hostname",
                       _("A host name has letters, digits and hyphens, in labels separated by dots."));
    const char *user = json_string_value(json_object_get(install, "user"));
    if (user && !user_valid(user))
        return err_set(err, 422, "invalid_user", "install.user",
                       _("A user name starts with a small letter and has small letters, digits, _ and - (not root)."));
    form->user = g_strdup(user);
    const char *password = json_string_value(json_object_get(install, "password"));
    if (saved_hash && *saved_hash == '$')
        form->password_hash = g_strdup(saved_hash);
    if ((password || form->password_hash) && !user)
        return err_set(err, 422, "password_needs_user", "install.password",
                       _("A password is for the user the install makes: give a user name too."));
    if (password && !(form->password_hash = hash_password(password)))
        return err_set(err, 503, "crypt_failed", "install.password",
                       _("The password could not be hashed."));
    json_t *keys = json_object_get(install, "ssh_keys");
    size_t i;
    json_t *key;
    json_array_foreach(keys, i, key) {
        const char *line = json_string_value(key);
        if (!line || strlen(line) > 16384 || !install_ssh_key_valid(line))
            return err_set(err, 422, "invalid_ssh_key", "install.ssh_keys",
                           _("SSH key %zu is not an OpenSSH public key (type, key, comment)."), i + 1);
    }
    if (json_array_size(keys) && !user && strcmp(form->type, "cloud-init"))
        return err_set(err, 422, "keys_need_user", "install.ssh_keys",
                       _("SSH keys are for the user the install makes: give a user name too."));
    form->ssh_keys = string_list(keys);
    form->packages = string_list(json_object_get(install, "packages"));
    for (char **p = form->packages; *p; p++)
        if (!package_valid(*p))
            return err_set(err, 422, "invalid_package", "install.packages",
                           _("\"%s\" is not a package name."), *p);
    form->commands = string_list(json_object_get(install, "commands"));
    for (char **c = form->commands; *c; c++)
        if (**c == '%')   /* it would end kickstart's %post section */
            return err_set(err, 422, "invalid_command", "install.commands",
                           _("A command may not start with %%."));
    const char *user_data = json_string_value(json_object_get(install, "user_data"));
    if (user_data && *user_data && strcmp(form->type, "cloud-init"))
        return err_set(err, 422, "user_data_not_cloud_init", "install.user_data",
                       _("User-data is for cloud-init installs only."));
    form->user_data = user_data && *user_data ? g_strdup(user_data) : NULL;
    if (!strcmp(form->type, "preseed") && (!user || !form->password_hash))
        return err_set(err, 422, "preseed_needs_user", "install.user",
                       _("A preseeded Debian install needs a user and a password."));
    const char *after = json_string_value(json_object_get(install, "after_install"));
    form->wait_after_install = after && !strcmp(after, "wait");
    return 0;
}

void install_form_clear(struct install_form *form)
{
    g_free(form->hostname);
    g_free(form->user);
    g_free(form->password_hash);
    g_strfreev(form->ssh_keys);
    g_strfreev(form->packages);
    g_strfreev(form->commands);
    g_free(form->user_data);
    memset(form, 0, sizeof *form);
}

/* --- cloud-init user-data ------------------------------------------------ */

/* The user's document's root mapping (a new document when there is no
 * user-data), or -1 with err set. */
static int user_root(const struct install_form *form, yaml_document_t *doc, struct err *err)
{
    if (!form->user_data) {
        yaml_doc_new(doc);
        return yaml_doc_map(doc);
    }
    const char *text = form->user_data;
    size_t first = strcspn(text, "\r\n");
    if (first < 13 || strncmp(text, "#cloud-config", 13) != 0 ||
        strspn(text + 13, " \t") != first - 13)
        return err_set(err, 422, "not_cloud_config", "install.user_data",
                       _("User-data must start with the line #cloud-config."));
    char problem[160];
    if (yaml_doc_load(doc, text, strlen(text), problem, sizeof problem) < 0)
        return err_set(err, 422, "invalid_yaml", "install.user_data",
                       _("The user-data is not valid YAML: %s."), problem);
    yaml_node_t *root = yaml_document_get_root_node(doc);
    if (!root) {   /* only the #cloud-config comment */
        yaml_document_delete(doc);
        yaml_doc_new(doc);
        return yaml_doc_map(doc);
    }
    if (root->type != YAML_MAPPING_NODE) {
        yaml_document_delete(doc);
        return err_set(err, 422, "invalid_cloud_config", "install.user_data",
                       _("The user-data must be a mapping of cloud-config keys."));
    }
    return 1;   /* the root node's id */
}

/* The list under key of map, made when missing; -1 when key holds
 * something else (the user's own value, which we do not overwrite). */
static int list_at(yaml_document_t *doc, int map, const char *key)
{
    int id = yaml_doc_get(doc, map, key);
    if (!id) {
        id = yaml_doc_seq(doc);
        yaml_doc_set(doc, map, key, id);
        return id;
    }
    yaml_node_t *node = yaml_document_get_node(doc, id);
    return node->type == YAML_SEQUENCE_NODE ? id : -1;
}

static int append_strings(yaml_document_t *doc, int map, const char *key, char **items)
{
    if (!items || !*items)
        return 0;
    int seq = list_at(doc, map, key);
    if (seq < 0)
        return -1;
    for (char **s = items; *s; s++)
        yaml_doc_append(doc, seq, yaml_doc_str(doc, *s));
    return 0;
}

static int add_user(const struct install_form *form, yaml_document_t *doc, int root)
{
    bool had = yaml_doc_get(doc, root, "users") != 0;
    int users = list_at(doc, root, "users");
    if (users < 0)
        return -1;
    if (!had)   /* the image's own default user stays */
        yaml_doc_append(doc, users, yaml_doc_str(doc, "default"));
    int user = yaml_doc_map(doc);
    yaml_doc_set(doc, user, "name", yaml_doc_str(doc, form->user));
    yaml_doc_set(doc, user, "shell", yaml_doc_str(doc, "/bin/bash"));
    yaml_doc_set(doc, user, "sudo", yaml_doc_str(doc, "ALL=(ALL) NOPASSWD:ALL"));
    if (form->password_hash) {
        yaml_doc_set(doc, user, "lock_passwd", yaml_doc_bool(doc, 0));
        yaml_doc_set(doc, user, "passwd", yaml_doc_str(doc, form->password_hash));
    }
    if (form->ssh_keys && *form->ssh_keys)
        append_strings(doc, user, "ssh_authorized_keys", form->ssh_keys);
    yaml_doc_append(doc, users, user);
    return 0;
}

static char *render_user_data(const struct install_form *form, struct err *err)
{
    yaml_document_t doc;
    int root = user_root(form, &doc, err);
    if (root < 0)
        return NULL;
    yaml_doc_set(&doc, root, "hostname", yaml_doc_str(&doc, form->hostname));
    const char *clash = NULL;
    if (form->user && add_user(form, &doc, root) < 0)
        clash = "users";
    else if (!form->user && append_strings(&doc, root, "ssh_authorized_keys", form->ssh_keys) < 0)
        clash = "ssh_authorized_keys";
    else if (append_strings(&doc, root, "packages", form->packages) < 0)
        clash = "packages";
    else if (append_strings(&doc, root, "runcmd", form->commands) < 0)
        clash = "runcmd";
    if (clash) {
        yaml_document_delete(&doc);
        err_set(err, 422, "invalid_cloud_config", "install.user_data",
                _("The user-data's \"%s\" is not a list, so the form's values cannot be added to it."),
                clash);
        return NULL;
    }
    char *text = yaml_doc_dump(&doc, "#cloud-config\n");
    if (!text)
        err_set(err, 422, "invalid_cloud_config", "install.user_data",
                _("The user-data cannot be written back as YAML."));
    return text;
}

/* --- kickstart ------------------------------------------------------------ */

/* pykickstart splits each command line with shlex (POSIX rules), which is
 * what g_shell_quote's single quotes are for. */
static char *render_kickstart(const struct install_form *form)
{
    GString *ks = g_string_new("# Kickstart file written by VMManager\n"
                               "text\nlang en_US.UTF-8\nkeyboard us\ntimezone UTC --utc\n");
    gchar *host = g_shell_quote(form->hostname);
    g_string_append_printf(ks, "network --bootproto=dhcp --hostname=%s --activate\n", host);
    g_free(host);
    g_string_append(ks, "rootpw --lock\n");
    if (form->user) {
        g_string_append_printf(ks, "user --name=%s --groups=wheel", form->user);
        if (form->password_hash) {
            gchar *hash = g_shell_quote(form->password_hash);
            g_string_append_printf(ks, " --iscrypted --password=%s", hash);
            g_free(hash);
        }
        g_string_append_c(ks, '\n');
        for (char **k = form->ssh_keys; k && *k; k++) {
            gchar *key = g_shell_quote(*k);
            g_string_append_printf(ks, "sshkey --username=%s %s\n", form->user, key);
            g_free(key);
        }
    }
    g_string_append(ks, "zerombr\nclearpart --all --initlabel\nautopart\nbootloader\n"
                        "firstboot --disabled\npoweroff\n\n%packages\n@core\n");
    for (char **p = form->packages; p && *p; p++)
        g_string_append_printf(ks, "%s\n", *p);
    g_string_append(ks, "%end\n");
    if (form->commands && *form->commands) {
        g_string_append(ks, "\n%post\n");
        for (char **c = form->commands; *c; c++)
            g_string_append_printf(ks, "%s\n", *c);
        g_string_append(ks, "%end\n");
    }
    return g_string_free(ks, FALSE);
}

/* --- preseed -------------------------------------------------------------- */

/* A preseed value runs to the end of its line; what the guest runs and
 * writes goes through base64 so no character of it needs quoting. */
static void late_command(GString *sh, const char *script)
{
    gchar *b64 = g_base64_encode((const guchar *)script, strlen(script));
    g_string_append_printf(sh, "%sin-target sh -c \"echo %s | base64 -d | sh\"", sh->len ? "; " : "", b64);
    g_free(b64);
}

static char *render_preseed(const struct install_form *form)
{
    GString *p = g_string_new("# Debian preseed file written by VMManager\n");
    g_string_append(p,
        "d-i debian-installer/locale string en_US.UTF-8\n"
        "d-i keyboard-configuration/xkb-keymap select us\n"
        "d-i netcfg/choose_interface select auto\n");
    g_string_append_printf(p, "d-i netcfg/get_hostname string %s\n", form->hostname);
    g_string_append_printf(p, "d-i netcfg/hostname string %s\n", form->hostname);
    g_string_append(p, "d-i netcfg/get_domain string\n"
                       "d-i passwd/root-login boolean false\n");
    g_string_append_printf(p, "d-i passwd/user-fullname string %s\n", form->user);
    g_string_append_printf(p, "d-i passwd/username string %s\n", form->user);
    g_string_append_printf(p, "d-i passwd/user-password-crypted password %s\n",
                           form->password_hash);
    g_string_append(p,
        "d-i clock-setup/utc boolean true\n"
        "d-i time/zone string UTC\n"
        "d-i partman-auto/method string regular\n"
        "d-i partman-auto/choose_recipe select atomic\n"
        "d-i partman-partitioning/confirm_write_new_label boolean true\n"
        "d-i partman/choose_partition select finish\n"
        "d-i partman/confirm boolean true\n"
        "d-i partman/confirm_nooverwrite boolean true\n"
        "d-i apt-setup/cdrom/set-first boolean false\n"
        "tasksel tasksel/first multiselect standard, ssh-server\n");
    if (form->packages && *form->packages) {
        gchar *list = g_strjoinv(" ", form->packages);
        g_string_append_printf(p, "d-i pkgsel/include string %s\n", list);
        g_free(list);
    }
    GString *late = g_string_new("");
    if (form->ssh_keys && *form->ssh_keys) {
        GString *keys = g_string_new("");
        for (char **k = form->ssh_keys; *k; k++)
            g_string_append_printf(keys, "%s\n", *k);
        gchar *b64 = g_base64_encode((const guchar *)keys->str, keys->len);
        gchar *script = g_strdup_printf(
            "set -e; d=/home/%s/.ssh; mkdir -p $d; echo %s | base64 -d >> $d/authorized_keys; "
            "chmod 700 $d; chmod 600 $d/authorized_keys; chown -R %s: $d\n",
            form->user, b64, form->user);
        late_command(late, script);
        g_free(script);
        g_free(b64);
        g_string_free(keys, TRUE);
    }
    for (char **c = form->commands; c && *c; c++)
        late_command(late, *c);
    if (late->len)
        g_string_append_printf(p, "d-i preseed/late_command string %s\n", late->str);
    g_string_free(late, TRUE);
    g_string_append(p,
        "d-i grub-installer/only_debian boolean true\n"
        "d-i grub-installer/bootdev string default\n"
        "d-i finish-install/reboot_in_progress note\n"
        "d-i debian-installer/exit/poweroff boolean true\n");
    return g_string_free(p, FALSE);
}

char *install_form_render(const struct install_form *form, struct err *err)
{
    if (!strcmp(form->type, "cloud-init"))
        return render_user_data(form, err);
    if (!strcmp(form->type, "kickstart"))
        return render_kickstart(form);
    return render_preseed(form);
}
