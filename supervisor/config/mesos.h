/* mesos: maps the task environment that Mesos and Marathon give a
 * container onto Flink keys. Pure: the environment, the hostname and the
 * cgroup memory limit are inputs.
 *
 * Facts of the task (advertised address, ports, resource id) are set at
 * the mesos layer. Derived sizes (process memory, task slots) are set only
 * where no explicit layer (ZooKeeper, environment, -D) has set them. */
#pragma once

#include <stdint.h>

#include "config/conf.h"
#include "config/confyaml.h"
#include "config/role.h"

/* Memory the supervisor keeps back from the container for itself and the
 * shell that execs the JVM. */
#define MESOS_HEADROOM_MB 32

struct mesos_env {
        char *const *envp;         /* the whole environment: PORT_<n> lookups */
        const char *hostname;      /* this container's hostname */
        uint64_t cgroup_limit_mb;  /* 0 when unknown or unlimited */
};

/* The port to bind for the Marathon port named name ("HEALTH" for
 * PORT_HEALTH): the container port in BRIDGE networking, else the host
 * port. Returns 0, -ENOENT when there is no such port, or -EINVAL. */
int mesos_bind_port(const struct mesos_env *env, const char *name, long *ret, char *err, size_t errlen);

/* Returns 0, -EINVAL with a one-line reason in err, or -ENOMEM. */
int mesos_apply(struct conf *c, enum role role, const struct mesos_env *env, confyaml_warn_fn warn,
                void *warn_data, char *err, size_t errlen);
