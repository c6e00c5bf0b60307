-- Issue 20: a VM's graphics are VNC (the browser console) or SPICE
-- (remote-viewer with a .vv file and a one-time password); the address
-- they listen on (NULL: 127.0.0.1; others only from [console]
-- allowed_listen) and the keyboard layout QEMU gives them (NULL: QEMU's
-- default, en-us).
ALTER TABLE vms
    ADD COLUMN graphics ENUM('vnc', 'spice') NOT NULL DEFAULT 'vnc' AFTER vnc_password,
    ADD COLUMN console_listen VARCHAR(45) NULL AFTER graphics,
    ADD COLUMN console_keymap VARCHAR(8) NULL AFTER console_listen;
