/* runner: runs a Flink role. It builds the configuration, writes it for
 * Flink, starts the children through the supervisor and, with ZooKeeper,
 * keeps the configuration in step with the documents there: the children
 * start once a valid configuration exists (from ZooKeeper, else from the
 * last good one on disk), and a change rolls them over. */
#pragma once

#include "config/cli.h"
#include "config/role.h"
#include "config/settings.h"

/* Exit code when ZooKeeper gave no configuration within FLINK_ZK_TIMEOUT
 * and there was no last good one: starting without the shared config could
 * start a cluster without HA, which then splits. */
#define EXIT_NO_CONFIG 112

/* Returns the supervisor's exit code. */
int runner_run(const struct settings *set, struct cli *cli, enum role role);
