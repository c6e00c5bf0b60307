-- aarch64 guests (issue 18): ISOs carry the architecture they boot, as
-- templates do; an upload that names none has it detected on import ('').

ALTER TABLE isos ADD COLUMN arch ENUM('x86_64', 'aarch64') NOT NULL DEFAULT 'x86_64' AFTER volume_label;

ALTER TABLE uploads MODIFY arch ENUM('', 'x86_64', 'aarch64') NOT NULL DEFAULT '';
