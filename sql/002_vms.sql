-- Templates, virtual machines and per-user quotas.

CREATE TABLE templates (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(64) NOT NULL,
    category VARCHAR(32) NOT NULL DEFAULT '',
    os VARCHAR(64) NOT NULL DEFAULT '',
    arch ENUM('x86_64', 'aarch64') NOT NULL DEFAULT 'x86_64',
    format ENUM('qcow2', 'raw') NOT NULL DEFAULT 'qcow2',
    -- the file's name inside the helper's template pool; never a client path
    file_name VARCHAR(128) NOT NULL,
    virtual_size_bytes BIGINT UNSIGNED NOT NULL,
    min_vcpus INT UNSIGNED NOT NULL DEFAULT 1,
    min_memory_mb INT UNSIGNED NOT NULL DEFAULT 64,
    min_disk_gb INT UNSIGNED NOT NULL DEFAULT 1,
    description TEXT NOT NULL,
    visibility ENUM('public', 'private') NOT NULL DEFAULT 'public',
    owner_id BIGINT UNSIGNED NULL,
    status ENUM('importing', 'ready', 'failed') NOT NULL DEFAULT 'ready',
    created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    UNIQUE KEY templates_file (file_name),
    KEY templates_owner (owner_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE vms (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    uuid CHAR(36) NOT NULL,
    -- libvirt's name: generated, so two users may both have a VM called "web"
    domain_name VARCHAR(64) NOT NULL,
    name VARCHAR(64) NOT NULL,
    description TEXT NOT NULL,
    owner_id BIGINT UNSIGNED NOT NULL,
    state ENUM('creating', 'stopped', 'running', 'paused', 'suspended', 'installing', 'error')
        NOT NULL DEFAULT 'creating',
    vcpus INT UNSIGNED NOT NULL,
    memory_mb INT UNSIGNED NOT NULL,
    disk_gb INT UNSIGNED NOT NULL,
    arch ENUM('x86_64', 'aarch64') NOT NULL DEFAULT 'x86_64',
    template_id BIGINT UNSIGNED NULL,
    clone ENUM('linked', 'full') NOT NULL DEFAULT 'linked',
    network VARCHAR(64) NOT NULL DEFAULT 'default',
    cpu_model VARCHAR(64) NOT NULL DEFAULT 'host-model',
    boot_order VARCHAR(32) NOT NULL DEFAULT 'hd,cdrom',
    autostart TINYINT(1) NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    updated_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    UNIQUE KEY vms_uuid (uuid),
    UNIQUE KEY vms_domain (domain_name),
    KEY vms_owner (owner_id),
    KEY vms_template (template_id),
    CONSTRAINT vms_owner_fk FOREIGN KEY (owner_id) REFERENCES users (id),
    CONSTRAINT vms_template_fk FOREIGN KEY (template_id) REFERENCES templates (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Limits per user; a missing row means the defaults of [quota] in the config.
CREATE TABLE quotas (
    user_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    max_vms INT UNSIGNED NOT NULL,
    max_vcpus INT UNSIGNED NOT NULL,
    max_memory_mb INT UNSIGNED NOT NULL,
    max_disk_gb INT UNSIGNED NOT NULL,
    CONSTRAINT quotas_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
