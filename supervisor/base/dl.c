/* dl: see dl.h. */
#include "base/dl.h"

#include <dlfcn.h>
#include <errno.h>

int dl_load(const char *lib, int flags, const struct dl_sym *syms, size_t n, void **ret)
{
        void *h = dlopen(lib, flags);

        *ret = NULL;
        if (!h)
                return -ENOENT;
        for (size_t i = 0; i < n; i++)
                if (!(*syms[i].slot = dlsym(h, syms[i].name))) {
                        dlclose(h);
                        return -ENOENT;
                }
        *ret = h;
        return 0;
}
