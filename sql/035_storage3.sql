-- Storage pools an administrator opens to users (issue 12): a user may
-- place a VM's disks in such a pool (POST /vms and POST /vms/{id}/disks
-- `pool`), as in the portal's own default pool; the others stay the
-- administrators'. Off for every pool made before.
ALTER TABLE storage_pools
    ADD COLUMN users_allowed TINYINT(1) NOT NULL DEFAULT 0 AFTER autostart;

-- A template an administrator imported into a storage pool of theirs
-- (issue 12; the upload's pool_id): its file is in that pool's directory,
-- and linked clones' overlays name it there as their backing file. NULL:
-- the helper's own templates pool.
ALTER TABLE templates ADD COLUMN storage_pool_id BIGINT UNSIGNED NULL AFTER file_name;
