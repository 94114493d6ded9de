/* probetarget: what the probe asks Flink for a role, derived from the
 * effective configuration. Pure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "config/conf.h"
#include "config/role.h"

enum probe_kind { PROBE_REST, PROBE_TASKMANAGER };

/* What to ask; derived from the effective configuration by probe_targets. */
struct probe_targets {
        enum probe_kind kind;
        char url[640];            /* the whole URL to GET */
        char rest_base[620];      /* PROBE_REST: "http://host:port" of this container's REST */
        char resource_id[256];    /* PROBE_TASKMANAGER */
        char leader_path[640];    /* ZooKeeper HA, relative to the session's chroot; "" none */
        char rest_address[320];   /* "//host:port": how Flink publishes this REST endpoint */
        bool leadership_unknown;  /* HA in a ZooKeeper we have no session with */
        /* PROBE_TASKMANAGER under ZooKeeper HA: ask the leading JobManager's
         * REST, read from leader_path, rather than url (which names
         * jobmanager.rpc.address, often just localhost there). */
        bool follow_leader;
};

/* Pure: what a role with configuration c asks. url_setting
 * (SUPERVISOR_PROBE_URL, may be NULL) replaces the REST base URL; zk_hosts
 * and zk_chroot describe the ZooKeeper session the supervisor holds (NULL:
 * none). Returns 0, or -EINVAL with one line in err. */
int probe_targets(const struct conf *c, enum role role, const char *url_setting, const char *zk_hosts,
                  const char *zk_chroot, struct probe_targets *ret, char *err, size_t errlen);

/* The leading REST endpoint's URL ("http://host:port") out of the leader
 * node's content (Java-serialised: a writeUTF string). Returns 0, or
 * -ENOENT when there is none, -ENAMETOOLONG when it does not fit. */
int probe_leader_url(const char *data, size_t len, char *out, size_t size);

