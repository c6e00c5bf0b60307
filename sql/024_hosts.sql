-- Many hosts (issue 19): the libvirt hosts the helper drives, and the host
-- each VM is on. Host 1 is the helper own host ([helper] libvirt_uri: its uri
-- is empty here so the config stays the one place that names it).
CREATE TABLE hosts (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(64) NOT NULL,
    uri VARCHAR(255) NOT NULL,
    -- where the QEMU of other hosts sends migration data to this host (tcp://ADDR),
    -- NULL: the host part of uri
    migration_address VARCHAR(64) NULL,
    state ENUM('unknown', 'up', 'down') NOT NULL DEFAULT 'unknown',
    host_uuid CHAR(36) NULL,
    hostname VARCHAR(255) NULL,
    libvirt_version VARCHAR(32) NULL,
    cpus INT UNSIGNED NULL,
    memory_mb BIGINT UNSIGNED NULL,
    free_memory_mb BIGINT UNSIGNED NULL,
    -- accelerator for x86_64 guests from the capabilities of the host itself: kvm or qemu (TCG)
    accel VARCHAR(16) NULL,
    last_error VARCHAR(255) NULL,
    checked_at DATETIME NULL,
    created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    UNIQUE KEY hosts_name (name),
    UNIQUE KEY hosts_uri (uri)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO hosts (id, name, uri) VALUES (1, 'local', '');

ALTER TABLE vms
    ADD COLUMN host_id BIGINT UNSIGNED NOT NULL DEFAULT 1 AFTER owner_id,
    ADD KEY vms_host (host_id),
    ADD CONSTRAINT vms_host_fk FOREIGN KEY (host_id) REFERENCES hosts (id),
    -- unknown: the host of the VM does not answer (its last known state is gone)
    MODIFY state ENUM('creating', 'stopped', 'running', 'paused', 'suspended', 'installing',
                      'error', 'unknown') NOT NULL DEFAULT 'creating';
