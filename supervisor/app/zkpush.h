/* zkpush: flink-supervisor --zk-push FILE. Validates a config document and
 * writes it to FLINK_ZK_CONFIG_PATH, creating the chroot and parent znodes,
 * with FLINK_ZK_AUTH when given (then new znodes get the creator-only ACL).
 * A command of its own, so it may block, bounded by FLINK_ZK_TIMEOUT. */
#pragma once

#include "config/settings.h"

/* Returns the exit code: 0, 2 (invalid document or setting, refused), or
 * EXIT_NO_CONFIG (ZooKeeper unreachable). */
int zkpush_run(const struct settings *set, const char *file);
