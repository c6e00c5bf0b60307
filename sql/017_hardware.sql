-- Hardware a VM gets after it is made (issue 17): extra disks, and the
-- maxima a running machine may grow to. The first disk (vda) stays in
-- vms.disk_gb; the CD-ROM's content stays vms.iso_id.

CREATE TABLE vm_disks (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    vm_id BIGINT UNSIGNED NOT NULL,
    -- the guest's device name: vdb.. on virtio, sdb.. on scsi and sata
    target VARCHAR(8) NOT NULL,
    bus ENUM('virtio', 'scsi', 'sata') NOT NULL,
    format ENUM('qcow2', 'raw') NOT NULL DEFAULT 'qcow2',
    cache ENUM('default', 'none', 'writeback', 'writethrough', 'directsync', 'unsafe')
        NOT NULL DEFAULT 'default',
    size_gb INT UNSIGNED NOT NULL,
    -- the volume's name in the helper's disk pool; never a client path
    file_name VARCHAR(128) NOT NULL,
    -- adding: the volume is being made; removing: a running guest was
    -- asked to let go and the helper waits for libvirt's device-removed event
    state ENUM('adding', 'attached', 'removing') NOT NULL DEFAULT 'adding',
    created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    UNIQUE KEY vm_disks_target (vm_id, target),
    UNIQUE KEY vm_disks_file (file_name),
    CONSTRAINT vm_disks_vm_fk FOREIGN KEY (vm_id) REFERENCES vms (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- NULL maximum: the VM's current value (a VM made before this had no room
-- to grow). Topology: sockets x cores x threads = max_vcpus when set.
ALTER TABLE vms
    ADD COLUMN max_vcpus INT UNSIGNED NULL AFTER vcpus,
    ADD COLUMN max_memory_mb INT UNSIGNED NULL AFTER memory_mb,
    ADD COLUMN cpu_sockets INT UNSIGNED NULL AFTER max_vcpus,
    ADD COLUMN cpu_cores INT UNSIGNED NULL AFTER cpu_sockets,
    ADD COLUMN cpu_threads INT UNSIGNED NULL AFTER cpu_cores;
