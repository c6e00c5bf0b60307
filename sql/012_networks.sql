-- Virtual networks, the NICs of VMs, IP address pools and their registry
-- of allocated addresses (issue 12). libvirt holds what runs; these rows
-- hold what the portal made and handed out.

CREATE TABLE networks (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    -- libvirt's name too: the admin picks it, libvirt's rules apply
    name VARCHAR(48) NOT NULL,
    mode ENUM('nat', 'routed', 'bridge', 'isolated') NOT NULL,
    -- "a.b.c.d/n"; empty for a bridge onto a host bridge (the LAN has its own)
    cidr VARCHAR(18) NOT NULL DEFAULT '',
    dhcp_start VARCHAR(15) NOT NULL DEFAULT '',
    dhcp_end VARCHAR(15) NOT NULL DEFAULT '',
    -- DNS servers the network's dnsmasq forwards to, comma separated
    dns VARCHAR(255) NOT NULL DEFAULT '',
    domain VARCHAR(64) NOT NULL DEFAULT '',
    -- the host bridge of a bridge network
    bridge VARCHAR(15) NOT NULL DEFAULT '',
    autostart TINYINT(1) NOT NULL DEFAULT 1,
    -- a network the portal found (libvirt's "default"): shown and used,
    -- never changed or removed from here
    builtin TINYINT(1) NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    UNIQUE KEY networks_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- libvirt's default NAT network stays every VM's default.
INSERT INTO networks (name, mode, cidr, dhcp_start, dhcp_end, builtin)
    VALUES ('default', 'nat', '192.168.122.0/24', '192.168.122.2', '192.168.122.254', 1);

-- A VM's NICs, in order. A VM without rows here has one NIC on vms.network.
CREATE TABLE vm_nics (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    vm_id BIGINT UNSIGNED NOT NULL,
    network_id BIGINT UNSIGNED NOT NULL,
    position INT UNSIGNED NOT NULL,
    mac CHAR(17) NOT NULL,
    UNIQUE KEY vm_nics_mac (mac),
    UNIQUE KEY vm_nics_position (vm_id, position),
    KEY vm_nics_network (network_id),
    CONSTRAINT vm_nics_vm_fk FOREIGN KEY (vm_id) REFERENCES vms (id) ON DELETE CASCADE,
    CONSTRAINT vm_nics_network_fk FOREIGN KEY (network_id) REFERENCES networks (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- An IP address pool on a network. Addresses are IPv4, kept as text for
-- reading and as numbers (ip_num) for ranges and "next free".
CREATE TABLE ip_pools (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(64) NOT NULL,
    network_id BIGINT UNSIGNED NOT NULL,
    cidr VARCHAR(18) NOT NULL,
    range_start VARCHAR(15) NOT NULL,
    range_end VARCHAR(15) NOT NULL,
    range_start_num INT UNSIGNED NOT NULL,
    range_end_num INT UNSIGNED NOT NULL,
    gateway VARCHAR(15) NOT NULL DEFAULT '',
    dns VARCHAR(255) NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    UNIQUE KEY ip_pools_name (name),
    KEY ip_pools_network (network_id),
    CONSTRAINT ip_pools_network_fk FOREIGN KEY (network_id) REFERENCES networks (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The registry: one row per address handed out, unique per pool; an
-- address of a deleted VM goes with it.
CREATE TABLE ip_allocations (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    pool_id BIGINT UNSIGNED NOT NULL,
    ip VARCHAR(15) NOT NULL,
    ip_num INT UNSIGNED NOT NULL,
    vm_id BIGINT UNSIGNED NOT NULL,
    nic_id BIGINT UNSIGNED NOT NULL,
    created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    UNIQUE KEY ip_allocations_ip (pool_id, ip_num),
    UNIQUE KEY ip_allocations_nic (pool_id, nic_id),
    KEY ip_allocations_vm (vm_id),
    CONSTRAINT ip_allocations_pool_fk FOREIGN KEY (pool_id) REFERENCES ip_pools (id) ON DELETE CASCADE,
    CONSTRAINT ip_allocations_vm_fk FOREIGN KEY (vm_id) REFERENCES vms (id) ON DELETE CASCADE,
    CONSTRAINT ip_allocations_nic_fk FOREIGN KEY (nic_id) REFERENCES vm_nics (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Addresses of a pool seen in use by something the registry does not
-- know (kind 'unknown'), or by two machines at once ('duplicate'), as the
-- helper's last sweep found them. Never handed out while listed here.
CREATE TABLE ip_conflicts (
    pool_id BIGINT UNSIGNED NOT NULL,
    ip VARCHAR(15) NOT NULL,
    ip_num INT UNSIGNED NOT NULL,
    kind ENUM('unknown', 'duplicate') NOT NULL,
    -- where it was seen: lease, static_host, agent, neighbour (comma separated)
    sources VARCHAR(128) NOT NULL,
    macs VARCHAR(255) NOT NULL DEFAULT '',
    seen_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (pool_id, ip_num),
    CONSTRAINT ip_conflicts_pool_fk FOREIGN KEY (pool_id) REFERENCES ip_pools (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Storage pools the portal made in libvirt. Volumes are libvirt's alone
-- (listed from it); the row holds what was asked, for redefining and for
-- the checks (paths under [storage] allowed_roots).
CREATE TABLE storage_pools (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(48) NOT NULL,
    type ENUM('dir', 'logical', 'netfs') NOT NULL,
    -- dir, netfs: the directory (mount point); logical: /dev/<vg>
    path VARCHAR(255) NOT NULL,
    -- netfs: the NFS server and its export; logical: the volume group and its device
    source_host VARCHAR(255) NOT NULL DEFAULT '',
    source_path VARCHAR(255) NOT NULL DEFAULT '',
    source_name VARCHAR(64) NOT NULL DEFAULT '',
    autostart TINYINT(1) NOT NULL DEFAULT 1,
    created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    UNIQUE KEY storage_pools_name (name)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
