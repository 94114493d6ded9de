/* flinkconf: see flinkconf.h. */
#include "config/flinkconf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

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

/* Flink 1.2-era Mesos keys. The worker store is gone for good: Marathon
 * is the source of truth about the TaskManagers. */
static const char *const mesos_worker_keys[] = {
        "recovery.zookeeper.path.mesos-workers",
        "high-availability.zookeeper.path.mesos-workers",
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

static void drop(struct conf *c, const char *key, const char *why, confyaml_warn_fn warn, void *warn_data)
{
        char msg[512];

        if (conf_remove(c, key) == 0 && warn) {
                snprintf(msg, sizeof msg, "%.200s %.200s: dropped", key, why);
                warn(msg, warn_data);
        }
}

/* The seed's mesos.* keys configure the appmaster's allocation (amconf);
 * for any other role they mean nothing. */
static int drop_mesos_era_keys(struct conf *c, enum role role, confyaml_warn_fn warn, void *warn_data)
{
        for (size_t i = 0; i < sizeof mesos_worker_keys / sizeof mesos_worker_keys[0]; i++)
                drop(c, mesos_worker_keys[i], "has no effect: Marathon, not a worker store, knows the TaskManagers", warn,
                     warn_data);
        if (role == ROLE_APPMASTER)
                return 0;
        for (size_t i = 0; i < c->n;) {
                char key[256];
                if (strncmp(c->entries[i].key, "mesos.", 6) != 0 || strlen(c->entries[i].key) >= sizeof key) {
                        i++;
                        continue;
                }
                snprintf(key, sizeof key, "%s", c->entries[i].key);
                drop(c, key, "configures the appmaster role's TaskManagers only", warn, warn_data);
                if (i < c->n && strcmp(c->entries[i].key, key) == 0)
                        return -EIO;
        }
        return 0;
}

bool flinkconf_ha_zookeeper(const struct conf *c)
{
        const char *ha = conf_get(c, "high-availability.type");

        if (!ha || !*ha)
                ha = conf_get(c, "high-availability");
        return ha && strcasecmp(ha, "zookeeper") == 0;
}

/* Two clusters on one ZooKeeper must not share HA state: an appmaster
 * with none of its own takes its Marathon app id (without the leading
 * slash: a path under the HA root, unique as app ids are). It hands the
 * same id to the TaskManagers it creates. */
static int default_cluster_id(struct conf *c, enum role role, const struct mesos_env *env)
{
        const char *id = NULL;

        if (role != ROLE_APPMASTER || !flinkconf_ha_zookeeper(c) || conf_get(c, "high-availability.cluster-id"))
                return 0;
        for (char *const *e = env->envp; e && *e && !id; e++)
                if (strncmp(*e, "MARATHON_APP_ID=", 16) == 0)
                        id = *e + 16;
        while (id && *id == '/')
                id++;
        return id && *id ? conf_set(c, "high-availability.cluster-id", id, CONF_SRC_MESOS) : 0;
}

/* One variable configures both: with ZooKeeper HA and no quorum of its
 * own, Flink uses FLINK_ZK_QUORUM's hosts, and its chroot as HA root. */
static int default_ha_quorum(struct conf *c, const char *hosts, const char *chroot)
{
        int r = 0;

        if (!flinkconf_ha_zookeeper(c) || conf_get(c, "high-availability.zookeeper.quorum"))
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
                r = drop_mesos_era_keys(out, in->role, warn, warn_data);
        if (r == 0 && in->zk_hosts)
                r = default_ha_quorum(out, in->zk_hosts, in->zk_chroot);
        if (r == 0)
                r = default_cluster_id(out, in->role, &in->mesos);
        return r;
}
