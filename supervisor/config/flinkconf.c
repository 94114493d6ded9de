/* flinkconf: see flinkconf.h. */
#include "config/flinkconf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* What a container needs that Flink's own defaults get wrong: listen on
 * every interface, and fixed ports that can be mapped. */
static const char *const defaults[][2] = {
        { "jobmanager.rpc.address", "localhost" },
        { "jobmanager.bind-host", "0.0.0.0" },
        { "taskmanager.bind-host", "0.0.0.0" },
        { "rest.bind-address", "0.0.0.0" },
        { "jobmanager.rpc.port", "6123" },
        { "rest.port", "8081" },
        { "blob.server.port", "6124" },
};

/* Flink 1.2-era Mesos keys: native Mesos support is gone since 1.14. */
static const char *const mesos_era_keys[] = {
        "recovery.zookeeper.path.mesos-workers",
        "high-availability.zookeeper.path.mesos-workers",
        "mesos.master",
        "mesos.initial-tasks",
        "mesos.resourcemanager.tasks.cpus",
        "mesos.resourcemanager.tasks.mem",
};

static int prefixed(char *err, size_t errlen, const char *where, int r)
{
        char inner[512];

        if (r == -EINVAL) {
                snprintf(inner, sizeof inner, "%s", err);
                snprintf(err, errlen, "%s: %s", where, inner);
        }
        return r;
}

static int apply_defines(struct conf *c, char *const *defines, size_t n, char *err, size_t errlen)
{
        for (size_t i = 0; i < n; i++) {
                char key[1024];
                const char *eq = strchr(defines[i], '=');
                size_t klen = eq ? (size_t)(eq - defines[i]) : 0;
                if (klen == 0 || klen >= sizeof key) {
                        snprintf(err, errlen, "invalid argument \"-D%.64s\": expected -Dkey=value", defines[i]);
                        return -EINVAL;
                }
                memcpy(key, defines[i], klen);
                key[klen] = '\0';
                int r = conf_set(c, key, eq + 1, CONF_SRC_ARG);
                if (r < 0)
                        return r;
        }
        return 0;
}

static void drop_mesos_era_keys(struct conf *c, confyaml_warn_fn warn, void *warn_data)
{
        for (size_t i = 0; i < sizeof mesos_era_keys / sizeof mesos_era_keys[0]; i++) {
                if (conf_remove(c, mesos_era_keys[i]) == 0 && warn) {
                        char msg[256];
                        snprintf(msg, sizeof msg, "%s has no effect since Flink 1.14 removed native Mesos support: dropped (run TaskManagers as a Marathon app)",
                                 mesos_era_keys[i]);
                        warn(msg, warn_data);
                }
        }
}

/* One variable configures both: with ZooKeeper HA and no quorum of its
 * own, Flink uses FLINK_ZK_QUORUM's hosts, and its chroot as HA root. */
static int default_ha_quorum(struct conf *c, const char *hosts, const char *chroot)
{
        const char *ha = conf_get(c, "high-availability.type");
        int r = 0;

        if (!ha)
                ha = conf_get(c, "high-availability");
        if (!ha || strcmp(ha, "zookeeper") != 0 || conf_get(c, "high-availability.zookeeper.quorum"))
                return 0;
        r = conf_set(c, "high-availability.zookeeper.quorum", hosts, CONF_SRC_ENV);
        if (r == 0 && chroot && *chroot && !conf_get(c, "high-availability.zookeeper.path.root"))
                r = conf_set(c, "high-availability.zookeeper.path.root", chroot, CONF_SRC_ENV);
        return r;
}

int flinkconf_build(struct conf *out, const struct flinkconf_input *in, confyaml_warn_fn warn,
                    void *warn_data, char *err, size_t errlen)
{
        int r = 0;

        for (size_t i = 0; i < sizeof defaults / sizeof defaults[0] && r == 0; i++)
                r = conf_set(out, defaults[i][0], defaults[i][1], CONF_SRC_DEFAULT);
        if (r == 0 && in->file_text) {
                r = in->file_legacy
                            ? confyaml_parse_legacy(out, in->file_text, in->file_len, CONF_SRC_FILE, warn, warn_data, err, errlen)
                            : confyaml_parse_standard(out, in->file_text, in->file_len, CONF_SRC_FILE, warn, warn_data, err, errlen);
                r = prefixed(err, errlen, in->file_name, r);
        }
        if (r == 0 && in->zk_text) {
                r = confyaml_parse_standard(out, in->zk_text, in->zk_len, CONF_SRC_ZOOKEEPER, warn, warn_data, err, errlen);
                r = prefixed(err, errlen, in->zk_name, r);
        }
        if (r == 0 && in->zk_role_text) {
                r = confyaml_parse_standard(out, in->zk_role_text, in->zk_role_len, CONF_SRC_ZOOKEEPER, warn, warn_data,
                                            err, errlen);
                r = prefixed(err, errlen, in->zk_role_name, r);
        }
        if (r == 0 && in->jm_rpc_address && *in->jm_rpc_address)
                r = conf_set(out, "jobmanager.rpc.address", in->jm_rpc_address, CONF_SRC_ENV);
        if (r == 0 && in->properties)
                r = confyaml_parse_properties(out, in->properties, CONF_SRC_ENV, warn, warn_data, err, errlen);
        if (r == 0)
                r = mesos_apply(out, in->role, &in->mesos, warn, warn_data, err, errlen);
        if (r == 0)
                r = apply_defines(out, in->defines, in->n_defines, err, errlen);
        if (r == 0)
                drop_mesos_era_keys(out, warn, warn_data);
        if (r == 0 && in->zk_hosts)
                r = default_ha_quorum(out, in->zk_hosts, in->zk_chroot);
        return r;
}
