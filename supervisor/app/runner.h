/* runner: runs a Flink role. It builds the configuration, writes it for
 * Flink, starts the children through the service and, with ZooKeeper
 * (zksource), keeps the configuration in step with the documents there:
 * the children start once a valid configuration exists, and a change rolls
 * them over. */
#pragma once

#include "config/cli.h"
#include "config/role.h"
#include "config/settings.h"
#include "core/child.h"

/* Returns the supervisor's exit code; start is what children start with
 * (descriptors, directory). */
int runner_run(const struct settings *set, struct cli *cli, enum role role, const struct child_start *start);
