-- NIC bandwidth limits and VLAN tags (issue 17): libvirt's <bandwidth>
-- (average and peak in KiB/s, burst in KiB; NULL: no limit that way) and
-- <vlan><tag/></vlan> (only on Open vSwitch networks; NULL: untagged).
ALTER TABLE vm_nics
    ADD COLUMN in_average INT UNSIGNED NULL AFTER link_state,
    ADD COLUMN in_peak INT UNSIGNED NULL AFTER in_average,
    ADD COLUMN in_burst INT UNSIGNED NULL AFTER in_peak,
    ADD COLUMN out_average INT UNSIGNED NULL AFTER in_burst,
    ADD COLUMN out_peak INT UNSIGNED NULL AFTER out_average,
    ADD COLUMN out_burst INT UNSIGNED NULL AFTER out_peak,
    ADD COLUMN vlan SMALLINT UNSIGNED NULL AFTER out_burst;
