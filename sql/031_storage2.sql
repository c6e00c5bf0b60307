-- The addresses each running guest really has (issue 12), as the helper's
-- address watcher last read them from libvirt (helper/addresses.h): DHCP
-- lease, guest agent, or the host's ARP table. Pages and the API read
-- them here and never wait on libvirt; a VM that stops loses its rows.
CREATE TABLE vm_addresses (
    vm_id BIGINT UNSIGNED NOT NULL,
    -- the order libvirt gave them in (leases first)
    position INT UNSIGNED NOT NULL,
    ip VARCHAR(15) NOT NULL,
    mac VARCHAR(17) NOT NULL DEFAULT '',
    source ENUM('lease', 'agent', 'arp') NOT NULL,
    seen_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (vm_id, position),
    UNIQUE KEY vm_addresses_ip (vm_id, ip),
    CONSTRAINT vm_addresses_vm_fk FOREIGN KEY (vm_id) REFERENCES vms (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A volume uploaded into an administrator's storage pool (issue 12): the
-- upload names the pool, and its name is the new volume's.
ALTER TABLE uploads MODIFY kind ENUM('iso', 'template', 'volume') NOT NULL,
    ADD COLUMN pool_id BIGINT UNSIGNED NULL AFTER visibility;

-- A VM whose first disk an administrator placed in a storage pool of
-- theirs (issue 12); NULL: the helper's own disks pool. A pool that holds
-- VM disks is not removed (the helper asks libvirt), so no foreign key.
ALTER TABLE vms ADD COLUMN storage_pool_id BIGINT UNSIGNED NULL AFTER disk_gb;

-- A disk added to a VM in an administrator's storage pool (issue 12);
-- NULL: the helper's own disks pool.
ALTER TABLE vm_disks ADD COLUMN storage_pool_id BIGINT UNSIGNED NULL AFTER file_name;
