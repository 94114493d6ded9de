/* user: see user.h. */
#include "flink/user.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <unistd.h>

int user_resolve(const char *name, struct child_creds *ret, char *err, unsigned errlen)
{
        const char *want = name ? name : "flink";
        struct passwd *pw;

        if (geteuid() != 0)
                return 0;
        pw = getpwnam(want);
        if (!pw) {
                if (!name)
                        return 0;
                snprintf(err, errlen, "invalid SUPERVISOR_USER=\"%.64s\": expected an existing user", name);
                return -ENOENT;
        }
        ret->uid = pw->pw_uid;
        ret->gid = pw->pw_gid;
        ret->n_groups = (int)(sizeof ret->groups / sizeof ret->groups[0]);
        if (getgrouplist(pw->pw_name, pw->pw_gid, ret->groups, &ret->n_groups) < 0) {
                snprintf(err, errlen, "SUPERVISOR_USER=\"%.64s\" is in %d groups: expected at most %d", want, ret->n_groups,
                         NGROUPS_MAX);
                return -E2BIG;
        }
        return 1;
}
