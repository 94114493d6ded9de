/* zkcache: the last good ZooKeeper documents on disk, so a restart can
 * start from them while ZooKeeper is unreachable. One file per role,
 * written to a temp name and renamed; it records which quorum and znodes
 * it came from and is ignored for any other. */
#pragma once

#include <stddef.h>
#include <time.h>

#include "integrations/zk.h"

/* Returns 0 or -errno. */
int zkcache_save(const char *file, const char *origin, const struct zk_doc *base, const struct zk_doc *role);
/* Fills base and role (texts malloc'd) and *saved_at (when the file was
 * written) when file holds documents from origin. Returns 0, -ENOENT when
 * there is no usable cache, or -errno. */
int zkcache_load(const char *file, const char *origin, struct zk_doc *base, struct zk_doc *role, time_t *saved_at);
void zkcache_doc_free(struct zk_doc *d);
/* A deep copy; returns 0 or -ENOMEM. */
int zkcache_doc_copy(struct zk_doc *dst, const struct zk_doc *src);
