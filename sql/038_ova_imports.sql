-- Issue 19: an OVA imported as a virtual machine. The upload (kind 'vm')
-- is inspected by a job as a template is (in the sandbox, each disk judged
-- by the hostile-image rules); what it found waits here for the review
-- step, its disk staged in the helper's pool_dir/ova-imports; creating the
-- VM copies that disk into the VM's own and marks the import done.
ALTER TABLE uploads MODIFY kind ENUM('iso', 'template', 'volume', 'vm') NOT NULL;

CREATE TABLE ova_imports (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    owner_id BIGINT UNSIGNED NOT NULL,
    -- the package's own name for its virtual system
    name VARCHAR(64) NOT NULL,
    filename VARCHAR(255) NOT NULL DEFAULT '',
    vcpus INT UNSIGNED NOT NULL,
    memory_mb BIGINT UNSIGNED NOT NULL,
    firmware ENUM('bios', 'efi') NOT NULL DEFAULT 'bios',
    -- the staged disk: a file name the helper made, qcow2 or raw
    disk_file VARCHAR(64) NOT NULL,
    disk_format ENUM('qcow2', 'raw') NOT NULL,
    -- the format the package carried it in (vmdk, qcow2, raw)
    source_format VARCHAR(8) NOT NULL,
    virtual_size_bytes BIGINT UNSIGNED NOT NULL,
    -- the package's NICs: [{"name", "network", "model"}]
    nics TEXT NOT NULL,
    state ENUM('review', 'creating', 'done') NOT NULL DEFAULT 'review',
    vm_id BIGINT UNSIGNED NULL,
    created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    KEY ova_imports_owner (owner_id),
    CONSTRAINT ova_imports_owner_fk FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
