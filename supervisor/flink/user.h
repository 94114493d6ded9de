/* user: who the Flink JVM runs as. Resolved once at start-up, before any
 * child is forked: name-service lookups do not belong in a forked child. */
#pragma once

#include <stdbool.h>

#include "core/child.h"

/* When running as root: resolves name (NULL: "flink", and then only when
 * that user exists) into *ret, every supplementary group included, and
 * returns 1; returns 0 when the child stays with our user (not root, or no
 * default user), -ENOENT with a line in err when a named user does not
 * exist, -E2BIG when it is in more groups than the kernel allows. */
int user_resolve(const char *name, struct child_creds *ret, char *err, unsigned errlen);
