-- NICs changed after create (issue 17): a NIC's device model and link
-- state, and the hotplug state of one being added or removed. A NIC row
-- without these had the only model there was (virtio) and its link up.

ALTER TABLE vm_nics
    ADD COLUMN model ENUM('virtio', 'e1000', 'rtl8139') NOT NULL DEFAULT 'virtio' AFTER mac,
    ADD COLUMN link_state ENUM('up', 'down') NOT NULL DEFAULT 'up' AFTER model,
    -- adding: the row is written, libvirt not yet told; removing: a
    -- running guest was asked to let go and the helper waits for
    -- libvirt's device-removed event
    ADD COLUMN state ENUM('adding', 'attached', 'removing') NOT NULL DEFAULT 'attached' AFTER link_state,
    ADD COLUMN created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP();

-- Port forwards (issue 17): a host port (per protocol, once on this host)
-- led to a guest port of a NIC with a fixed address (from an IP pool) on
-- a NAT network. The helper makes its nftables table follow these rows
-- (at start, and after each change), so they outlive a restart of
-- libvirtd, the network or the host; they go with their NIC or VM.
CREATE TABLE vm_port_forwards (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    vm_id BIGINT UNSIGNED NOT NULL,
    nic_id BIGINT UNSIGNED NOT NULL,
    protocol ENUM('tcp', 'udp') NOT NULL,
    -- the host address it listens on; '' for every address of the host
    host_address VARCHAR(15) NOT NULL DEFAULT '',
    host_port SMALLINT UNSIGNED NOT NULL,
    guest_port SMALLINT UNSIGNED NOT NULL,
    created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    UNIQUE KEY vm_port_forwards_port (protocol, host_port),
    CONSTRAINT vm_port_forwards_vm_fk FOREIGN KEY (vm_id) REFERENCES vms (id) ON DELETE CASCADE,
    CONSTRAINT vm_port_forwards_nic_fk FOREIGN KEY (nic_id) REFERENCES vm_nics (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
