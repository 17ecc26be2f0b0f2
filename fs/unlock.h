/*
 * unlock: from a config to an open store — read the key file or derive
 * the key from the passphrase file, check the superblock and the key, take
 * the store's lock. Shared by recfs and recctl so both say the same thing
 * about the same problem: each error is one line for the admin.
 */
#ifndef RECFS_UNLOCK_H
#define RECFS_UNLOCK_H

#include <stddef.h>

#include "config.h"
#include "store.h"

/* Open the store cfg names (flags: STORE_READONLY or 0, see store_open).
 * 0 and *out, or -errno with a one-line message in err (no "recfs:"
 * prefix). The key is wiped before returning. */
int unlock_store(const struct recfs_config *cfg, int flags, struct store **out, char *err,
                 size_t errlen);

/* recctl init: create the key file when it does not exist (32 random
 * bytes, mode 0600) or use the passphrase file, then create the store.
 * Refuses to touch an existing store or key file (-EEXIST). */
int unlock_init(const struct recfs_config *cfg, char *err, size_t errlen);

/* Open the store's audit trail (audit_open with the store's audit subkey)
 * when cfg turns it on. 0 or -errno with a message in err. */
int unlock_audit(struct store *st, const struct recfs_config *cfg, char *err, size_t errlen);

#endif
