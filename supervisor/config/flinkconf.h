/* flinkconf: the configuration pipeline, from its inputs to the effective
 * Flink configuration. Pure: every input is a value, read by the caller.
 *
 * Layers, lowest first: built-in defaults < the distribution's conf file <
 * the ZooKeeper document < its role document < JOB_MANAGER_RPC_ADDRESS <
 * FLINK_PROPERTIES < Mesos/Marathon task environment < -Dkey=value. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config/conf.h"
#include "config/confyaml.h"
#include "config/mesos.h"
#include "config/role.h"

struct flinkconf_input {
        enum role role;
        const char *file_name;        /* for messages, e.g. "/opt/flink/conf/config.yaml" */
        const char *file_text;        /* NULL when there is no conf file */
        size_t file_len;
        bool file_legacy;             /* flink-conf.yaml rather than config.yaml */
        const char *zk_name;          /* the base znode, for messages */
        const char *zk_text;          /* its document, or NULL */
        size_t zk_len;
        const char *zk_role_name;     /* the role znode */
        const char *zk_role_text;     /* its document, or NULL */
        size_t zk_role_len;
        const char *zk_hosts;         /* FLINK_ZK_QUORUM's hosts: the HA quorum default */
        const char *zk_chroot;        /* its chroot, or "" */
        const char *jm_rpc_address;   /* JOB_MANAGER_RPC_ADDRESS, or NULL */
        const char *properties;       /* FLINK_PROPERTIES, or NULL */
        char *const *defines;         /* "key=value" */
        size_t n_defines;
        struct mesos_env mesos;
};

/* Whether c turns on ZooKeeper HA: high-availability.type, else the older
 * high-availability, is zookeeper (in any case, as Flink reads it). */
bool flinkconf_ha_zookeeper(const struct conf *c);

/* Builds *out (initialised by the caller). Returns 0, -EINVAL with one
 * line in err naming what and where, or -ENOMEM. */
int flinkconf_build(struct conf *out, const struct flinkconf_input *in, confyaml_warn_fn warn,
                    void *warn_data, char *err, size_t errlen);
