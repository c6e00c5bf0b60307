-- The MD5 and SHA-256 of an upload's committed bytes, kept between PATCHes
-- (lib/digest_state.h): vmm-uploads computes them as the bytes arrive, so
-- the import after the last byte only checks the file's structure. Text
-- (base64 of OpenSSL's MD5_CTX and SHA256_CTX), '' for none.
ALTER TABLE uploads ADD COLUMN hash_state VARCHAR(512) CHARACTER SET ascii NOT NULL DEFAULT ''
    AFTER received_bytes;
