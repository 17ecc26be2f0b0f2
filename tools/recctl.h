/*
 * recctl: the subcommands, one function each. cfg is the loaded --config
 * (NULL when none was given and the subcommand can find it from a mount
 * point); argv holds the subcommand's own arguments. They return the exit
 * status: 0 fine, 1 failed or found damage, 2 bad usage.
 */
#ifndef RECFS_RECCTL_H
#define RECFS_RECCTL_H

#include "config.h"

int recctl_status(const struct recfs_config *cfg, int argc, char **argv);
int recctl_ls(const struct recfs_config *cfg, int argc, char **argv);
int recctl_verify(const struct recfs_config *cfg, int argc, char **argv);
int recctl_rekey(const struct recfs_config *cfg, int argc, char **argv);
/* keep = 1: move into the keep folder; 0: out of it, into the root. */
int recctl_keep(const struct recfs_config *cfg, int argc, char **argv, int keep);
/* recctl audit [filters] | recctl audit verify (recctl_audit.c) */
int recctl_audit(const struct recfs_config *cfg, int argc, char **argv);

/* The recfs mount holding path: mount point and config (from the fsname
 * recfs mounts with). 0 or -ENOENT. */
int recctl_find_mount(const char *path, char *mnt, char *conf);

#endif
