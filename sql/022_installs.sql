-- Automated installs (issue 18): what a VM's installer or first boot is
-- given. `config` is the rendered user-data (cloud-init), ks.cfg
-- (kickstart) or preseed.cfg (preseed): a password in it is only ever a
-- crypt(3) hash. meta_data and network_config are written by the helper
-- when it builds the seed, from the VM's NICs and their pool addresses.
CREATE TABLE vm_installs (
    vm_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    type ENUM('cloud-init', 'kickstart', 'preseed') NOT NULL,
    hostname VARCHAR(63) NOT NULL,
    config MEDIUMTEXT NOT NULL,
    meta_data TEXT NULL,
    network_config TEXT NULL,
    -- bumped when the seed is rebuilt: part of cloud-init's instance-id
    revision INT UNSIGNED NOT NULL DEFAULT 1,
    -- pending: not built yet; attached: in the second CD-ROM drive until
    -- the first boot; detached: gone from the definition
    seed_state ENUM('pending', 'attached', 'detached') NOT NULL DEFAULT 'pending',
    -- an ISO install, once the installer powered off: start from the disk,
    -- or wait stopped
    after_install ENUM('start', 'wait') NOT NULL DEFAULT 'start',
    created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    CONSTRAINT vm_installs_vm_fk FOREIGN KEY (vm_id) REFERENCES vms (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Saved install configs (the form's fields, password as a hash), a user's
-- own or shared by an administrator with everyone.
CREATE TABLE install_configs (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    owner_id BIGINT UNSIGNED NOT NULL,
    name VARCHAR(64) NOT NULL,
    shared TINYINT(1) NOT NULL DEFAULT 0,
    body JSON NOT NULL,
    created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    UNIQUE KEY install_configs_name (owner_id, name),
    CONSTRAINT install_configs_owner_fk FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
