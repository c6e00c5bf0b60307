-- Issue 19, placement: a host that is disabled keeps its VMs (they run,
-- migrate, stop as before) but new VMs are not placed on it, neither
-- automatically nor when asked for.
ALTER TABLE hosts
    ADD COLUMN enabled BOOLEAN NOT NULL DEFAULT TRUE AFTER uri;
